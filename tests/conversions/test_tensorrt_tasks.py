"""GPU-target tasks through the console: the queue they go to, their options, and a real worker."""

import json
import subprocess
import sys
from importlib import metadata

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from conversions.models import ConversionTask
from tests.conftest import ROOT
from tests.helpers import CNN_OPTIONS, wait_for

S = ConversionTask.Status
TEMPLATE = "tensorflow-frozen-graph-to-tensorrt"


def create_form(name, folder, **options):
    data = {
        "name": name,
        "template": TEMPLATE,
        "input_location": folder,
        "output_location": f"out/{name}/",
    }
    data.update({f"opt-{k}": v for k, v in {**CNN_OPTIONS, **options}.items()})
    return data


@pytest.mark.django_db
def test_standard_tensorrt_tasks_go_to_the_gpu_queue_and_the_others_stay_on_cpu(
    client, user, cnn_placeholder, django_capture_on_commit_callbacks
):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("conversions:create"),
            create_form("on-gpu", cnn_placeholder, engine_builder="tensorrt"),
        )
        client.post(
            reverse("conversions:create"),
            create_form("on-cpu", cnn_placeholder, target_gpus="SM86, SM89,SM86"),
        )
    assert (
        OrmQ.objects.filter(key="gpu").count() == 1 and OrmQ.objects.filter(key="cpu").count() == 1
    )
    on_cpu = ConversionTask.objects.get(name="on-cpu")
    assert on_cpu.options["target_gpus"] == "SM86,SM89"
    assert (on_cpu.options["engine_builder"], on_cpu.options["opset"]) == ("auto", 17)
    assert (
        ConversionTask.objects.get(name="on-gpu").options["target_gpus"] == "SM80,SM86,SM89,SM120"
    )


@pytest.mark.django_db
def test_target_gpus_outside_the_list_are_refused_next_to_the_field(client, user, cnn_placeholder):
    client.force_login(user)
    response = client.post(
        reverse("conversions:create"), create_form("h100", cnn_placeholder, target_gpus="SM80,SM90")
    )
    assert response.status_code == 200 and not ConversionTask.objects.exists()
    assert "Not one of them: SM90." in response.content.decode()


def test_the_probe_names_the_builders_without_importing_them():
    code = (
        "import json, sys; from conversions.converters.capabilities import probe_all; "
        "answer = probe_all()['tensorrt']; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('tensorrt_rtx', 'tensorrt', 'onnx', 'onnxruntime', 'tensorflow')]; "
        "print(json.dumps([answer, heavy]))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    answer, heavy = json.loads(output.stdout)
    assert heavy == []
    assert answer["available"] is True and answer["reason"] == ""
    assert answer["tools"]["tensorrt-rtx"] == metadata.version("tensorrt-rtx")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_the_engine_and_publishes_it_with_the_builder_log(
    client, user, cnn_folder, alice_home, worker
):
    client.force_login(user)
    form = create_form("engine1", cnn_folder, quantization_precision="16bit", target_gpus="SM86")
    assert client.post(reverse("conversions:create"), form).status_code == 302
    task_id = ConversionTask.objects.get(name="engine1").pk

    def ended():
        task = ConversionTask.objects.get(pk=task_id)
        return task if not task.is_active else None

    task = wait_for(ended, timeout=180, what="the worker to build the engine")
    assert task.status == S.SUCCEEDED, task.error_message
    out = alice_home / "out/engine1"
    for name in (
        "model/engine1.engine",
        "model/engine1.onnx",
        "model/config.json",
        "job_log.txt",
        "report.json",
    ):
        assert (out / name).is_file(), name
    config = json.loads((out / "model/config.json").read_text())
    assert (config["builder"], config["compute_capabilities"], config["precision"]) == (
        "tensorrt-rtx",
        ["SM86"],
        "16bit",
    )
    log = (out / "job_log.txt").read_text()
    assert "[TensorRT-RTX] Engine generation completed" in log and "[ERROR]" not in log
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "succeeded" and report["verification"]["verdict"] == "pass"
    assert report["verification"]["outputs"][0]["cosine_similarity"] > 0.999
    assert report["artifacts_published"] == [
        "model/config.json",
        "model/engine1.engine",
        "model/engine1.onnx",
        "job_log.txt",
    ]
    assert task.result == report


def test_the_child_hides_gpus_but_tells_standard_tensorrt_which_the_worker_may_use(monkeypatch):
    from conversions.isolation import child_env

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    env = child_env()
    assert (env["CUDA_VISIBLE_DEVICES"], env["WORKER_CUDA_VISIBLE_DEVICES"]) == ("", "0,1")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert "WORKER_CUDA_VISIBLE_DEVICES" not in child_env()
