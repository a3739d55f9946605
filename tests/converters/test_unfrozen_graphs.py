"""A .pb that still reads variables is "not frozen", with how to freeze it, wherever it is read."""

import io

import pytest

from conversions.converters.ascend.preflight import check_tensorflow
from conversions.converters.base import ConversionError, Events
from conversions.converters.inspection import inspect_folder
from tests.converters.direct import convert_directly

pytestmark = pytest.mark.slow
HOW_TO_FREEZE = (
    "Freeze it so the weights become constants: in TensorFlow 2, convert_variables_to_constants_v2"
)


def tf2_nested(path):
    """A TF2 function that calls another: the variable is read inside the called function, and the
    outer graph only receives its handle as a resource placeholder."""
    import tensorflow as tf

    class Net(tf.Module):
        def __init__(self):
            self.w = tf.Variable(tf.ones([4, 3]))

        @tf.function
        def inner(self, x):
            return x @ self.w

        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32, name="input")])
        def serve(self, x):
            return tf.nn.relu(self.inner(x))

    net = Net()  # the method holds its object weakly
    graph_def = net.serve.get_concrete_function().graph.as_graph_def()
    assert not {n.op for n in graph_def.node} & {"ReadVariableOp", "VarHandleOp"}
    path.write_bytes(graph_def.SerializeToString())
    return "ReadVariableOp"


def tf1_variables(path):
    """A TF1 graph with reference variables (VariableV2) and their initialisers."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        x = tf.compat.v1.placeholder(tf.float32, [1, 4], name="input")
        w = tf.compat.v1.get_variable("w", [4, 3], use_resource=False)
        tf.identity(x @ w, name="out")
    path.write_bytes(graph.as_graph_def().SerializeToString())
    return "VariableV2"


BUILDERS = [tf2_nested, tf1_variables]


def folder_with(tmp_path, build, where="model"):
    (tmp_path / "in" / where).mkdir(parents=True, exist_ok=True)
    op = build(tmp_path / "in" / where / "net.pb")
    return tmp_path / "in", op


def assert_not_frozen(message: str, op: str):
    assert "net.pb is not a frozen graph: it still holds variables" in message
    assert op in message and HOW_TO_FREEZE in message and "saved_model template" in message


@pytest.mark.parametrize("build", BUILDERS)
def test_inspection_says_not_frozen(tmp_path, build):
    root, op = folder_with(tmp_path, build)
    with pytest.raises(ConversionError) as info:
        inspect_folder(root, "arm")
    assert_not_frozen(str(info.value), op)


def test_a_handle_fed_as_input_is_named(tmp_path):
    root, _ = folder_with(tmp_path, tf2_nested)
    with pytest.raises(ConversionError, match="variable handles fed as inputs"):
        inspect_folder(root, "gpu")


@pytest.mark.parametrize("build", BUILDERS)
@pytest.mark.parametrize("key,chip", [("tflite", "arm"), ("tensorrt", "gpu")])
def test_conversion_refuses_before_converting(tmp_path, build, key, chip):
    root, op = folder_with(tmp_path, build)
    with pytest.raises(ConversionError) as info:
        convert_directly(
            key,
            root,
            tmp_path / "out",
            "frozen_graph",
            chip,
            {"input_tensor_names": "input", "output_tensor_names": "out"},
        )
    assert_not_frozen(str(info.value), op)
    assert not (tmp_path / "out/model").exists()


@pytest.mark.parametrize("build", BUILDERS)
def test_the_ascend_preflight_says_not_frozen(tmp_path, build):
    root, op = folder_with(tmp_path, build, where=".")
    with pytest.raises(ConversionError) as info:
        check_tensorflow(root / "net.pb", "frozen_graph", {}, tmp_path, Events(io.StringIO()))
    assert_not_frozen(str(info.value), op)
