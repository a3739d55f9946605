"""SavedModels as users have them: trained with an optimizer saved inside, outputs named by a signature."""

import json

import numpy as np
import pytest

from tests.converters.direct import convert_directly

pytestmark = pytest.mark.slow
ADD_SLOT = "'_UserObject' object has no attribute 'add_slot'"


def detector(folder, with_optimizer: bool):
    """A small detector head saved as a SavedModel whose signature returns "scores" then "boxes" (not
    in alphabetical order, and of different widths). With `with_optimizer`, it is trained one step
    with a TF1 Adam optimizer that is saved with it, slots and all, as a training script leaves it.
    Returns the model's outputs on `probe` (by key) and `probe`."""
    import tensorflow as tf

    class Detector(tf.Module):
        def __init__(self):
            rng = np.random.default_rng(3)
            self.kernel = tf.Variable(rng.normal(size=(3, 3, 3, 8)).astype(np.float32) * 0.3)
            self.score_weights = tf.Variable(rng.normal(size=(8, 3)).astype(np.float32))
            self.box_weights = tf.Variable(rng.normal(size=(8, 4)).astype(np.float32))
            self.box_bias = tf.Variable(np.full(4, 0.5, np.float32))

        @tf.function(input_signature=[tf.TensorSpec([None, 16, 16, 3], tf.float32, name="image")])
        def serve(self, image):
            features = tf.nn.relu(tf.nn.conv2d(image, self.kernel, 1, "SAME"))
            pooled = tf.reduce_mean(features, axis=[1, 2])
            return {
                "scores": tf.nn.softmax(pooled @ self.score_weights),
                "boxes": pooled @ self.box_weights + self.box_bias,
            }

    model = Detector()
    if with_optimizer:
        model.optimizer = tf.compat.v1.train.AdamOptimizer(0.01)
        batch = tf.constant(np.random.default_rng(4).uniform(size=(4, 16, 16, 3)), tf.float32)
        model.optimizer.minimize(
            lambda: tf.reduce_sum(model.serve(batch)["boxes"] ** 2),
            var_list=list(model.trainable_variables),
        )
    tf.saved_model.save(model, str(folder), signatures={"serving_default": model.serve})
    probe = np.random.default_rng(5).uniform(size=(1, 16, 16, 3)).astype(np.float32)
    return {key: value.numpy() for key, value in model.serve(probe).items()}, probe


def as_keras2(folder):
    """Label the saved optimizer as Keras 2 does ("optimizer"): TF2's loader then looks for Keras 2's
    optimizer classes (the tf-keras package, not installed here, as on most workers)."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = folder / "saved_model.pb"
    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString(path.read_bytes())
    optimizers = [n for n in proto.meta_graphs[0].object_graph_def.nodes if n.slot_variables]
    assert len(optimizers) == 1
    optimizers[0].user_object.identifier = "optimizer"
    path.write_bytes(proto.SerializeToString())


def saved(folder, optimizer: str | None):
    """detector() with no optimizer, a TF1 one, or one labelled as Keras 2's."""
    expected = detector(folder, with_optimizer=optimizer is not None)
    if optimizer == "keras2":
        as_keras2(folder)
    return expected


@pytest.mark.parametrize("optimizer", ["tf1", "keras2"])
def test_a_saved_model_with_its_optimizer_fails_to_load_in_tensorflow_2(tmp_path, optimizer):
    """The models the next tests convert really are the ones users report: TF2's loader refuses them."""
    import tensorflow as tf

    saved(tmp_path / "model", optimizer)
    with pytest.raises(AttributeError, match=ADD_SLOT):
        tf.saved_model.load(str(tmp_path / "model"))


def tflite_outputs_by_key(path, config, probe) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], probe)
    interpreter.invoke()
    by_name = {d["name"]: d["index"] for d in interpreter.get_output_details()}
    return {o["key"]: interpreter.get_tensor(by_name[o["name"]]) for o in config["outputs"]}


@pytest.mark.parametrize("optimizer", [None, "tf1", "keras2"])
def test_tflite_keeps_the_signature_output_names(tmp_path, optimizer):
    expected, probe = saved(tmp_path / "in/model", optimizer)
    report, events = convert_directly(
        "tflite", tmp_path / "in", tmp_path / "out", "saved_model", "arm", {}
    )
    assert report["verification"]["verdict"] == "pass"
    assert all(row["max_abs_error"] < 1e-5 for row in report["verification"]["outputs"])
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert sorted(o["key"] for o in config["outputs"]) == ["boxes", "scores"]
    # each key names the output that computes it: widths and values match the original model
    outputs = tflite_outputs_by_key(tmp_path / "out/model/net.tflite", config, probe)
    for key in ("scores", "boxes"):
        np.testing.assert_allclose(outputs[key], expected[key], atol=1e-5)
    warnings = [e["message"] for e in events if e.get("level") == "warning"]
    if optimizer:
        assert ADD_SLOT in warnings[0] and "TensorFlow 1 loader" in warnings[0]
    else:
        assert not warnings
    logged = next(e["message"] for e in events if e.get("message", "").startswith("Get outputs"))
    assert "(boxes)" in logged and "(scores)" in logged


def test_8bit_tflite_of_a_trained_saved_model_keeps_the_output_names(tmp_path):
    expected, probe = detector(tmp_path / "in/model", with_optimizer=True)
    (tmp_path / "in/calibration_data").mkdir()
    samples = np.random.default_rng(6).uniform(size=(16, 16, 16, 3)).astype(np.float32)
    np.save(tmp_path / "in/calibration_data/images.npy", samples)
    report, _ = convert_directly(
        "tflite",
        tmp_path / "in",
        tmp_path / "out",
        "saved_model",
        "arm",
        {"quantization_precision": "8bit"},
    )
    assert report["verification"]["verdict"] in ("pass", "warn")
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert {o["key"]: o["shape"] for o in config["outputs"]} == {
        "boxes": [1, 4],
        "scores": [1, 3],
    }
    assert all(o["dtype"] == "int8" for o in config["outputs"])


def test_a_trained_saved_model_becomes_a_tensorrt_engine(tmp_path):
    detector(tmp_path / "in/model", with_optimizer=True)
    report, _ = convert_directly(
        "tensorrt", tmp_path / "in", tmp_path / "out", "saved_model", "gpu", {}
    )
    assert report["verification"]["verdict"] == "pass"
    assert len(report["outputs"]) == 2
    assert (tmp_path / "out/model/net.engine").stat().st_size > 0


def test_the_ascend_preflight_freezes_a_trained_saved_model(tmp_path):
    import io

    from conversions.converters.ascend.preflight import check_tensorflow
    from conversions.converters.base import Events

    saved(tmp_path / "model", "keras2")
    model = check_tensorflow(
        tmp_path / "model",
        "saved_model",
        {"input_shape": "serving_default_image:1,16,16,3"},
        tmp_path,
        Events(io.StringIO()),
    )
    assert model.path == tmp_path / "model.pb" and len(model.outputs) == 2
