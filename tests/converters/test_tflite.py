"""The TFLite converter on real models built here, called directly (as the child process does)."""

import json
import shutil

import numpy as np
import pytest

from conversions.converters.base import ConversionError
from tests.converters.direct import calibration, convert_directly

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def saved_model_dir(tmp_path_factory, cnn_saved_model):
    root = tmp_path_factory.mktemp("sm")
    shutil.copytree(cnn_saved_model, root / "model")
    return root


def run(input_dir, output_dir, model_format="frozen_graph", **options):
    return convert_directly("tflite", input_dir, output_dir, model_format, "arm", options)


@pytest.mark.parametrize(
    "precision,limit", [("32bit", 1e-5), ("16bit", 1e-2), ("8bit-dynamic", 0.1), ("8bit", 0.1)]
)
def test_a_saved_model_converts_in_every_precision(saved_model_dir, tmp_path, precision, limit):
    if precision == "8bit":
        calibration(saved_model_dir / "calibration_data")
    report, events = run(
        saved_model_dir, tmp_path, "saved_model", quantization_precision=precision, batch_size=4
    )
    rows = report["verification"]["outputs"]
    assert rows[0]["max_abs_error"] < limit and rows[0]["cosine_similarity"] > 0.99
    assert report["verification"]["verdict"] in ("pass", "warn")
    config = json.loads((tmp_path / "model/config.json").read_text())
    if precision == "8bit":
        assert (
            config["inputs"][0]["dtype"] == "int8"
            and config["inputs"][0]["quantization"]["scale"] > 0
        )
    assert any(
        e.get("message", "").startswith("Use tag set serve and signature serving_default")
        for e in events
    )


@pytest.fixture
def cnn_input(tmp_path, cnn_pb):
    (tmp_path / "in/model").mkdir(parents=True)
    (tmp_path / "in/model/cnn.pb").write_bytes(cnn_pb.read_bytes())
    return tmp_path / "in"


def refusal_8bit(input_dir, output_dir) -> str:
    with pytest.raises(ConversionError) as info:
        run(
            input_dir,
            output_dir,
            input_tensor_names="input",
            output_tensor_names="Identity",
            quantization_precision="8bit",
        )
    return str(info.value)


def test_8bit_without_calibration_data_says_what_to_provide(cnn_input, tmp_path):
    message = refusal_8bit(cnn_input, tmp_path / "out")
    assert "folder named calibration_data" in message and "[N, 32, 32, 3] (float32)" in message


def test_calibration_arrays_of_the_wrong_shape_name_the_file(cnn_input, tmp_path):
    calibration(cnn_input / "calibration_data", shape=(28, 28, 1))
    message = refusal_8bit(cnn_input, tmp_path / "out")
    assert (
        "calibration_data/batch.npy has shape [16, 28, 28, 1] but input input takes [N, 32, 32, 3]"
        in message
    )


def test_calibration_arrays_of_the_wrong_dtype_or_with_objects_are_refused(cnn_input, tmp_path):
    folder = cnn_input / "calibration_data"
    folder.mkdir()
    np.save(folder / "batch.npy", np.array([["a"] * 3] * 32 * 32).reshape(1, 32, 32, 3))
    message = refusal_8bit(cnn_input, tmp_path / "out")
    assert "calibration_data/batch.npy holds <U1 values but input input takes float32" in message
    assert "save it with .astype('float32')" in message
    np.save(folder / "batch.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    message = refusal_8bit(cnn_input, tmp_path / "out2")
    assert "calibration_data/batch.npy cannot be read as a numeric array" in message


@pytest.mark.parametrize("shape", [[32, 32, 3], [8, 32, 32, 3]], ids=["no batch", "batch of 8"])
def test_an_input_without_a_batch_of_one_or_none_is_refused_in_plain_words(tmp_path, shape):
    """Verification runs the models sample by sample (batch 1): a first dimension fixed at 32 (no
    batch dimension) or at 8 cannot take a sample, and once failed as 'failed unexpectedly'."""
    import tensorflow as tf

    from tests.conversions.test_report_strict import freeze_function

    freeze_function(tmp_path / "in/model/net.pb", lambda x: tf.nn.relu(x) * 2.0, shape)
    with pytest.raises(ConversionError) as info:
        run(
            tmp_path / "in",
            tmp_path / "out",
            input_tensor_names="input",
            output_tensor_names="Identity",
        )
    dims = ", ".join(str(d) for d in shape[1:])
    assert str(info.value) == (
        f"The input input:0 has shape {shape}: its first dimension is read as the batch, which must "
        "be 1 or open (None) so that the original and the converted model can be run sample by "
        f"sample. Export the model with a batch dimension of 1 or None (for example [None, {dims}]) "
        "and convert again."
    )
    assert not (tmp_path / "out/model").exists()
