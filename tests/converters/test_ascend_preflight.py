"""Preflight of TensorFlow and ONNX models for ATC, on real models built in the tests."""

import io
import json
import shutil

import pytest

from conversions.converters.ascend.preflight import PreflightError, check_onnx, check_tensorflow
from conversions.converters.ascend.shapes import parse_input_shape
from conversions.converters.base import ConversionError, Events
from conversions.converters.op_audit import OpAuditError
from tests.ascendkit import onnx_conv


def events():
    return Events(io.StringIO())


def logged(stream_events) -> str:
    lines = stream_events.stream.getvalue().splitlines()
    return "\n".join(json.loads(line).get("message", "") for line in lines)


@pytest.fixture
def graph(tmp_path, cnn_pb):
    """The small CNN's frozen graph, parsed, for tests that edit it."""
    from tensorflow.core.framework import graph_pb2

    graph_def = graph_pb2.GraphDef()
    graph_def.ParseFromString(cnn_pb.read_bytes())
    return graph_def


def write(graph_def, tmp_path):
    path = tmp_path / "net.pb"
    path.write_bytes(graph_def.SerializeToString())
    return path


def tf_problems(path, options, tmp_path):
    with pytest.raises(PreflightError) as info:
        check_tensorflow(path, "frozen_graph", options, tmp_path, events())
    return info.value.problems


def test_a_frozen_graph_passes_and_its_inputs_are_logged(tmp_path, cnn_pb):
    shutil.copy(cnn_pb, tmp_path / "cnn.pb")
    log = events()
    model = check_tensorflow(tmp_path / "cnn.pb", "frozen_graph", {}, tmp_path, log)
    assert model.inputs == [("input", [1, 32, 32, 3])]
    assert model.dtypes == {"input": "float32"} and model.outputs == ["Identity"]
    assert "Get inputs: input [1, 32, 32, 3] float32" in logged(log)


def test_a_dynamic_batch_needs_input_shape(tmp_path, graph):
    placeholder = next(n for n in graph.node if n.op == "Placeholder")
    placeholder.attr["shape"].shape.dim[0].size = -1
    path = write(graph, tmp_path)
    assert tf_problems(path, {}, tmp_path) == [
        "Input 'input' has a dynamic shape [?,32,32,3]: give every dimension a number with the "
        "input_shape option, e.g. input:1,32,32,3."
    ]
    model = check_tensorflow(
        path, "frozen_graph", {"input_shape": "input:1,32,32,3"}, tmp_path, events()
    )
    assert model.inputs == [("input", [1, 32, 32, 3])]
    assert tf_problems(path, {"input_shape": "input:4,32,32,3"}, tmp_path) == [
        "Input 'input' has batch 4 [4,32,32,3]: the batch must be 1; set it to 1 with the "
        "input_shape option."
    ]


def test_input_shape_names_and_dimensions_must_match_the_graph(tmp_path, cnn_pb):
    found = tf_problems(cnn_pb, {"input_shape": "images:1,32,32,3;input:1,16,16,3"}, tmp_path)
    assert found == [
        "input_shape names 'images', which is not an input of the model. Its inputs are: "
        "input [1,32,32,3].",
        "input_shape gives 'input' the shape [1,16,16,3] but the model fixes it to [1,32,32,3].",
    ]
    assert tf_problems(cnn_pb, {"input_shape": "input:1,32,32"}, tmp_path) == [
        "input_shape gives 'input' 3 dimensions but the model's input has 4 [1,32,32,3]."
    ]


def test_out_nodes_must_be_nodes_of_the_graph(tmp_path, cnn_pb):
    assert tf_problems(cnn_pb, {"out_nodes": "Identity:0;logits:0"}, tmp_path) == [
        "out_nodes names 'logits', which is not a node of the graph."
    ]


def test_an_input_with_five_dimensions_is_refused(tmp_path, graph):
    placeholder = next(n for n in graph.node if n.op == "Placeholder")
    placeholder.attr["shape"].shape.dim.add(size=2)
    found = tf_problems(write(graph, tmp_path), {}, tmp_path)
    assert found == [
        "Input 'input' has 5 dimensions [1,32,32,3,2]: ATC takes inputs of at most 4 dimensions."
    ]


def test_the_op_audit_refuses_file_operations(tmp_path, graph):
    name = graph.node.add(name="filename", op="Const")
    name.attr["dtype"].type = 7  # DT_STRING
    name.attr["value"].tensor.dtype = 7
    name.attr["value"].tensor.string_val.append(b"/tmp/stolen")
    graph.node.add(name="leak", op="WriteFile", input=["filename", "filename"])
    with pytest.raises(OpAuditError) as info:
        check_tensorflow(write(graph, tmp_path), "frozen_graph", {}, tmp_path, events())
    assert "WriteFile (graph node 'leak')" in str(info.value)


