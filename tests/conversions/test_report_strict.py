"""report.json is strict JSON end to end: NaN and Inf figures never reach the task row or the file."""

import json

import numpy as np
import pytest

from conversions.converters.report import Report, dumps
from conversions.jobs import run_conversion
from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, make_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def freeze_function(path, function, shape):
    """A frozen graph of `function` (input `input`, output `Identity`)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec(shape, tf.float32, name="input")
    frozen = convert_variables_to_constants_v2(tf.function(function).get_concrete_function(spec))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())


def convert(user, folder, **options):
    task = make_task(
        user,
        input_location=folder,
        output_location="out/strict/",
        options={**CNN_OPTIONS, "batch_size": 1, **options},
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    return task


def strict_report(alice_home) -> dict:
    text = (alice_home / "out/strict/report.json").read_text()
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in report.json"))


def test_an_inf_figure_fails_the_task_with_its_verdict_not_a_worker_crash(user, alice_home):
    """y = x * 1000 * 1000 leaves float16's range (65504): the 16bit ONNX computes Inf, the original
    does not, and the report's error figures are null instead of Infinity."""
    import onnx
    from onnx import TensorProto, helper

    thousand = helper.make_tensor("k", TensorProto.FLOAT, [1], [1000.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "k"], ["h"]), helper.make_node("Mul", ["h", "k"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[thousand],
    )
    (alice_home / "models/big/model").mkdir(parents=True)
    onnx.save(helper.make_model(graph, ir_version=8), str(alice_home / "models/big/model/m.onnx"))
    task = make_task(
        user,
        slug="onnx-to-tensorrt",
        input_location="models/big/",
        output_location="out/strict/",
        options={"quantization_precision": "16bit", "batch_size": 1},
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    assert task.status == ConversionTask.Status.FAILED
    assert task.error_message.startswith("The converted model does not match the original")
    row = strict_report(alice_home)["verification"]["outputs"][0]
    assert row["finite"] is False and row["max_abs_error"] is None and row["verdict"] == "fail"
    assert task.result["verification"]["outputs"][0]["mean_abs_error"] is None


def test_an_original_model_that_outputs_nan_fails_with_a_plain_message(user, alice_home):
    """This model once crashed the final database write: its NaN figures reached the JSON column
    ("The worker failed unexpectedly")."""
    import tensorflow as tf

    freeze_function(alice_home / "models/nan/model/nan.pb", lambda x: tf.sqrt(x), [1, 10])
    task = convert(user, "models/nan/")
    assert task.status == ConversionTask.Status.FAILED
    message = task.error_message
    assert message.startswith(
        "The original model outputs NaN or Inf on the verification inputs (random (seed "
    ), message
    # sqrt of 8 random samples in [-1, 1): about half the 80 values are NaN
    count = int(message.split("output Identity:0 has ")[1].split(" NaN")[0])
    assert 10 < count < 70 and " NaN and 0 Inf of 80 values" in message, message
    assert "not a conversion problem" in message
    assert strict_report(alice_home)["status"] == "failed"


def test_the_report_turns_nan_and_inf_into_null():
    data = {
        "verification": {
            "verdict": "warn",
            "outputs": [
                {
                    "name": "y",
                    "verdict": "warn",
                    "cosine_similarity": float("nan"),
                    "max_abs_error": np.float32("inf"),
                }
            ],
        },
        "size": 3,
    }
    text = dumps(Report.from_dict(data).to_dict())
    parsed = json.loads(text)
    assert parsed["verification"]["outputs"][0]["cosine_similarity"] is None
    assert parsed["verification"]["outputs"][0]["max_abs_error"] is None
    assert parsed["size"] == 3 and "accuracy" not in parsed
    with pytest.raises(ValueError):
        json.dumps({"x": float("nan")}, allow_nan=False)


def verdicts(cosine: str, accuracy: str | None) -> Report:
    data = {"verification": {"verdict": cosine, "outputs": []}}
    if accuracy:
        data["accuracy"] = {
            "original": 90.0,
            "converted": 87.5 if accuracy == "fail" else 89.5,
            "drop_points": 2.5 if accuracy == "fail" else 0.5,
            "samples": 40,
            "tolerance_points": 1.0,
            "verdict": accuracy,
        }
    return Report.from_dict(data)


def test_an_accuracy_within_tolerance_passes_a_cosine_warning_and_a_larger_drop_fails():
    assert verdicts("warn", "pass").failure() is None
    assert verdicts("warn", None).failure() is None
    assert verdicts("pass", "fail").failure() == (
        "The converted model loses 2.50 points of top-1 accuracy on evaluation_data "
        "(90.00% -> 87.50%), more than accuracy_tolerance allows (1 points)."
    )
    assert "verification verdict: fail" in verdicts("fail", "pass").failure()


def test_a_section_without_its_figures_is_left_out_not_a_crash():
    report = Report.from_dict({"accuracy": {"original": 1.0}, "target": "tflite"})
    assert report.accuracy is None and report.extra == {"target": "tflite"}


def test_the_task_row_stores_strict_json_whoever_writes_it(user):
    task = make_task(user, status=ConversionTask.Status.RUNNING)
    assert task.mark_failed("x", result={"verification": {"cosine": float("nan")}, "n": [np.inf]})
    task.refresh_from_db()
    assert task.result == {"verification": {"cosine": None}, "n": [None]}
