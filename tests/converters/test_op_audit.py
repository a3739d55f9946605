"""The op audit refuses file, network and Python-callback ops and passes real Keras models.

Crafted graphs are built with the protobuf classes only; no test loads them into TF or runs them.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conversions.converters.op_audit import (
    ALLOWED_OPS,
    OpAuditError,
    audit_graph_def,
    check_graph_def,
    check_saved_model,
    is_dangerous,
)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = Path(__file__).resolve().parents[2]
DANGEROUS_SAMPLES = """
ReadFile WriteFile WholeFileReader WholeFileReaderV2 ReaderReadV2 ReaderReadUpToV2 TFRecordReaderV2
MatchingFiles MatchingFilesDataset ExperimentalMatchingFilesDataset FixedLengthRecordDatasetV2
TextLineDatasetV2 TFRecordDatasetV2 CSVDatasetV2 ExperimentalCSVDataset ImmutableConst
InitializeTableFromTextFileV2 Save SaveV2 SaveSlices Restore RestoreV2 RestoreSlice
MergeV2Checkpoints Print PrintV2 DebugIdentityV3 DebugNumericSummaryV2 DistributedSave
DataServiceDatasetV4 RegisterDatasetV2 RpcCall RpcClient RpcServer PyFunc PyFuncStateless
EagerPyFunc IteratorGetNext WriteSummary LoadAndRemapMatrix
"""


def graph_pb2():
    from tensorflow.core.framework import graph_pb2 as module

    return module


def add_node(nodes, name, op, inputs=(), string=None):
    """Append a NodeDef to GraphDef.node or FunctionDef.node_def; `string` sets a Const value."""
    node = nodes.add(name=name, op=op, input=list(inputs))
    if string is not None:
        node.attr["value"].tensor.dtype = 7  # DT_STRING
        node.attr["value"].tensor.string_val.append(string.encode())
    return node


def add_call(nodes, name, function, inputs=(), op="StatefulPartitionedCall"):
    node = add_node(nodes, name, op, inputs)
    node.attr["f"].func.name = function
    return node


def add_function(graph_def, name, args=()):
    function = graph_def.library.function.add()
    function.signature.name = name
    for arg in args:
        function.signature.input_arg.add(name=arg, type=7)
    return function


def refusal(graph_def) -> OpAuditError:
    with pytest.raises(OpAuditError) as caught:
        check_graph_def(graph_def)
    return caught.value


@pytest.fixture(scope="module")
def keras_cnn(tmp_path_factory):
    """A tiny Keras CNN as a frozen GraphDef and as SavedModel protos (saved and exported)."""
    import keras
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            layers.Conv2D(4, 3, padding="same"),
            layers.BatchNormalization(),
            layers.ReLU(),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(5),
            layers.Softmax(),
        ]
    )
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec((1, 16, 16, 3), tf.float32))
    frozen = convert_variables_to_constants_v2(concrete).graph.as_graph_def()
    saved = {}
    for how in ("saved", "exported"):
        folder = tmp_path_factory.mktemp(how)
        if how == "saved":
            tf.saved_model.save(model, str(folder))
        else:
            model.export(str(folder), verbose=False)
        saved[how] = saved_model_pb2.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    return frozen, saved


def saver_function(saved_model, op):
    """The library function of meta graph 0 that holds the saver op `op`."""
    library = saved_model.meta_graphs[0].graph_def.library
    return next(f for f in library.function if any(n.op == op for n in f.node_def))


def test_it_refuses_read_file():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "path", "Const", string="/etc/passwd")
    add_node(graph.node, "read", "ReadFile", ["path"])
    error = refusal(graph)
    assert error.ops == {"ReadFile": ["graph node 'read'"]}
    assert "ReadFile (graph node 'read')" in str(error)
    assert "Models are programs" in str(error)
    assert str(error).startswith("the model uses operations that are not allowed")


def test_it_refuses_write_file_and_nothing_runs(tmp_path):
    target = tmp_path / "pwned.txt"
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "path", "Const", string=str(target))
    add_node(graph.node, "data", "Const", string="owned")
    add_node(graph.node, "write", "WriteFile", ["path", "data"])
    error = refusal(graph)
    assert "WriteFile (graph node 'write')" in str(error)
    assert not target.exists()
    assert not list(tmp_path.glob("pwned*"))


def test_it_refuses_whole_file_reader_and_reader_read():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "reader", "WholeFileReaderV2")
    add_node(graph.node, "queue", "FIFOQueueV2")
    add_node(graph.node, "read", "ReaderReadV2", ["reader", "queue"])
    error = refusal(graph)
    assert error.dangerous == {
        "WholeFileReaderV2": ["graph node 'reader'"],
        "ReaderReadV2": ["graph node 'read'"],
    }
    assert error.unknown == {"FIFOQueueV2": ["graph node 'queue'"]}
    assert "WholeFileReaderV2 (graph node 'reader')" in str(error)
    assert "ReaderReadV2 (graph node 'read')" in str(error)
    assert "not on the allow-list of inference operations: FIFOQueueV2" in str(error)


def test_it_refuses_matching_files():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "pattern", "Const", string="/home/*/.ssh/*")
    add_node(graph.node, "glob", "MatchingFiles", ["pattern"])
    assert "MatchingFiles (graph node 'glob')" in str(refusal(graph))


def test_it_refuses_py_func():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "x", "Placeholder")
    add_node(graph.node, "callback", "PyFunc", ["x"]).attr["token"].s = b"pyfunc_0"
    error = refusal(graph)
    assert error.ops == {"PyFunc": ["graph node 'callback'"]}
    assert "Python-callback operations are refused" in str(error)


def test_it_finds_ops_hidden_in_the_function_library():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "x", "Placeholder")
    add_call(graph.node, "call", "f", ["x"])
    outer = add_function(graph, "f", ["x"])
    add_node(outer.node_def, "p", "PyFunc", ["x"])
    add_call(outer.node_def, "inner", "g", ["x"], op="PartitionedCall")
    inner = add_function(graph, "g", ["x"])
    add_node(inner.node_def, "path", "Const", string="/etc/hosts")
    add_node(inner.node_def, "read", "ReadFile", ["path:output:0"])
    assert audit_graph_def(graph) == {
        "PyFunc": ["function 'f' node 'p'"],
        "ReadFile": ["function 'g' node 'read'"],
    }
    message = str(refusal(graph))
    assert "PyFunc (function 'f' node 'p')" in message
    assert "ReadFile (function 'g' node 'read')" in message


def test_it_refuses_a_call_whose_target_is_an_op_not_a_library_function():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "path", "Const", string="/etc/hosts")
    add_call(graph.node, "call", "ReadFile", ["path"])
    assert audit_graph_def(graph) == {"ReadFile": ["graph node 'call' attr 'f'"]}


def test_it_refuses_unknown_ops_as_not_on_the_allow_list():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "x", "Placeholder")
    add_node(graph.node, "custom", "TotallyCustomOp", ["x"])
    error = refusal(graph)
    assert error.unknown == {"TotallyCustomOp": ["graph node 'custom'"]}
    assert error.dangerous == {}
    assert str(error) == (
        "the model uses operations that are not on the allow-list of inference operations: "
        "TotallyCustomOp (graph node 'custom'). Remove them before converting."
    )


def test_it_refuses_saver_ops_in_a_frozen_graph():
    graph = graph_pb2().GraphDef()
    add_node(graph.node, "saver_filename", "Placeholder")
    add_node(graph.node, "save", "SaveV2", ["saver_filename"])
    assert audit_graph_def(graph) == {"SaveV2": ["graph node 'save'"]}


def test_it_keeps_the_dangerous_families_off_the_allow_list():
    assert not [op for op in ALLOWED_OPS if is_dangerous(op)]
    for op in DANGEROUS_SAMPLES.split():
        assert is_dangerous(op), op
        assert op not in ALLOWED_OPS, op


def test_it_imports_neither_tensorflow_nor_django():
    code = (
        "import sys, conversions.converters.op_audit; "
        "assert 'tensorflow' not in sys.modules and 'django' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


@pytest.mark.slow  # builds a real Keras model
def test_it_passes_a_real_frozen_keras_cnn(keras_cnn):
    frozen, _ = keras_cnn
    assert {"Conv2D", "Relu", "MaxPool", "MatMul", "Softmax"} <= {n.op for n in frozen.node}
    assert audit_graph_def(frozen) == {}
    check_graph_def(frozen)


@pytest.mark.slow  # builds a real Keras model
def test_it_passes_real_keras_saved_models_without_changing_them(keras_cnn):
    _, saved = keras_cnn
    for saved_model in saved.values():
        library = saved_model.meta_graphs[0].graph_def.library
        ops = {n.op for f in library.function for n in f.node_def}
        assert {"Conv2D", "SaveV2", "RestoreV2", "MergeV2Checkpoints"} <= ops
        before = saved_model.SerializeToString(deterministic=True)
        check_saved_model(saved_model)
        assert saved_model.SerializeToString(deterministic=True) == before


@pytest.mark.slow  # builds a real Keras model
def test_it_refuses_a_saved_model_whose_save_path_is_a_const_string(keras_cnn):
    saved_model = type(keras_cnn[1]["saved"])()
    saved_model.CopyFrom(keras_cnn[1]["saved"])
    function = saver_function(saved_model, "SaveV2")
    add_node(function.node_def, "evil", "Const", string="/tmp/evil")
    save = next(n for n in function.node_def if n.op == "SaveV2")
    save.input[0] = "evil:output:0"
    with pytest.raises(OpAuditError) as caught:
        check_saved_model(saved_model)
    assert list(caught.value.ops) == ["SaveV2"]
    assert f"function '{function.signature.name}' node 'SaveV2'" in str(caught.value)
    assert str(caught.value).startswith("the SavedModel uses operations that are not allowed")


@pytest.mark.slow  # builds a real Keras model
def test_it_refuses_a_saver_function_called_with_a_const_path(keras_cnn):
    saved_model = type(keras_cnn[1]["saved"])()
    saved_model.CopyFrom(keras_cnn[1]["saved"])
    graph_def = saved_model.meta_graphs[0].graph_def
    name = saver_function(saved_model, "SaveV2").signature.name
    add_node(graph_def.node, "evil", "Const", string="/tmp/evil")
    call = next(n for n in graph_def.node if "f" in n.attr and n.attr["f"].func.name == name)
    call.input[0] = "evil"
    with pytest.raises(OpAuditError) as caught:
        check_saved_model(saved_model)
    assert sorted(caught.value.ops) == ["MergeV2Checkpoints", "SaveV2"]


@pytest.mark.slow  # builds a real Keras model
def test_it_refuses_a_saved_model_without_a_saver_filename(keras_cnn):
    saved_model = type(keras_cnn[1]["exported"])()
    saved_model.CopyFrom(keras_cnn[1]["exported"])
    saved_model.meta_graphs[0].saver_def.filename_tensor_name = ""
    with pytest.raises(OpAuditError) as caught:
        check_saved_model(saved_model, what="model.zip")
    assert sorted(caught.value.ops) == ["MergeV2Checkpoints", "RestoreV2", "SaveV2"]
    assert str(caught.value).startswith("model.zip uses operations")


def tf1_saved_model(default_path: str):
    """A TF1-style SavedModel proto: the saver path is a PlaceholderWithDefault chain."""
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    meta_graph = saved_model.meta_graphs.add()
    meta_graph.saver_def.filename_tensor_name = "save/Const:0"
    nodes = meta_graph.graph_def.node
    add_node(nodes, "save/filename/input", "Const", string=default_path)
    add_node(nodes, "save/filename", "PlaceholderWithDefault", ["save/filename/input"])
    add_node(nodes, "save/Const", "PlaceholderWithDefault", ["save/filename"])
    add_node(nodes, "save/part", "Const", string="_temp/part")
    add_node(nodes, "save/StringJoin", "StringJoin", ["save/Const", "save/part"])
    add_node(nodes, "save/ShardedFilename", "ShardedFilename", ["save/StringJoin"])
    add_node(nodes, "save/SaveV2", "SaveV2", ["save/ShardedFilename"])
    add_node(nodes, "save/prefixes", "Pack", ["save/ShardedFilename", "^save/SaveV2"])
    add_node(nodes, "save/Merge", "MergeV2Checkpoints", ["save/prefixes", "save/Const"])
    add_node(nodes, "save/RestoreV2", "RestoreV2", ["save/Const"])
    return saved_model


def test_it_passes_a_tf1_saver_whose_path_defaults_to_a_bare_name():
    check_saved_model(tf1_saved_model("model"))


def test_it_refuses_a_tf1_saver_whose_default_path_is_absolute():
    with pytest.raises(OpAuditError) as caught:
        check_saved_model(tf1_saved_model("/tmp/evil"))
    assert sorted(caught.value.ops) == ["MergeV2Checkpoints", "RestoreV2", "SaveV2"]
    assert "graph node 'save/SaveV2' whose file path is not the saver's filename input" in str(
        caught.value
    )


def test_it_refuses_a_saver_suffix_that_is_not_a_checkpoint_suffix():
    saved_model = tf1_saved_model("model")
    part = next(n for n in saved_model.meta_graphs[0].graph_def.node if n.name == "save/part")
    part.attr["value"].tensor.string_val[0] = b"/../../etc/cron.d/x"
    with pytest.raises(OpAuditError) as caught:
        check_saved_model(saved_model)
    assert sorted(caught.value.ops) == ["MergeV2Checkpoints", "SaveV2"]
