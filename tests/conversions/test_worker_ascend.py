"""Ascend tasks end to end through a real django-q2 worker and the `convert` command. Huawei's atc
cannot be installed here: the worker finds the ATC STAND-IN (tests/converters/atc_stand_in.py)
through ATC_PATH, as an operator would point it at CANN's atc."""

import json
import subprocess
import sys

import pytest
from django.urls import reverse

from conversions.converters.ascend.command import ATC_MISSING
from conversions.models import ConversionTask
from tests.ascendkit import install_atc_stand_in, lenet
from tests.conftest import ROOT, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture(autouse=True)
def cold_children(monkeypatch):
    """Caffe to Ascend needs no TensorFlow: these workers' children start cold (under a second)
    instead of warm children importing it (seconds of CPU) for nothing."""
    monkeypatch.setenv("WARM_CHILDREN", "off")


@pytest.fixture
def atc_path(tmp_path_factory, monkeypatch):
    """ATC_PATH in the environment the worker is started with (request it before `worker`)."""
    path = install_atc_stand_in(tmp_path_factory.mktemp("cann"))
    monkeypatch.setenv("ATC_PATH", str(path))
    return path


@pytest.fixture
def no_atc(monkeypatch):
    monkeypatch.delenv("ATC_PATH", raising=False)


def convert_lenet(settings, dirs, name):
    lenet().write(dirs / "models" / "lenet")
    return subprocess.run(
        [sys.executable, "manage.py", "convert", "--template", "caffe-to-ascend"]
        + ["--input", "models/lenet/", "--output", f"out/{name}/", "--name", name, "--wait"],
        cwd=ROOT,
        env=worker_env(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_caffe_task_is_converted_to_an_om_by_the_worker(
    client, settings, admin_user, home, atc_path, worker
):
    dirs = home(admin_user)  # convert acts as the only superuser
    result = convert_lenet(settings, dirs, "lenet-om")
    assert result.returncode == 0, result.stderr
    task = ConversionTask.objects.get(pk=int(result.stdout.splitlines()[0]))
    assert task.status == ConversionTask.Status.SUCCEEDED
    out = dirs / "out" / "lenet-om"
    assert sorted(p.name for p in out.iterdir()) == [
        "fusion_result.json",
        "job_log.txt",
        "lenet-om.om",
        "report.json",
    ]
    argv = json.loads((out / "lenet-om.om").read_text())["argv"]
    assert argv[1] == "--framework=0" and argv[2].endswith("/output/lenet-om")
    assert "--soc_version=Ascend310" in argv and argv[3].endswith("/input/net.caffemodel")
    report = json.loads((out / "report.json").read_text())
    assert report["status"] == "succeeded" and report["atc"]["version"] == "7.0.0"
    assert report["inputs"] == [{"name": "data", "shape": [1, 1, 28, 28], "dtype": "float32"}]
    log = (out / "job_log.txt").read_text()
    assert "[TOOL] ATC run success, welcome to the next use." in log
    assert "Preflight passed: data [1, 1, 28, 28]" in log
    client.force_login(admin_user)
    page = client.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "lenet-om.om" in page and "fusion_result.json" in page


def test_without_atc_the_task_fails_with_the_install_message(
    settings, admin_user, home, no_atc, worker
):
    dirs = home(admin_user)
    result = convert_lenet(settings, dirs, "lenet-none")
    assert result.returncode == 1
    task = ConversionTask.objects.get(name="lenet-none")
    assert task.status == ConversionTask.Status.FAILED
    assert task.error_message == ATC_MISSING
    report = json.loads((dirs / "out" / "lenet-none" / "report.json").read_text())
    assert report["error"] == ATC_MISSING
    assert "Preflight passed" in (dirs / "out" / "lenet-none" / "job_log.txt").read_text()
