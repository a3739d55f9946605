"""MobileNetV2 (alpha 0.35, 96x96, random weights) through both TFLite templates, every precision;
and through the op audit, frozen and as a Keras export."""

import json

import pytest

from conversions.converters.base import ConversionError
from tests.converters.test_inspection import graph_folder
from tests.converters.test_tflite import run

pytestmark = pytest.mark.slow


def convert(folder, out, precision, model_format="frozen_graph"):
    names = (
        {}
        if model_format == "saved_model"
        else {"input_tensor_names": "input", "output_tensor_names": "Identity"}
    )
    report, _ = run(
        folder, out, model_format, quantization_precision=precision, batch_size=8, **names
    )
    return report, report["verification"]["outputs"][0]


def expected_verdict(precision, row) -> str:
    """The tolerance table of the README, for the precisions measured by cosine similarity: the
    worst sample decides."""
    passing, warning = (0.999, 0.99) if precision == "16bit" else (0.99, 0.95)
    cosine = min(row["cosine_similarity"], row["worst_sample_cosine"])
    return "pass" if cosine >= passing else "warn" if cosine >= warning else "fail"


@pytest.mark.parametrize("precision", ["32bit", "16bit", "8bit-dynamic", "8bit"])
def test_keras_initialized_mobilenet_meets_the_figures_in_every_precision(
    mobilenet_dirs, tmp_path, precision
):
    """As Keras initializes it (logits about 1e-10): 32bit under 1e-5, every precision above 0.99."""
    report, row = convert(mobilenet_dirs / "plain", tmp_path, precision)
    assert row["cosine_similarity"] > 0.99
    if precision == "32bit":
        assert row["max_abs_error"] < 1e-5
    # 8bit calibrates on 24 samples and verifies on the 4 held out of them (#4, #9, #14, #19)
    held = precision == "8bit"
    assert report["verification"]["source"] == (
        "held-out calibration_data (4 of 24)" if held else "calibration_data"
    )
    assert report["verification"]["samples"] == (4 if held else 24)
    assert report["verification"]["verdict"] == "pass"
    size = (tmp_path / "model/net.tflite").stat().st_size
    assert report["output_size_bytes"] == size
    if precision in ("8bit", "8bit-dynamic"):  # int8 weights: about a quarter of the float graph
        assert size < report["input_model"]["size_bytes"] * 0.35


@pytest.mark.parametrize(
    "precision,min_cosine",
    [("32bit", 0.999999), ("16bit", 0.999), ("8bit-dynamic", 0.99), ("8bit", 0.9)],
)
def test_mobilenet_with_realistic_activations_is_verified_honestly(
    mobilenet_dirs, tmp_path, precision, min_cosine
):
    """Batch norms set from real statistics give logits of about 1; full int8 on random weights then
    loses accuracy (cosine about 0.93, measured), and the verdict must say so, not the converter."""
    report, row = convert(mobilenet_dirs / "realistic", tmp_path, precision)
    assert row["cosine_similarity"] > min_cosine
    if precision == "32bit":
        assert row["max_abs_error"] < 1e-4 and row["verdict"] == "pass"
    else:
        assert row["verdict"] == expected_verdict(precision, row)


@pytest.mark.parametrize("precision", ["32bit", "8bit-dynamic"])
def test_saved_model_mobilenet_converts(mobilenet_dirs, tmp_path, precision):
    report, row = convert(mobilenet_dirs / "saved", tmp_path, precision, "saved_model")
    assert row["cosine_similarity"] > 0.99 and row["verdict"] == "pass"
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
    report, row = convert(mobilenet_dirs / "softmax", tmp_path, "8bit")
    assert row["cosine_similarity"] == 0.0 and row["max_abs_error"] < 0.01
    assert row["verdict"] == "fail" and report["verification"]["verdict"] == "fail"


def test_the_op_audit_passes_mobilenet_v2_frozen_and_exported(mobilenet_dirs):
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    from conversions.converters.op_audit import check_graph_def, check_saved_model

    frozen = graph_pb2.GraphDef.FromString(
        (mobilenet_dirs / "softmax/model/mobilenet.pb").read_bytes()
    )
    assert {"DepthwiseConv2dNative", "Relu6", "Softmax"} <= {n.op for n in frozen.node}
    check_graph_def(frozen)
    data = (mobilenet_dirs / "saved/model/saved_model.pb").read_bytes()
    check_saved_model(saved_model_pb2.SavedModel.FromString(data))
