"""The TensorRT converter on real models built here: TF -> ONNX -> precision -> TensorRT-RTX engine.

TensorRT-RTX builds engines on this CPU for real. Running an engine needs an NVIDIA GPU with CUDA, and
standard TensorRT needs one to build: those tests run only where both are present.
"""

import json
import shutil

import onnx
import pytest
from onnx import TensorProto, helper

from conversions.converters.base import ConversionError
from conversions.converters.tensorrt import probe
from conversions.converters.tensorrt.onnxsource import read_onnx
from tests.converters.direct import convert_directly

pytestmark = pytest.mark.slow
CNN = {"input_tensor_names": "input", "output_tensor_names": "Identity"}
needs_standard_tensorrt = pytest.mark.skipif(
    probe.STANDARD not in probe.usable(),
    reason="standard TensorRT needs its libraries from NVIDIA's index and an NVIDIA GPU; "
    "this machine has neither",
)


def run(input_dir, output_dir, model_format="frozen_graph", **options):
    return convert_directly("tensorrt", input_dir, output_dir, model_format, "gpu", options)


def messages(events, level=None):
    return [e["message"] for e in events if e["event"] == "log" and level in (None, e["level"])]


@pytest.mark.parametrize(
    "precision,max_error,cosine",
    [("32bit", 1e-5, 0.99999), ("16bit", 1e-2, 0.999), ("8bit", 5e-2, 0.98)],
)
def test_a_frozen_graph_becomes_an_rtx_engine_in_every_precision(
    trt_input, tmp_path, precision, max_error, cosine
):
    report, events = run(trt_input, tmp_path / "out", quantization_precision=precision, **CNN)
    model = tmp_path / "out/model"
    assert (model / "net.engine").stat().st_size > 100_000
    assert report["output_size_bytes"] == (model / "net.engine").stat().st_size
    assert onnx.load(str(model / "net.onnx")).graph.node
    row = report["verification"]["outputs"][0]
    assert row["max_abs_error"] < max_error and row["cosine_similarity"] > cosine
    # 8bit verifies on the 3 samples held out of calibration (cosine about 0.987 on them, measured)
    held = precision == "8bit"
    assert row["top1_agreement"] == 1.0
    assert report["verification"]["verdict"] in (("pass", "warn") if held else ("pass",))
    assert report["verification"]["samples"] == (3 if held else 16)
    assert report["verification"]["held_out"] == ([4, 9, 14] if held else [])
    assert ("float16 rounding emulated" in report["verification"]["checked_with"]) == (
        precision == "16bit"
    )
    if precision != "32bit":  # the float32 export itself, against TensorFlow
        assert report["verification"]["export"]["outputs"][0]["max_abs_error"] < 1e-5
    assert report["verification"]["engine"]["ran"] is False
    config = json.loads((model / "config.json").read_text())
    assert config["builder"] == "tensorrt-rtx" and config["builder_version"].startswith("1.")
    assert config["compute_capabilities"] == ["SM80", "SM86", "SM89", "SM120"]
    assert config["inputs"] == [{"name": "input:0", "shape": [1, 32, 32, 3], "dtype": "float32"}]
    assert config["outputs"] == [{"name": "Identity:0", "shape": [1, 10], "dtype": "float32"}]
    assert (config["precision"], config["onnx_opset"], config["workspace_mb"]) == (
        precision,
        17,
        1024,
    )
    assert config["optimization_profile"] is None
    graph = onnx.load(str(model / "net.onnx")).graph
    node_types = {n.op_type for n in graph.node}
    assert ("QuantizeLinear" in node_types) == (precision == "8bit")
    assert ("Cast" in node_types) == (precision == "16bit")
    softmax = next(n for n in graph.node if n.op_type == "Softmax")
    quantized = {n.input[0] for n in graph.node if n.op_type == "QuantizeLinear"}
    assert softmax.output[0] not in quantized  # probabilities stay float in 8bit
    logged = messages(events)
    assert any(m.startswith("[TensorRT-RTX] Engine generation completed") for m in logged)
    assert not messages(events, "error")
    assert set(report["timings"]) >= {"export_s", "onnx_check_s", "engine_build_s"}


