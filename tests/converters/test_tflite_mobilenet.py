"""MobileNetV2 (alpha 0.35, 96x96, random weights) through both TFLite templates, every precision."""

import json

import pytest

from conversions.converters.base import ConversionError
from tests import modelkit
from tests.converters.test_inspection import graph_folder
from tests.converters.test_tflite import calibration, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def mobilenet_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("mobilenet")
    model = modelkit.mobilenet_v2(logits=True)
    modelkit.freeze(model, root / "frozen/model/mobilenet.pb")
    modelkit.save_saved_model(model, root / "saved/model")
    modelkit.freeze(modelkit.mobilenet_v2(), root / "softmax/model/mobilenet.pb")
    for folder in ("frozen", "saved", "softmax"):
        calibration(root / folder / "calibration_data", count=24, shape=(96, 96, 3))
    return root


# (precision, the largest max abs error accepted, the smallest cosine similarity accepted)
EXPECTED = [
    ("32bit", 1e-5, 0.99999),
    ("16bit", 1e-2, 0.999),
    ("8bit-dynamic", 0.05, 0.99),
    ("8bit", 0.05, 0.99),
]


@pytest.mark.parametrize("precision,max_abs,cosine", EXPECTED)
def test_frozen_mobilenet_converts_in_every_precision(
    mobilenet_dirs, tmp_path, precision, max_abs, cosine
):
    report, _ = run(
        mobilenet_dirs / "frozen",
        tmp_path,
        input_tensor_names="input",
        output_tensor_names="Identity",
        quantization_precision=precision,
        batch_size=8,
    )
    row = report["verification"]["outputs"][0]
    assert row["max_abs_error"] < max_abs and row["cosine_similarity"] > cosine
    assert report["verification"]["source"] == "calibration_data"
    assert report["verification"]["verdict"] in ("pass", "warn")
    size = (tmp_path / "model/net.tflite").stat().st_size
    assert report["output_size_bytes"] == size
    if precision in ("8bit", "8bit-dynamic"):  # int8 weights: about a quarter of the float graph
        assert size < report["input_model"]["size_bytes"] * 0.5


@pytest.mark.parametrize("precision,max_abs,cosine", [EXPECTED[0], EXPECTED[3]])
def test_saved_model_mobilenet_converts(mobilenet_dirs, tmp_path, precision, max_abs, cosine):
    report, _ = run(
        mobilenet_dirs / "saved",
        tmp_path,
        "saved_model",
        quantization_precision=precision,
        batch_size=8,
    )
    row = report["verification"]["outputs"][0]
    assert row["max_abs_error"] < max_abs and row["cosine_similarity"] > cosine
    config = json.loads((tmp_path / "model/config.json").read_text())
    assert config["inputs"][0]["shape"] == [1, 96, 96, 3]
    assert config["outputs"][0]["shape"] == [1, 1000]


def test_an_op_tflite_cannot_take_is_named_with_what_would_help(tmp_path):
    import tensorflow as tf

    graph_folder(tmp_path / "in", lambda x: tf.math.erfc(x) + 1.0, [1, 4])
    with pytest.raises(ConversionError) as info:
        run(
            tmp_path / "in", tmp_path / "out", input_tensor_names="input", output_tensor_names="out"
        )
    assert "TFLite has no builtin kernel for these operations: Erfc." in str(info.value)
    assert "No precision option helps here" in str(info.value)


def test_verification_catches_an_int8_output_that_collapsed(mobilenet_dirs, tmp_path):
    """A random-weight softmax gives every class about 0.001, under int8's step of 1/256: the int8
    model answers zeros. TFLite reports success; the verification must not."""
    report, _ = run(
        mobilenet_dirs / "softmax",
        tmp_path,
        input_tensor_names="input",
        output_tensor_names="Identity",
        quantization_precision="8bit",
        batch_size=8,
    )
    row = report["verification"]["outputs"][0]
    assert row["cosine_similarity"] == 0.0 and row["max_abs_error"] < 0.01
    assert row["verdict"] == "fail" and report["verification"]["verdict"] == "fail"
