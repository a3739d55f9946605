"""Model inspection on real models built here, called directly (as the child process does)."""

import shutil

import pytest

from conversions.converters.base import ConversionError
from conversions.converters.inspection import detect_format, inspect_folder

pytestmark = pytest.mark.slow


def graph_folder(root, function, spec_shape, name="net.pb"):
    """A frozen graph of `function` (output node `out`) in root/model/; returns root."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = tf.function(lambda x: tf.identity(function(x), name="out")).get_concrete_function(
        tf.TensorSpec(spec_shape, tf.float32, name="input")
    )
    graph_def = convert_variables_to_constants_v2(concrete).graph.as_graph_def()
    (root / "model").mkdir(parents=True)
    (root / "model" / name).write_bytes(graph_def.SerializeToString())
    return root


def test_a_frozen_cnn_is_read_with_its_tensors_and_the_options_to_type(tmp_path, cnn_pb):
    (tmp_path / "model").mkdir()
    (tmp_path / "model/cnn.pb").write_bytes(cnn_pb.read_bytes())
    report = inspect_folder(tmp_path, "arm")
    assert report["format"] == "frozen_graph" and report["model"] == "cnn.pb"
    assert report["inputs"] == [
        {"name": "input:0", "shape": [1, 32, 32, 3], "dtype": "float32", "unknown_dims": []}
    ]
    assert report["outputs"] == ["Identity:0"]
    assert report["op_types"]["Conv2D"] == 2 and report["op_count"] >= 8
    assert report["refused_ops"] == [] and report["unsupported_ops"] == {"arm": []}
    assert report["suggested_options"]["input_tensor_names"] == "input"
    assert report["suggested_options"]["output_tensor_names"] == "Identity"
    assert report["suggested_options"]["input_shape"] == "input:1,32,32,3"


def test_dynamic_dimensions_are_flagged_and_given_a_number_in_the_shape(tmp_path):
    import tensorflow as tf

    graph_folder(tmp_path, lambda x: tf.nn.relu(x), [None, 8, None, 3])
    report = inspect_folder(tmp_path)
    assert report["inputs"][0]["shape"] == [None, 8, None, 3]
    assert report["inputs"][0]["unknown_dims"] == [0, 2] and report["unknown_dims"] is True
    assert report["suggested_options"]["input_shape"] == "input:1,8,1,3"


def test_ops_tflite_will_not_take_are_listed_for_the_arm_target(tmp_path):
    import tensorflow as tf

    graph_folder(tmp_path, lambda x: tf.math.erfc(x) + 1.0, [1, 4])
    report = inspect_folder(tmp_path, "arm")
    assert report["refused_ops"] == []
    assert report["unsupported_ops"] == {"arm": ["Erfc"]}


def test_a_saved_model_lists_signatures_tags_and_signature_tensors(tmp_path, cnn_saved_model):
    shutil.copytree(cnn_saved_model, tmp_path / "model")
    report = inspect_folder(tmp_path)
    assert report["format"] == "saved_model"
    assert report["signatures"] == ["serve", "serving_default"]
    assert report["tag_sets"] == ["serve"]
    assert report["inputs"][0]["shape"] == [None, 32, 32, 3]
    assert report["inputs"][0]["unknown_dims"] == [0]
    assert report["suggested_options"] == {"signature": "serving_default", "tag": "serve"}


def test_file_ops_are_reported_not_run(tmp_path):
    from tests.converters.test_op_audit import add_node, graph_pb2

    graph = graph_pb2().GraphDef()
    add_node(graph.node, "x", "Placeholder").attr["dtype"].type = 1
    add_node(graph.node, "name", "Const", string="/etc/passwd")
    add_node(graph.node, "read", "ReadFile", ["name"])
    (tmp_path / "model").mkdir()
    (tmp_path / "model/evil.pb").write_bytes(graph.SerializeToString())
    report = inspect_folder(tmp_path, "arm")
    assert report["refused_ops"] == ["ReadFile"]
    assert "unsupported_ops" not in report  # no trial conversion of a refused graph


def test_bad_folders_get_messages(tmp_path, cnn_pb):
    with pytest.raises(ConversionError, match="No model found"):
        detect_format(tmp_path)
    (tmp_path / "model").mkdir()
    for name in ("a.pb", "b.pb"):
        (tmp_path / "model" / name).write_bytes(cnn_pb.read_bytes())
    with pytest.raises(ConversionError, match=r"several \.pb files \(a\.pb, b\.pb\): keep one"):
        detect_format(tmp_path)
    (tmp_path / "model/b.pb").unlink()
    (tmp_path / "model/a.pb").write_bytes(cnn_pb.read_bytes()[: cnn_pb.stat().st_size // 2])
    with pytest.raises(ConversionError, match="truncated or corrupt|is incomplete"):
        inspect_folder(tmp_path)


def test_a_caffe_model_is_read_with_our_schema(tmp_path):
    from tests.ascendkit import lenet

    lenet().write(tmp_path)
    report = inspect_folder(tmp_path, "ascend")
    assert report["format"] == "caffemodel" and report["model"] == "net.prototxt + net.caffemodel"
    assert report["inputs"] == [
        {"name": "data", "shape": [1, 1, 28, 28], "dtype": "float32", "unknown_dims": []}
    ]
    assert report["outputs"] == ["prob"]
    assert report["op_types"]["Convolution"] == 2 and report["op_count"] == 9


def test_caffe_layers_outside_the_gpu_and_arm_set_are_listed(tmp_path):
    from tests.ascendkit import lenet

    net = lenet()
    net.layer("soft", "BNLL", ["prob"])
    net.write(tmp_path / "model")
    assert inspect_folder(tmp_path, "gpu")["unsupported_ops"] == {"gpu": ["BNLL"]}
    assert "unsupported_ops" not in inspect_folder(tmp_path, "ascend")


def test_a_caffe_model_with_a_python_layer_is_refused_by_inspection(tmp_path):
    from tests.ascendkit import lenet

    net = lenet()
    net.layer("hook", "Python", ["prob"])
    net.write(tmp_path)
    with pytest.raises(ConversionError, match="Python"):
        inspect_folder(tmp_path)
