"""End to end through a real django-q2 worker process and the real `convert` command."""

import json
import subprocess
import sys

import numpy as np
import pytest
from django.urls import reverse

from conversions.models import ConversionTask
from tests.conftest import ROOT, worker_env
from tests.helpers import CNN_OPTIONS, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
S = ConversionTask.Status


def ended(task_id):
    task = ConversionTask.objects.get(pk=task_id)
    return task if not task.is_active else None


def test_a_task_created_in_the_console_is_converted_by_the_worker(
    client, user, cnn_folder, alice_home, worker
):
    client.force_login(user)
    form = {
        "name": "convert-web1",
        "template": "tensorflow-frozen-graph-to-tflite",
        "input_location": cnn_folder,
        "output_location": "out/web1/",
    }
    form.update({f"opt-{k}": v for k, v in CNN_OPTIONS.items()})
    assert client.post(reverse("conversions:create"), form).status_code == 302
    task = ConversionTask.objects.get(name="convert-web1")
    seen = set()

    def done():
        current = ConversionTask.objects.get(pk=task.pk)
        seen.add(current.status)
        return current if not current.is_active else None

    task = wait_for(done, timeout=180, what="the worker to finish the task")
    assert task.status == S.SUCCEEDED, task.error_message
    assert S.RUNNING in seen or task.started is not None
    for name in ("model/convert-web1.tflite", "model/config.json", "job_log.txt", "report.json"):
        assert (alice_home / "out/web1" / name).is_file(), name
    assert task.worker and task.heartbeat is not None
    # The converter ran confined (Linux with Landlock, as on every host we run tests on).
    log = (alice_home / "out/web1" / "job_log.txt").read_text()
    assert "Sandbox: Landlock ABI" in log
    # the two converted files, then job_log.txt and report.json: four in all
    assert "Publish 4 files to out/web1/: 2 from the conversion, job_log.txt and report.json" in log
    # WARM_CHILDREN is on: the worker process started a warm child when it spawned.
    assert "Converter child: warm (started before the task)" in log
    # report.json says where the time went, phase by phase.
    timings = json.loads((alice_home / "out/web1" / "report.json").read_text())["timings"]["task"]
    assert timings["warm_child"] is True
    phases = ("queue_wait", "staging", "child_start", "audit", "conversion", "verification")
    assert all(timings[f"{phase}_s"] >= 0 for phase in (*phases, "publishing")), timings
    assert timings["conversion_s"] > 0 and timings["total_s"] < 180


def test_the_worker_keeps_serving_after_a_bad_folder(client, user, cnn_folder, alice_home, worker):
    client.force_login(user)
    (alice_home / "models/nomodel").mkdir(parents=True)
    base = {
        "template": "tensorflow-frozen-graph-to-tflite",
        **{f"opt-{k}": v for k, v in CNN_OPTIONS.items()},
    }
    client.post(
        reverse("conversions:create"),
        {**base, "name": "bad", "input_location": "models/nomodel/", "output_location": "out/bad/"},
    )
    client.post(
        reverse("conversions:create"),
        {**base, "name": "good", "input_location": cnn_folder, "output_location": "out/good/"},
    )
    bad, good = ConversionTask.objects.get(name="bad"), ConversionTask.objects.get(name="good")
    bad = wait_for(lambda: ended(bad.pk), timeout=180, what="the bad task to end")
    good = wait_for(lambda: ended(good.pk), timeout=180, what="the good task to end")
    assert bad.status == S.FAILED and "No model/ folder" in bad.error_message
    assert good.status == S.SUCCEEDED, good.error_message
    assert worker.poll() is None


def run_convert(settings, *args):
    command = [
        sys.executable,
        "manage.py",
        "convert",
        "--template",
        "tensorflow-frozen-graph-to-tflite",
        *args,
    ]
    return subprocess.run(
        command, cwd=ROOT, env=worker_env(settings), capture_output=True, text=True, timeout=300
    )


def test_convert_wait_exits_zero_with_the_files(
    settings, admin_user, user, cnn_folder, alice_home, worker
):
    """With evaluation_data/, the summary ends with the accuracy of both models; --user alice
    acts as alice: her models/cnn/, her out/cli/, her task."""
    evaluation = alice_home / "models/cnn/evaluation_data"
    evaluation.mkdir()
    rng = np.random.default_rng(4)
    np.save(evaluation / "inputs.npy", rng.uniform(-1, 1, (20, 32, 32, 3)).astype(np.float32))
    np.save(evaluation / "labels.npy", rng.integers(0, 10, 20))
    options = [f"--option={k}={v}" for k, v in CNN_OPTIONS.items()]
    result = run_convert(
        settings,
        "--input",
        cnn_folder,
        "--output",
        "out/cli/",
        "--name",
        "cli-ok",
        "--user",
        "alice",
        "--wait",
        *options,
    )
    assert result.returncode == 0, result.stderr
    task_id = int(result.stdout.splitlines()[0])
    assert ConversionTask.objects.get(pk=task_id, owner=user).status == S.SUCCEEDED
    assert (
        "succeeded: outputs in out/cli/" in result.stdout
        and "converting 25%" in result.stdout
        and "verifying 70%" in result.stdout
    )
    assert (alice_home / "out/cli/model/cli-ok.tflite").is_file()
    assert (
        f"verification: pass on 8 samples (random (seed {task_id})), worst-sample cosine 1.0"
        in (result.stdout)
    )
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("accuracy: ")]
    assert line.startswith("accuracy: Top-1 accuracy on 20 evaluation samples: original ")
    assert line.endswith(", drop 0.00 points (tolerance 1) -> pass")


def test_convert_wait_exits_non_zero_with_the_message(settings, admin_user, home, worker):
    """Without --user, convert acts as the only superuser: models/twice/ is in admin's home."""
    (home(admin_user) / "models/twice/model").mkdir(parents=True)
    for name in ("a.pb", "b.pb"):
        (home(admin_user) / "models/twice/model" / name).write_bytes(b"x")
    options = [f"--option={k}={v}" for k, v in CNN_OPTIONS.items()]
    result = run_convert(
        settings, "--input", "models/twice/", "--output", "out/twice/", "--wait", *options
    )
    assert result.returncode == 1
    assert "failed: The input folder does not have the expected layout" in result.stderr
    assert "2 .pb files in model/" in result.stderr


def test_convert_refuses_invalid_options_without_creating_a_task(
    settings, admin_user, cnn_placeholder, builtin_templates
):
    result = run_convert(
        settings,
        "--input",
        cnn_placeholder,
        "--output",
        "out/x/",
        "--option",
        "quantization_precision=4bit",
        "--option",
        "colour=red",
    )
    assert result.returncode == 1
    assert "option input_tensor_names: This option is required." in result.stderr
    assert "unknown options colour" in result.stderr
    assert not ConversionTask.objects.exists()