def test_a_saved_model_with_a_dynamic_batch_gets_an_optimization_profile(tmp_path, cnn_saved_model):
    shutil.copytree(cnn_saved_model, tmp_path / "in/model")
    report, events = run(
        tmp_path / "in", tmp_path / "out", "saved_model", batch_size=8, target_gpus="SM86,SM89"
    )
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    name = config["inputs"][0]["name"]
    assert config["inputs"][0]["shape"] == [-1, 32, 32, 3]
    assert config["optimization_profile"] == {
        name: {"min": [1, 32, 32, 3], "opt": [8, 32, 32, 3], "max": [8, 32, 32, 3]}
    }
    assert config["compute_capabilities"] == ["SM86", "SM89"]
    assert report["verification"]["outputs"][0]["max_abs_error"] < 1e-5
    assert (
        f"Optimization profile for {name}: min [1, 32, 32, 3], opt [8, 32, 32, 3], max [8, 32, 32, 3]"
        in messages(events)
    )


@pytest.fixture
def onnx_input(tmp_path, cnn_pb):
    import tensorflow as tf
    import tf2onnx

    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(cnn_pb.read_bytes())
    proto, _ = tf2onnx.convert.from_graph_def(
        graph_def, input_names=["input:0"], output_names=["Identity:0"], opset=15
    )
    (tmp_path / "in/model").mkdir(parents=True)
    onnx.save(proto, str(tmp_path / "in/model/cnn.onnx"))
    return tmp_path / "in"


def test_an_onnx_model_becomes_an_engine_checked_against_itself(onnx_input, tmp_path, cnn_pb):
    report, _ = run(
        onnx_input, tmp_path / "out", "onnx", quantization_precision="16bit", target_gpus="SM75"
    )
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert config["compute_capabilities"] == ["SM75"] and config["onnx_opset"] == 15
    row = report["verification"]["outputs"][0]
    assert 0 < row["max_abs_error"] < 1e-2 and row["cosine_similarity"] > 0.999
    assert report["verification"]["source"] == "random (seed 1)"
    assert "against the input ONNX model" in report["verification"]["checked_with"]
    assert (
        report["input_model"]["path"] == "model/cnn.onnx" and "tensorflow" not in report["versions"]
    )


def test_8bit_without_calibration_data_says_what_to_provide(onnx_input, tmp_path):
    with pytest.raises(ConversionError) as info:
        run(onnx_input, tmp_path / "out", "onnx", quantization_precision="8bit")
    message = str(info.value)
    assert "folder named calibration_data" in message and "[N, 32, 32, 3] (float32)" in message
    assert "Or choose 16bit, which needs no data." in message


def test_float32_matrix_products_for_turing_are_refused_with_a_way_out(trt_input, tmp_path):
    with pytest.raises(ConversionError) as info:
        run(trt_input, tmp_path / "out", target_gpus="SM75", **CNN)
    message = str(info.value)
    assert "TensorRT-RTX could not build the engine" in message and "FP32 GEMM" in message
    assert "choose 16bit, or remove SM75 from the target GPUs" in message


def save(tmp_path, node, inputs, outputs, **model_fields):
    graph = helper.make_graph([node], "g", inputs, outputs, **model_fields)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    (tmp_path / "in/model").mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(tmp_path / "in/model/m.onnx"))
    return tmp_path / "in"


