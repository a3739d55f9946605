"""TensorRT int8 from an ONNX detector as they are exported: opset 11, constants added to activations."""

import io
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conversions.converters.base import ConversionError, Events
from conversions.converters.tensorrt import qdq
from tests.converters.direct import convert_directly

pytestmark = pytest.mark.slow
WEIGHTED = {"Conv", "ConvTranspose", "Gemm", "MatMul"}


def detector(opset=11):
    """Two convolutions (the first with a ReLU6 as exporters write it: a Clip with constant bounds),
    then a head that adds anchors, multiplies by a stride and by an offset from a Constant node, and
    concatenates a constant grid: the constants a real detector carries."""
    rng = np.random.default_rng(0)

    def tensor(name, shape, scale=1.0):
        return numpy_helper.from_array((rng.normal(size=shape) * scale).astype(np.float32), name)

    offset = numpy_helper.from_array(np.full((1, 6, 16, 16), 0.25, np.float32))
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Clip", ["c1", "zero", "six"], ["r1"]),  # ReLU6: its bounds stay float
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"]),
        helper.make_node("Add", ["c2", "anchors"], ["anchored"]),
        helper.make_node("Mul", ["anchored", "stride"], ["boxes"]),
        helper.make_node("Constant", [], ["offset"], value=offset),
        helper.make_node("Mul", ["c2", "offset"], ["shifted"]),
        helper.make_node("Sigmoid", ["shifted"], ["scores"]),
        helper.make_node("Concat", ["boxes", "scores", "grid"], ["head"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "detector",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("head", TensorProto.FLOAT, [1, 14, 16, 16])],
        initializer=[
            tensor("w1", (8, 3, 3, 3), 0.3),
            tensor("b1", (8,), 0.1),
            tensor("w2", (6, 8, 1, 1), 0.3),
            tensor("b2", (6,), 0.1),
            numpy_helper.from_array(rng.uniform(size=(1, 6, 16, 16)).astype(np.float32), "anchors"),
            numpy_helper.from_array(np.array([8.0], np.float32), "stride"),
            numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
            numpy_helper.from_array(np.array(6.0, np.float32), "six"),
            numpy_helper.from_array(rng.uniform(size=(1, 2, 16, 16)).astype(np.float32), "grid"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=7)
    onnx.checker.check_model(model)
    return model


def samples(count=16):
    return np.random.default_rng(1).uniform(-1, 1, size=(count, 3, 32, 32)).astype(np.float32)


def test_onnx_runtime_alone_quantizes_the_head_constants(tmp_path):
    """What the converter guards against: the quantizer, left to itself, quantizes anchors, stride,
    offset and grid, and the check names them."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter({"image": s[None]} for s in samples(4))

        def get_next(self):
            return next(self.feeds, None)

    onnx.save(detector(opset=13), str(tmp_path / "float.onnx"))
    quantize_static(
        str(tmp_path / "float.onnx"),
        str(tmp_path / "int8.onnx"),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        extra_options={"QuantizeBias": False},
    )
    problems = qdq.misplaced_constants(onnx.load(str(tmp_path / "int8.onnx")))
    assert {p.split(" -> ")[0].removesuffix("_quantized") for p in problems} >= {
        "anchors",
        "stride",
        "offset",
        "grid",
    }


def test_prepare_upgrades_the_opset_and_keeps_the_constant_readers_float():
    model = detector(opset=11)
    stream = io.StringIO()
    keep = qdq.prepare(model, Events(stream))
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [13]
    by_name = {n.name: n.op_type for n in model.graph.node}
    assert sorted(by_name[name] for name in keep) == ["Add", "Concat", "Mul", "Mul"]
    assert "Upgrade the ONNX model from opset 11 to 13" in stream.getvalue()


def test_an_opset_11_detector_becomes_an_int8_engine(tmp_path):
    (tmp_path / "in/model").mkdir(parents=True)
    onnx.save(detector(opset=11), str(tmp_path / "in/model/detector.onnx"))
    (tmp_path / "in/calibration_data").mkdir()
    np.save(tmp_path / "in/calibration_data/images.npy", samples())
    report, events = convert_directly(
        "tensorrt",
        tmp_path / "in",
        tmp_path / "out",
        "onnx",
        "gpu",
        {"quantization_precision": "8bit"},
    )
    logged = [e["message"] for e in events if e["event"] == "log"]
    assert any(m.startswith("Upgrade the ONNX model from opset 11 to 13") for m in logged)
    assert any(m.startswith("Keep 4 node(s) float that read a constant") for m in logged)

    model = onnx.load(str(tmp_path / "out/model/net.onnx"))
    graph = model.graph
    assert qdq.misplaced_constants(model) == []
    # the brief's rule, spelled out: a quantized constant feeds only the weight of a weighted layer
    constants = {t.name for t in graph.initializer}
    constants |= {o for n in graph.node if n.op_type == "Constant" for o in n.output}
    dequantized = {
        n.output[0]
        for n in graph.node
        if n.op_type == "DequantizeLinear"
        and (
            n.input[0] in constants
            or any(q.output[0] == n.input[0] and q.input[0] in constants for q in graph.node)
        )
    }
    consumers = [
        (n.op_type, i) for n in graph.node for i, x in enumerate(n.input) if x in dequantized
    ]
    assert sorted(consumers) == [("Conv", 1), ("Conv", 1)]  # both weights are int8, nothing else
    assert any(n.op_type == "QuantizeLinear" for n in graph.node)  # activations are int8 too

    # ONNX Runtime runs it, close to the float model
    import onnxruntime as ort

    probe = samples(4)
    float_session = ort.InferenceSession(
        detector(opset=11).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    int8_session = ort.InferenceSession(
        str(tmp_path / "out/model/net.onnx"), providers=["CPUExecutionProvider"]
    )
    for image in probe:
        want = float_session.run(None, {"image": image[None]})[0]
        got = int8_session.run(None, {"image": image[None]})[0]
        cosine = float(
            np.dot(want.ravel(), got.ravel()) / np.linalg.norm(want) / np.linalg.norm(got)
        )
        assert cosine > 0.99
    assert report["verification"]["verdict"] in ("pass", "warn")

    # and TensorRT-RTX builds an engine from it
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert config["onnx_opset"] == 13 and config["builder"] == "tensorrt-rtx"
    assert (tmp_path / "out/model/net.engine").stat().st_size > 0


def test_a_misplaced_quantized_constant_is_refused_with_a_way_out():
    stride = numpy_helper.from_array(np.array([8], np.int8), "stride_q")
    graph = helper.make_graph(
        [
            helper.make_node("DequantizeLinear", ["stride_q", "scale"], ["stride"]),
            helper.make_node("Mul", ["x", "stride"], ["y"], name="scale_boxes"),
        ],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[stride, numpy_helper.from_array(np.array(1.0, np.float32), "scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(ConversionError, match="stride_q -> Mul scale_boxes.*Choose 16bit"):
        qdq.check(model)
