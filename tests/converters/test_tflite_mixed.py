"""Per-layer quantization error, 8bit-mixed, keep_float_layers and 16x8 on TFLite, on a CNN with outlier
channels (tests/modelkit.outlier_cnn) whose full 8bit conversion fails on its own merits."""

import json
import math
import shutil

import numpy as np
import pytest

from conversions.converters.base import ConversionError
from tests.converters.test_tflite import run

pytestmark = pytest.mark.slow

NAMES = {"input_tensor_names": "input", "output_tensor_names": "Identity"}


def convert(folder, out, precision, **options):
    report, events = run(
        folder, out, quantization_precision=precision, batch_size=8, **NAMES, **options
    )
    return report, [e["message"] for e in events if e.get("event") == "log"]


def layer_of(report, part):
    return next(layer for layer in report["quantization"]["layers"] if part in layer["name"])


def float_ops(tflite_path) -> dict[str, str]:
    """Output tensor name -> dtype of every op of a .tflite but (de)quantize, read back from the file."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(tflite_path))
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    return {
        details[op["outputs"][0]]["name"]: np.dtype(details[op["outputs"][0]]["dtype"]).name
        for op in interpreter._get_ops_details()
        if op["op_name"] not in ("QUANTIZE", "DEQUANTIZE")
    }


def test_full_8bit_fails_and_names_the_layers_that_lose_the_most(outlier_dir, tmp_path):
    report, logs = convert(outlier_dir, tmp_path, "8bit")
    assert report["verification"]["verdict"] == "fail"
    section = report["quantization"]
    errors = [layer["error"] for layer in section["layers"]]
    assert errors == sorted(errors, reverse=True) and all(math.isfinite(e) for e in errors)
    assert {"features", "mix"} == {
        next(n for n in ("features", "mix") if n in layer["name"])
        for layer in section["layers"][:2]
    }
    assert layer_of(report, "stem_1")["error"] < 0.05 < layer_of(report, "mix_1")["error"]
    assert section["kept_float"] == [] and section["float_op_share"] == 0.0
    assert "rounds" not in section
    assert any("lose the most" in line and "features_1" in line for line in logs)
    assert report["timings"]["layer_analysis_s"] > 0
    json.dumps(report, allow_nan=False)


def test_8bit_mixed_keeps_the_outlier_layers_in_float_and_passes(outlier_dir, tmp_path):
    report, logs = convert(outlier_dir, tmp_path, "8bit-mixed")
    section = report["quantization"]
    assert report["verification"]["verdict"] == "pass"
    assert report["verification"]["outputs"][0]["cosine_similarity"] > 0.999
    kept = section["kept_float"]
    assert any("features_1" in n for n in kept) and any("mix_1" in n for n in kept)
    assert len(kept) == 2, kept
    assert [layer["kept_float"] for layer in section["layers"]][:2] == [True, True]
    assert not any(layer["kept_float"] for layer in section["layers"][2:])
    # Ranked by their effect on the output, the two outlier layers come first: 1 is not enough
    verdicts = [r["verdict"] for r in section["rounds"]]
    assert verdicts[0] == "fail" and verdicts[-1] == "pass" and "pass" not in verdicts[:-1]
    assert [r["kept"] for r in section["rounds"]] == [0, 1, 2]
    assert 0 < section["float_op_share"] <= 0.3 and 0 < section["float_weight_share"] < 1
    dtypes = float_ops(tmp_path / "model/net.tflite")
    assert {dtypes[n] for n in kept} == {"float32"}
    assert sum(d == "int8" for d in dtypes.values()) >= 5
    assert report["output_size_bytes"] < report["input_model"]["size_bytes"] * 0.6
    assert any("effect on the output, quantizing one at a time" in line for line in logs)
    assert any("8bit-mixed round 3: 2 layer(s) in float -> pass" in line for line in logs)


def test_keep_float_layers_leaves_the_named_layers_float(outlier_dir, tmp_path):
    report, _ = convert(
        outlier_dir, tmp_path, "8bit", keep_float_layers="*features_1/Relu, *mix_1*"
    )
    kept = report["quantization"]["kept_float"]
    assert len(kept) == 2
    dtypes = float_ops(tmp_path / "model/net.tflite")
    assert {dtypes[n] for n in kept} == {"float32"}
    assert dtypes[next(n for n in dtypes if "stem_1" in n)] == "int8"
    assert report["verification"]["verdict"] == "pass"
    assert (
        layer_of(report, "features_1")["kept_float"]
        and not layer_of(report, "down_1")["kept_float"]
    )


def test_an_unknown_layer_name_is_refused_with_real_names(outlier_dir, tmp_path):
    with pytest.raises(ConversionError) as info:
        convert(outlier_dir, tmp_path, "8bit", keep_float_layers="block_99_*")
    message = str(info.value)
    assert "no quantized layer matches block_99_*" in message
    assert "features_1" in message


def test_keep_float_layers_with_a_float_precision_is_refused(outlier_dir, tmp_path):
    with pytest.raises(
        ConversionError, match="works with quantization_precision 8bit or 8bit-mixed"
    ):
        convert(outlier_dir, tmp_path, "16bit", keep_float_layers="mix")


def test_16x8_keeps_int16_activations_and_verifies(outlier_dir, tmp_path):
    """int16 activations have room for the outlier channels that int8 rounds away."""
    report, _ = convert(outlier_dir, tmp_path, "16x8")
    assert report["verification"]["verdict"] == "pass"
    assert report["verification"]["outputs"][0]["cosine_similarity"] > 0.995
    dtypes = float_ops(tmp_path / "model/net.tflite")
    assert next(d for n, d in dtypes.items() if "features_1" in n) == "int16"
    assert report["output_size_bytes"] < report["input_model"]["size_bytes"] * 0.4
    assert "quantization" not in report


def test_16x8_without_calibration_data_says_what_to_provide(tmp_path, outlier_dir):
    shutil.copytree(outlier_dir / "model", tmp_path / "in/model")
    with pytest.raises(ConversionError, match="16x8 quantization needs calibration data"):
        convert(tmp_path / "in", tmp_path / "out", "16x8")
