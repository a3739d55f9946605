"""Honest verification: calibrate and verify on different samples, judge each output on its worst one."""

import shutil

import numpy as np
import pytest

from conversions.converters.verify import compare_outputs
from tests.converters.direct import calibration
from tests.converters.test_tflite import run

pytestmark = pytest.mark.slow
NAMES = {"input_tensor_names": "input", "output_tensor_names": "Identity"}


@pytest.fixture
def cnn_input(tmp_path, cnn_pb):
    (tmp_path / "in/model").mkdir(parents=True)
    shutil.copy(cnn_pb, tmp_path / "in/model/cnn.pb")
    return tmp_path / "in"


def messages(events) -> list[str]:
    return [e.get("message", "") for e in events if e["event"] == "log"]


def test_8bit_verifies_on_every_fifth_calibration_sample_and_calibrates_on_the_rest(
    cnn_input, tmp_path
):
    calibration(cnn_input / "calibration_data", count=12)
    report, events = run(cnn_input, tmp_path / "out", quantization_precision="8bit", **NAMES)
    verification = report["verification"]
    assert verification["source"] == "held-out calibration_data (2 of 12)"
    assert verification["held_out"] == [4, 9] and verification["samples"] == 2
    logged = messages(events)
    assert "Calibrate on 10 samples in batches of 1" in logged
    assert any(m.startswith("Verify on 2 of the 12 calibration samples") for m in logged)
    row = verification["outputs"][0]
    assert row["judged_on"] == "worst sample" and row["worst_sample"] in (0, 1)
    assert 0.9 < row["worst_sample_cosine"] <= 1.0 + 1e-9


def test_verification_data_is_used_when_present(cnn_input, tmp_path):
    calibration(cnn_input / "calibration_data", count=6)
    folder = cnn_input / "verification_data"
    folder.mkdir()
    np.save(
        folder / "checks.npy",
        np.random.default_rng(5).uniform(-1, 1, size=(3, 32, 32, 3)).astype(np.float32),
    )
    report, events = run(cnn_input, tmp_path / "out", quantization_precision="8bit", **NAMES)
    assert report["verification"]["source"] == "verification_data"
    assert report["verification"]["samples"] == 3 and report["verification"]["held_out"] == []
    assert "Calibrate on 6 samples in batches of 1" in messages(events)


def test_a_single_calibration_sample_is_reused_and_the_report_says_so(cnn_input, tmp_path):
    calibration(cnn_input / "calibration_data", count=1)
    report, events = run(cnn_input, tmp_path / "out", quantization_precision="8bit", **NAMES)
    assert report["verification"]["source"] == "calibration_data (reused: fewer than 2 samples)"
    assert any("verification reuses it" in m for m in messages(events))


def test_a_bad_verification_file_is_refused_with_its_folder_name(cnn_input, tmp_path):
    from conversions.converters.base import ConversionError

    (cnn_input / "verification_data").mkdir()
    np.save(cnn_input / "verification_data/v.npy", np.zeros((2, 28, 28, 1), np.float32))
    with pytest.raises(ConversionError) as info:
        run(cnn_input, tmp_path / "out", **NAMES)
    assert "verification_data/v.npy has shape [2, 28, 28, 1] but input input takes" in str(
        info.value
    )


def test_one_broken_sample_fails_an_output_that_matches_on_average():
    reference = np.tile(np.array([[1.0, 2.0, 3.0, 4.0]]), (40, 1))
    converted = reference.copy()
    converted[17] = [4.0, 3.0, 2.0, 1.0]  # cosine 20/30 on this sample only
    (row,) = compare_outputs(["y"], [reference], [converted], "8bit")
    assert row["cosine_similarity"] > 0.99
    assert row["worst_sample"] == 17 and row["worst_sample_cosine"] == pytest.approx(20 / 30)
    assert row["verdict"] == "fail" and row["judged_on"] == "worst sample"


def test_a_non_finite_converted_output_reports_no_error_figures():
    reference = np.ones((3, 4))
    converted = reference.copy()
    converted[1, 2] = np.inf
    (row,) = compare_outputs(["y"], [reference], [converted], "16bit")
    assert row["finite"] is False and row["verdict"] == "fail"
    assert row["max_abs_error"] is None and row["mean_abs_error"] is None
