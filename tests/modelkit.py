"""Small real models built inside the tests (no downloads): a Keras CNN and MobileNetV2 with random weights."""

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by `build(folder)` once per test run: the pytest-xdist processes
    of `make test` share it (the first builds it under a lock, the others wait for it or find it
    done). Read only: a test copies what it changes."""
    base = tmp_path_factory.getbasetemp()
    if os.getenv("PYTEST_XDIST_WORKER"):
        base = base.parent  # this run's folder, above each process's own
    root = base / "built-once"
    root.mkdir(exist_ok=True)
    folder, done = root / name, root / f"{name}.done"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also on a failed build
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def _keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    return tf, keras


def small_cnn(input_shape=(32, 32, 3), classes=10, seed=7):
    tf, keras = _keras()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape, name="input")
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="first_conv")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.MaxPooling2D()(x)
    # named: Keras numbers unnamed layers per process, so names would depend on what ran before
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="second_conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def randomize_biases(model, seed=1):
    """Non-zero biases and batch-norm shifts (Keras starts them at zero, and exporters then drop the
    bias inputs a converter must handle)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if weight.path.rsplit("/", 1)[-1] in ("bias", "beta", "moving_mean"):
            weight.assign(rng.uniform(-0.5, 0.5, weight.shape).astype("float32"))
    return model


def mobilenet_v2(seed=7, logits=False, calibrate_bn=False):
    """MobileNetV2, alpha 0.35, 96x96, 1000 classes, random weights.

    As Keras initializes it, its signal fades through the blocks (logits about 1e-10, a softmax of
    about 1/1000 for every class, below int8's output step of 1/256). `calibrate_bn` sets every batch
    normalization's moving statistics from one batch of uniform [-1, 1) images, which gives activations
    of a trained network's scale; `logits` drops the softmax.
    """
    tf, keras = _keras()
    keras.utils.set_random_seed(seed)
    model = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3),
        alpha=0.35,
        weights=None,
        classifier_activation=None if logits else "softmax",
    )
    if calibrate_bn:
        layers = [
            layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)
        ]
        for layer in layers:
            layer.momentum = 0.0  # the moving statistics become this batch's statistics
        batch = np.random.default_rng(seed).uniform(-1, 1, size=(16, 96, 96, 3)).astype(np.float32)
        model(batch, training=True)
        for layer in layers:
            layer.momentum = 0.99
    return model


def freeze(model, path: Path) -> tuple[str, str]:
    """Write `model` as a frozen GraphDef; returns (input tensor name, output tensor name)."""
    tf, _ = _keras()
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec([1, *model.input_shape[1:]], tf.float32, name="input")
    function = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec)
    frozen = convert_variables_to_constants_v2(function)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return frozen.inputs[0].name, frozen.outputs[0].name


def save_saved_model(model, folder: Path) -> None:
    model.export(str(folder), verbose=False)


def reference_outputs(
    pb_path: Path, input_name: str, output_name: str, arrays: np.ndarray
) -> np.ndarray:
    """Run a frozen graph with TensorFlow, one sample at a time."""
    tf, _ = _keras()
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(Path(pb_path).read_bytes())
    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        return np.concatenate([session.run(output_name, {input_name: a[None]}) for a in arrays])


def tflite_outputs(path: Path, arrays: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    results = []
    for array in arrays:
        interpreter.set_tensor(inp["index"], array[None].astype(inp["dtype"]))
        interpreter.invoke()
        results.append(interpreter.get_tensor(out["index"]))
    return np.concatenate(results)


def outlier_cnn(seed=3, outlier=500.0):
    """A small CNN with outlier channels: two of the 32 channels that layer `features` writes are
    `outlier` times louder than the rest, and layer `mix` reads them with weights as much smaller.
    Float, the network is ordinary; int8 gives one step to all 32 channels, so the quiet ones round
    to nothing and full 8bit fails honestly, while `features` and `mix` kept in float pass."""
    tf, keras = _keras()
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(16, 16, 3), name="input")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inputs)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="features")(x)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu", name="mix")(x)
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="down")(x)
    x = keras.layers.Conv2D(48, 3, padding="same", activation="relu", name="deep")(x)
    x = keras.layers.Conv2D(48, 1, activation="relu", name="expand")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(10, name="head")(x)
    model = keras.Model(inputs, outputs)
    kernel, bias = model.get_layer("features").get_weights()
    kernel[..., :2] *= outlier
    model.get_layer("features").set_weights([kernel, bias])
    kernel, bias = model.get_layer("mix").get_weights()
    kernel[:, :, :2, :] /= outlier
    model.get_layer("mix").set_weights([kernel, bias])
    return model


def glyphs(count: int = 1797, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A small handwriting-like classification set made here: (count, 8, 8) images in [0, 1] in
    steps of 1/16, and their class ids 0-9.

    Each class is a fixed stroke pattern (a random walk of the pen over the 8x8 grid, blurred);
    every sample moves it by up to a pixel, varies the ink and adds noise, so a small network
    trained on it reaches about 90% on held-out samples, not 100%: a trained classifier whose
    accuracy a conversion can visibly change. (scikit-learn's digits served before; Keras imports
    scikit-learn whenever it is installed, a cost every converter child paid in the tests.)
    """
    rng = np.random.default_rng(seed)
    prototypes = np.zeros((10, 8, 8))
    for glyph in prototypes:
        row, col = rng.integers(1, 7, size=2)
        for _ in range(14):
            glyph[row, col] = 1.0
            row = int(np.clip(row + rng.integers(-1, 2), 0, 7))
            col = int(np.clip(col + rng.integers(-1, 2), 0, 7))
    blurred = prototypes.copy()
    for axis in (1, 2):
        blurred += 0.35 * (np.roll(prototypes, 1, axis) + np.roll(prototypes, -1, axis))
    labels = rng.integers(0, 10, size=count)
    images = np.empty((count, 8, 8))
    for i, label in enumerate(labels):
        shift = rng.integers(-1, 2, size=2)
        image = np.roll(blurred[label], tuple(shift), axis=(0, 1)) * rng.uniform(0.6, 1.2)
        images[i] = image + rng.normal(0.0, 0.3, size=(8, 8))
    images = np.round(np.clip(images, 0.0, 1.0) * 16) / 16
    return images.astype(np.float32), labels.astype(np.int64)
