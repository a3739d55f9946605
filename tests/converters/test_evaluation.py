"""evaluation_data/: top-1 accuracy of the original and the converted model on a classifier trained here."""

import shutil

import numpy as np
import pytest

from conversions.converters.base import ConversionError
from tests import modelkit
from tests.converters.test_tflite import run

pytestmark = pytest.mark.slow
NAMES = {"input_tensor_names": "input", "output_tensor_names": "Identity"}


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """A Dense classifier of modelkit's 8x8 glyphs, trained for 40 epochs (91% measured on the 300
    held-out glyphs), frozen to model/digits.pb, with calibration and evaluation data."""
    tf, keras = modelkit._keras()
    images, labels = modelkit.glyphs()
    features = images.reshape(len(images), 64)
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input(shape=(64,), name="input"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(features[:1400], labels[:1400], epochs=40, batch_size=32, verbose=0)
    root = tmp_path_factory.mktemp("digits")
    modelkit.freeze(model, root / "model/digits.pb")
    (root / "calibration_data").mkdir()
    np.save(root / "calibration_data/train.npy", features[:100])
    (root / "evaluation_data").mkdir()
    np.save(root / "evaluation_data/inputs.npy", features[1497:])
    np.save(root / "evaluation_data/labels.npy", labels[1497:].astype(np.int64))
    return root


@pytest.fixture
def folder(digits, tmp_path):
    shutil.copytree(digits, tmp_path / "in")
    return tmp_path / "in"


def test_32bit_keeps_the_accuracy_to_the_point(folder, tmp_path):
    report, events = run(folder, tmp_path / "out", quantization_precision="32bit", **NAMES)
    accuracy = report["accuracy"]
    assert accuracy["samples"] == 300 and accuracy["output"] == "Identity:0"
    assert accuracy["original"] > 85.0, "the classifier did not train"
    assert accuracy["converted"] == accuracy["original"] and accuracy["drop_points"] == 0.0
    assert accuracy["tolerance_points"] == 1.0 and accuracy["verdict"] == "pass"
    assert any(
        e.get("message", "").startswith("Top-1 accuracy on 300 evaluation samples: original")
        for e in events
    )


def test_8bit_reports_a_real_drop_judged_against_the_tolerance(folder, tmp_path):
    report, _ = run(
        folder,
        tmp_path / "out",
        quantization_precision="8bit",
        accuracy_tolerance="0.5",
        **NAMES,
    )
    accuracy = report["accuracy"]
    original, converted = accuracy["original"], accuracy["converted"]
    assert original > 85.0 and abs(original - converted) < 5.0
    assert accuracy["drop_points"] == pytest.approx(original - converted, abs=1e-3)
    # each of the 300 samples is 1/3 of a point: the figure is a whole number of samples
    assert round(converted * 3) == pytest.approx(converted * 3, abs=1e-3)
    assert accuracy["verdict"] == ("pass" if original - converted <= 0.5 else "fail")


def refused(folder, tmp_path) -> str:
    with pytest.raises(ConversionError) as info:
        run(folder, tmp_path / "out", **NAMES)
    assert not (tmp_path / "out/model/net.tflite").exists(), "refused only after converting"
    return str(info.value)


def test_a_label_count_that_does_not_match_is_refused(folder, tmp_path):
    np.save(folder / "evaluation_data/labels.npy", np.zeros(299, np.int64))
    assert refused(folder, tmp_path) == (
        "evaluation_data/labels.npy holds 299 labels for 300 input samples: give exactly one class "
        "id per sample, in the same order."
    )


def test_float_labels_are_refused(folder, tmp_path):
    np.save(folder / "evaluation_data/labels.npy", np.zeros(300, np.float32))
    assert "evaluation_data/labels.npy holds float32 values: save the class ids as integers" in (
        refused(folder, tmp_path)
    )


def test_inputs_of_the_wrong_shape_are_refused(folder, tmp_path):
    np.save(folder / "evaluation_data/inputs.npy", np.zeros((300, 8, 8), np.float32))
    assert "evaluation_data/inputs.npy has shape [300, 8, 8] but input input takes" in refused(
        folder, tmp_path
    )


def test_labels_beyond_the_class_count_are_refused(folder, tmp_path):
    np.save(folder / "evaluation_data/labels.npy", np.full(300, 12, np.int64))
    assert "names class 12, but output Identity:0 scores only 10 classes" in refused(
        folder, tmp_path
    )


def test_an_output_that_is_not_class_scores_is_refused(tmp_path):
    import tensorflow as tf

    from tests.conversions.test_report_strict import freeze_function

    folder = tmp_path / "in"
    freeze_function(
        folder / "model/sum.pb", lambda x: tf.reduce_sum(x, axis=1, keepdims=True), [1, 64]
    )
    (folder / "evaluation_data").mkdir()
    np.save(folder / "evaluation_data/inputs.npy", np.ones((5, 64), np.float32))
    np.save(folder / "evaluation_data/labels.npy", np.zeros(5, np.int64))
    assert "needs a classifier: the model's first output Identity:0 gives shape [1] per sample" in (
        refused(folder, tmp_path)
    )


def test_evaluation_data_without_labels_is_a_layout_problem(folder, tmp_path):
    (folder / "evaluation_data/labels.npy").unlink()
    assert "evaluation_data/ has no labels.npy" in refused(folder, tmp_path)


def test_the_tensorrt_route_measures_accuracy_on_its_onnx_model(digits, tmp_path):
    """TensorRT judges the ONNX model the engine is built from (ONNX Runtime), against TensorFlow."""
    from tests.converters.direct import convert_directly

    shutil.copytree(digits, tmp_path / "in")
    report, _ = convert_directly(
        "tensorrt",
        tmp_path / "in",
        tmp_path / "out",
        "frozen_graph",
        "gpu",
        {**NAMES, "quantization_precision": "16bit", "accuracy_tolerance": "2"},
    )
    accuracy = report["accuracy"]
    assert accuracy["samples"] == 300 and accuracy["original"] > 85.0
    assert abs(accuracy["drop_points"]) <= 1.0 and accuracy["tolerance_points"] == 2.0
    assert accuracy["verdict"] == "pass"