@pytest.mark.slow
def test_a_saved_model_is_frozen_for_atc(tmp_path, cnn_saved_model):
    shutil.copytree(cnn_saved_model, tmp_path / "sm")
    with pytest.raises(PreflightError, match=r"Input 'input' has a dynamic shape \[\?,32,32,3\]"):
        check_tensorflow(tmp_path / "sm", "saved_model", {}, tmp_path, events())
    options = {"input_shape": "input:1,32,32,3"}
    model = check_tensorflow(tmp_path / "sm", "saved_model", options, tmp_path, events())
    assert model.path == tmp_path / "model.pb" and model.path.stat().st_size > 10_000
    assert model.inputs == [("input", [1, 32, 32, 3])] and model.outputs == ["Identity"]


# -- ONNX ----------------------------------------------------------------------------------------


def test_an_onnx_model_passes_with_its_opset_and_inputs(tmp_path):
    log = events()
    model = check_onnx(onnx_conv(tmp_path / "net.onnx"), {}, log)
    assert model.inputs == [("x", [1, 3, 8, 8])] and model.outputs == ["z"]
    assert model.dtypes == {"x": "float32"} and model.notes == []
    assert "ONNX opset 13" in logged(log)


@pytest.mark.parametrize("opset, ok", [(8, False), (9, True), (18, True), (19, False)])
def test_the_opset_must_be_one_atc_reads(tmp_path, opset, ok):
    path = onnx_conv(tmp_path / "net.onnx", opset=opset)
    if ok:
        notes = check_onnx(path, {}, events()).notes
        assert notes == (
            []
            if opset <= 13
            else [f"opset {opset} needs CANN 7.0 or later (older ATC reads opsets up to 13)"]
        )
    else:
        with pytest.raises(PreflightError) as info:
            check_onnx(path, {}, events())
        assert info.value.problems == [
            f"net.onnx uses ONNX opset {opset}; ATC reads opsets 9 to 18. Export the model again "
            "with an opset in that range."
        ]


def test_a_dynamic_onnx_batch_needs_input_shape(tmp_path):
    path = onnx_conv(tmp_path / "net.onnx", batch="N")
    with pytest.raises(PreflightError, match=r"Input 'x' has a dynamic shape \[\?,3,8,8\]"):
        check_onnx(path, {}, events())
    assert check_onnx(path, {"input_shape": "x:1,3,8,8"}, events()).inputs == [("x", [1, 3, 8, 8])]


def test_onnx_out_nodes_are_node_names_with_an_output_index(tmp_path):
    path = onnx_conv(tmp_path / "net.onnx")
    assert check_onnx(path, {"out_nodes": "conv:0"}, events()).outputs == ["z"]
    with pytest.raises(PreflightError) as info:
        check_onnx(path, {"out_nodes": "conv:1;softmax:0"}, events())
    assert info.value.problems == [
        "out_nodes asks for output 1 of 'conv', which has 1.",
        "out_nodes names 'softmax', which is not a node of the ONNX graph.",
    ]


def test_a_model_the_checker_refuses(tmp_path):
    import onnx

    path = onnx_conv(tmp_path / "net.onnx")
    model = onnx.load(str(path))
    model.graph.node[1].input[0] = "nowhere"
    onnx.save(model, str(path))
    with pytest.raises(ConversionError, match="net.onnx fails the ONNX checker: .*nowhere"):
        check_onnx(path, {}, events())


def test_a_truncated_onnx_file(tmp_path):
    path = onnx_conv(tmp_path / "net.onnx")
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(
        ConversionError, match="net.onnx is not a valid ONNX model: the file is truncated"
    ):
        check_onnx(path, {}, events())


@pytest.mark.parametrize(
    "text, message",
    [
        ("x:1,3;x:1,3", "input_shape names x more than once."),
        ("x:1,?,3", "is not in the form name:n,h,w,c"),
        ("x:-1,3", "is not in the form name:n,h,w,c"),
    ],
)
def test_input_shape_grammar(text, message):
    with pytest.raises(ConversionError, match=message.replace("?", r"\?")):
        parse_input_shape(text)


def test_input_shape_parses_several_inputs():
    assert parse_input_shape("a:1,3,8,8;b/c.d:1,10") == [("a", [1, 3, 8, 8]), ("b/c.d", [1, 10])]
    assert parse_input_shape("") == []
