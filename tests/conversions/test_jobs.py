"""The worker's job, run in this process (the converter still runs in its own child process)."""

import json
import shutil

import numpy as np
import pytest

from conversions.jobs import run_conversion
from conversions.models import ConversionTask
from tests import modelkit
from tests.helpers import CNN_OPTIONS, make_task

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
S = ConversionTask.Status


def convert(user, folder, name="convert-demo", **options):
    task = make_task(
        user,
        name=name,
        input_location=folder,
        output_location=f"out/{name}/",
        options={**CNN_OPTIONS, "batch_size": 1, **options},
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    return task


def test_it_converts_a_frozen_graph_to_tflite_that_matches_tensorflow(
    user, cnn_folder, cnn_pb, alice_home
):
    task = convert(user, cnn_folder)
    assert task.status == S.SUCCEEDED, task.error_message
    out = alice_home / "out" / "convert-demo"
    for name in ("model/convert-demo.tflite", "model/config.json", "job_log.txt", "report.json"):
        assert (out / name).is_file(), name
    arrays = np.random.default_rng(3).uniform(-1, 1, size=(16, 32, 32, 3)).astype(np.float32)
    expected = modelkit.reference_outputs(cnn_pb, "input:0", "Identity:0", arrays)
    got = modelkit.tflite_outputs(out / "model/convert-demo.tflite", arrays)
    assert np.abs(expected - got).max() < 1e-5
    config = json.loads((out / "model/config.json").read_text())
    assert config["inputs"][0]["shape"] == [1, 32, 32, 3] and config["outputs"][0]["shape"] == [
        1,
        10,
    ]
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "succeeded" and report["verification"]["verdict"] == "pass"
    assert report["verification"]["outputs"][0]["max_abs_error"] < 1e-5
    assert report == task.result
    assert "Model converted successfully" in (out / "job_log.txt").read_text()
    assert task.log_lines.filter(text__startswith="Get inputs: input:0").exists()
    assert (task.stage, task.progress) == ("done", 100)


def failed(task) -> str:
    assert task.status == S.FAILED
    return task.error_message


def test_a_folder_without_model_fails_with_the_layout_rule(user, alice_home):
    (alice_home / "models/empty").mkdir(parents=True)
    (alice_home / "models/empty/cnn.pb").write_bytes(b"x")
    message = failed(convert(user, "models/empty/"))
    assert "No model/ folder: put the model in a folder named exactly 'model'" in message
    report = json.loads((alice_home / "out/convert-demo/report.json").read_text())
    assert report["status"] == "failed" and report["error"] == message
    assert "No model/ folder" in (alice_home / "out/convert-demo/job_log.txt").read_text()


def test_two_pb_files_fail_naming_both(user, cnn_folder, cnn_pb, alice_home):
    shutil.copy(cnn_pb, alice_home / "models/cnn/model/other.pb")
    message = failed(convert(user, cnn_folder))
    assert (
        "2 .pb files in model/ (model/cnn.pb, model/other.pb): keep exactly one frozen graph."
        in message
    )


def test_a_truncated_pb_fails_as_truncated(user, cnn_folder, alice_home):
    path = alice_home / "models/cnn/model/cnn.pb"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = failed(convert(user, cnn_folder))
    assert "truncated" in message and "cnn.pb" in message


def test_a_graph_with_variables_is_not_a_frozen_graph(user, alice_home):
    import tensorflow as tf

    model = modelkit.small_cnn()
    function = tf.function(lambda x: model(x)).get_concrete_function(
        tf.TensorSpec([1, 32, 32, 3], tf.float32)
    )
    folder = alice_home / "models/unfrozen/model"
    folder.mkdir(parents=True)
    (folder / "graph.pb").write_bytes(function.graph.as_graph_def().SerializeToString())
    message = failed(convert(user, "models/unfrozen/"))
    assert (
        "is not a frozen graph: it still holds variables" in message and "ReadVariableOp" in message
    )


def test_a_missing_folder_fails_and_the_next_task_still_converts(user, cnn_folder):
    message = failed(convert(user, "models/gone/", name="gone"))
    assert "The input folder models/gone/ does not exist in the data directory." in message
    assert convert(user, cnn_folder, name="after").status == S.SUCCEEDED


def test_wrong_tensor_names_list_the_real_ones(user, cnn_folder):
    message = failed(convert(user, cnn_folder, input_tensor_names="images"))
    assert "The input tensor images:0 is not in the graph" in message and "input" in message


def test_a_canceled_task_is_not_claimed(user, cnn_folder):
    task = make_task(user, input_location=cnn_folder, options=CNN_OPTIONS)
    task.mark_canceled()
    assert run_conversion(task.pk) == "skipped"
    task.refresh_from_db()
    assert task.status == S.CANCELED and task.log_lines.count() == 0


def test_a_fail_verdict_fails_the_task_and_still_publishes_model_and_report(user, alice_home):
    """Random-weight MobileNetV2's softmax collapses to zeros in int8 (see modelkit.mobilenet_v2)."""
    modelkit.freeze(modelkit.mobilenet_v2(), alice_home / "models/mnv2/model/mobilenet.pb")
    (alice_home / "models/mnv2/calibration_data").mkdir()
    arrays = np.random.default_rng(0).uniform(-1, 1, size=(8, 96, 96, 3)).astype(np.float32)
    np.save(alice_home / "models/mnv2/calibration_data/images.npy", arrays)
    task = convert(user, "models/mnv2/", quantization_precision="8bit", batch_size=4)
    assert failed(task) == (
        "The converted model does not match the original (verification verdict: fail). "
        "The figures are in report.json."
    )
    out = alice_home / "out/convert-demo"
    assert (out / "model/convert-demo.tflite").is_file()
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "failed" and report["verification"]["verdict"] == "fail"
    assert report["verification"]["outputs"][0]["cosine_similarity"] == 0.0