def test_the_parser_refusal_names_the_operator(tmp_path):
    folder = save(
        tmp_path,
        helper.make_node("Det", ["x"], ["y"]),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    with pytest.raises(ConversionError) as info:
        run(folder, tmp_path / "out", "onnx")
    assert "The TensorRT-RTX ONNX parser refused the model" in str(info.value)
    assert "operator: Det" in str(info.value)


def test_custom_operators_are_refused_before_anything_runs(tmp_path):
    node = helper.make_node("Backdoor", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    with pytest.raises(
        ConversionError, match="outside the standard ONNX domain: com.example::Backdoor"
    ):
        read_onnx(path)


def test_external_data_outside_the_model_folder_is_refused(tmp_path):
    weight = helper.make_tensor("w", TensorProto.FLOAT, [4], [1.0, 2.0, 3.0, 4.0])
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="../../etc/passwd")
    folder = save(
        tmp_path,
        helper.make_node("Add", ["x", "w"], ["y"]),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[weight],
    )
    with pytest.raises(ConversionError, match="external data must be a file next to the .onnx"):
        read_onnx(folder / "model/m.onnx")


def test_dynamic_dimensions_other_than_the_batch_are_refused(tmp_path):
    folder = save(
        tmp_path,
        helper.make_node("Relu", ["x"], ["y"]),
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])],
    )
    with pytest.raises(
        ConversionError,
        match=r"x has dynamic dimensions other than the batch \[None, 3, None, None\]",
    ):
        run(folder, tmp_path / "out", "onnx")


@pytest.mark.skipif(probe.STANDARD in probe.usable(), reason="standard TensorRT can build here")
def test_a_missing_standard_tensorrt_says_what_to_install_and_where(trt_input, tmp_path):
    with pytest.raises(ConversionError) as info:
        run(trt_input, tmp_path / "out", engine_builder="tensorrt", **CNN)
    message = str(info.value)
    if probe.builder_version(probe.STANDARD) is None:
        assert message.startswith("Standard TensorRT is not installed on this worker.")
        assert "pip install tensorrt --extra-index-url https://pypi.nvidia.com" in message
        assert "Or choose the engine builder tensorrt-rtx" in message
    else:
        assert "needs an NVIDIA GPU" in message or "libraries are missing" in message
    assert not (tmp_path / "out/model").exists()  # refused before any work


def test_auto_without_any_builder_names_both_packages(trt_input, tmp_path, monkeypatch):
    # Stands in for a worker without TensorRT-RTX: the probe looks modules up with find_spec.
    real = probe.importlib.util.find_spec
    monkeypatch.setattr(
        probe.importlib.util,
        "find_spec",
        lambda name, *a: None if name in probe.MODULES.values() else real(name, *a),
    )
    with pytest.raises(ConversionError) as info:
        run(trt_input, tmp_path / "out", **CNN)
    message = str(info.value)
    assert "No TensorRT engine builder can run on this worker" in message
    assert "pip install tensorrt-rtx" in message and "https://pypi.nvidia.com" in message


@needs_standard_tensorrt
def test_standard_tensorrt_builds_for_the_gpu_it_runs_on(trt_input, tmp_path):
    report, _ = run(
        trt_input,
        tmp_path / "out",
        engine_builder="tensorrt",
        quantization_precision="16bit",
        **CNN,
    )
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert config["builder"] == "tensorrt" and config["compute_capabilities"][0].startswith("SM")
    assert report["output_size_bytes"] > 0


def test_a_variant_that_fails_verification_is_published_without_an_engine(tmp_path):
    thousand = helper.make_tensor("k", TensorProto.FLOAT, [1], [1000.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["h"]), helper.make_node("Mul", ["h", "k"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[thousand],
    )
    (tmp_path / "in/model").mkdir(parents=True)
    onnx.save(helper.make_model(graph, ir_version=8), str(tmp_path / "in/model/m.onnx"))
    # h stays within float16 (up to 1000), y reaches up to a million: beyond float16's 65504
    report, events = run(tmp_path / "in", tmp_path / "out", "onnx", quantization_precision="16bit")
    row = report["verification"]["outputs"][0]
    assert report["verification"]["verdict"] == "fail" and row["finite"] is False
    assert sorted(p.name for p in (tmp_path / "out/model").iterdir()) == ["net.onnx"]
    assert report["artifacts"] == {"onnx": "model/net.onnx"} and "engine" not in report
    errors = messages(events, "error")
    assert errors[0].startswith(
        "The 16bit model computes inf or NaN: its activations leave float16"
    )
    assert "no engine is built" in errors[1]
