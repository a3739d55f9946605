"""Caffe models through the converters: caffe-to-onnx and caffe-to-tensorrt (TensorRT-RTX builds on
this CPU), each verified against the NumPy reference forward pass of the original."""

import json

import numpy as np
import pytest

from conversions.converters.base import ConversionError
from tests.converters.direct import convert_directly
from tests.converters.test_caffe_onnx import every_layer, squeeze_excitation


@pytest.fixture
def caffe_input(tmp_path):
    every_layer().write(tmp_path / "in/model")
    return tmp_path / "in"


def messages(events, level=None):
    return [e["message"] for e in events if e["event"] == "log" and level in (None, e["level"])]


def test_caffe_to_onnx_writes_a_verified_onnx_model(caffe_input, tmp_path):
    report, events = convert_directly(
        "onnx", caffe_input, tmp_path / "out", "caffemodel", "gpu", {}
    )
    verification = report["verification"]
    assert verification["verdict"] == "pass" and verification["source"] == "random (seed 1)"
    assert [row["name"] for row in verification["outputs"]] == ["prob", "side"]
    assert all(row["max_abs_error"] <= 1e-4 for row in verification["outputs"])
    assert "NumPy reference forward pass of the Caffe model" in verification["checked_with"]
    assert report["artifacts"] == {"model": "model/net.onnx", "config": "model/config.json"}
    assert sorted(p.name for p in (tmp_path / "out/model").iterdir()) == ["config.json", "net.onnx"]
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert config["onnx_opset"] == 13 and config["inputs"][0]["shape"] == [1, 3, 12, 12]
    assert report["input_model"]["path"] == "model/net.prototxt"
    assert any(m.startswith("Caffe network: 34 layers") for m in messages(events))


def test_caffe_to_onnx_refuses_a_layer_outside_the_set(tmp_path):
    net = every_layer()
    net.layer("norm", "Normalize", ["prob"], blobs=[(2,)])
    net.write(tmp_path / "in/model")
    with pytest.raises(ConversionError) as info:
        convert_directly("onnx", tmp_path / "in", tmp_path / "out", "caffemodel", "gpu", {})
    assert "Layer 'norm' is a Normalize layer, which the Caffe conversion to ONNX, TFLite" in str(
        info.value
    )


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["32bit", "16bit", "8bit"])
def test_caffe_to_tensorrt_builds_an_engine_checked_against_the_reference(
    caffe_input, tmp_path, precision
):
    rng = np.random.default_rng(3)
    (caffe_input / "calibration_data").mkdir()
    for i in range(10):
        sample = rng.uniform(-1, 1, (1, 3, 12, 12)).astype(np.float32)
        np.save(caffe_input / f"calibration_data/{i:02d}.npy", sample)
    report, _ = convert_directly(
        "tensorrt", caffe_input, tmp_path / "out", "caffemodel", "gpu",
        {"quantization_precision": precision, "target_gpus": "SM86"},
    )  # fmt: skip
    verification = report["verification"]
    assert verification["verdict"] in ("pass", "warn"), verification
    assert "NumPy reference forward pass of the Caffe model" in verification["checked_with"]
    if precision == "32bit":
        assert verification["verdict"] == "pass"
    else:
        assert verification["export"]["verdict"] == "pass"
    assert report["artifacts"]["model"] == "model/net.engine"
    assert (tmp_path / "out/model/net.engine").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["32bit", "16bit", "8bit"])
def test_caffe_to_tflite_keeps_parity_with_the_reference(caffe_input, tmp_path, precision):
    rng = np.random.default_rng(5)
    (caffe_input / "calibration_data").mkdir()
    for i in range(10):
        sample = rng.uniform(-1, 1, (1, 3, 12, 12)).astype(np.float32)
        np.save(caffe_input / f"calibration_data/{i:02d}.npy", sample)
    report, _ = convert_directly(
        "tflite", caffe_input, tmp_path / "out", "caffemodel", "arm",
        {"quantization_precision": precision},
    )  # fmt: skip
    verification = report["verification"]
    names = ["prob_output:0", "side_output:0"]  # graph tensors; config.json keys the Caffe blobs
    assert [row["name"] for row in verification["outputs"]] == names
    assert "NumPy reference forward pass of the Caffe model" in verification["checked_with"]
    if precision == "32bit":
        assert verification["verdict"] == "pass"
        assert all(row["max_abs_error"] <= 1e-4 for row in verification["outputs"])
    else:
        assert verification["verdict"] in ("pass", "warn"), verification
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert [o["key"] for o in config["outputs"]] == ["prob", "side"]
    assert config["inputs"][0]["shape"] == [1, 3, 12, 12]


@pytest.mark.slow
@pytest.mark.parametrize("key, chip", [("onnx", "gpu"), ("tflite", "arm")])
def test_a_squeeze_excitation_block_converts_with_parity(tmp_path, key, chip):
    squeeze_excitation().write(tmp_path / "in/model")
    report, _ = convert_directly(key, tmp_path / "in", tmp_path / "out", "caffemodel", chip, {})
    verification = report["verification"]
    assert verification["verdict"] == "pass", verification
    assert "NumPy reference forward pass of the Caffe model" in verification["checked_with"]
    assert [row["max_abs_error"] <= 1e-4 for row in verification["outputs"]] == [True]
