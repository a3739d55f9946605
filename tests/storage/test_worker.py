"""Tasks between obs:// folders: through a real worker process, and the worker's job in this process.

The store is moto's S3 server over HTTP on 127.0.0.1; the converter child runs for real.
"""

import pytest
from django.urls import reverse

from conversions.jobs import run_conversion
from conversions.locations.s3 import client as console_client
from conversions.models import ConversionTask
from tests.conversions.test_worker import run_convert
from tests.helpers import CNN_OPTIONS, make_task, wait_for
from tests.storage.conftest import EARLIER_REPORT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
S = ConversionTask.Status
OUTPUTS = ["job_log.txt", "model/config.json", "model/{name}.tflite", "report.json"]


@pytest.fixture
def cnn_bucket(buckets, cnn_pb):
    """obs://models-in/cnn/ laid out for the ARM frozen-graph template."""
    buckets.client.upload_file(str(cnn_pb), "models-in", "cnn/model/cnn.pb")
    return buckets


@pytest.fixture
def s3_worker(cnn_bucket, worker):
    """A worker process started after the store: it inherits the S3_* environment."""
    return worker


def convert(user, name="obs-task", input_location="obs://models-in/cnn/", **fields):
    fields.setdefault("output_location", f"obs://models-out/{name}/")
    task = make_task(user, name=name, input_location=input_location, options=CNN_OPTIONS, **fields)
    run_conversion(task.pk)
    task.refresh_from_db()
    return task


def outputs(name: str) -> list[str]:
    return sorted(f"{name}/" + item.format(name=name) for item in OUTPUTS)


def test_an_obs_task_runs_end_to_end_through_the_worker(client, user, cnn_bucket, s3_worker):
    client.force_login(user)
    form = {
        "name": "obs-web",
        "template": "tensorflow-frozen-graph-to-tflite",
        "input_location": "obs://models-in/cnn/",
        "output_location": "obs://models-out/obs-web/",
        **{f"opt-{k}": v for k, v in CNN_OPTIONS.items()},
    }
    assert client.post(reverse("conversions:create"), form).status_code == 302
    task = ConversionTask.objects.get(name="obs-web")
    task = wait_for(
        lambda: (
            ConversionTask.objects.filter(pk=task.pk)
            .exclude(status__in=ConversionTask.ACTIVE)
            .first()
        ),
        timeout=180,
        what="the worker to finish the obs:// task",
    )
    assert task.status == S.SUCCEEDED, task.error_message
    assert cnn_bucket.keys("models-out") == outputs("obs-web")
    report = cnn_bucket.report("models-out", "obs-web/report.json")
    assert report["status"] == "succeeded" and report["verification"]["verdict"] == "pass"
    assert report == task.result
    tflite = cnn_bucket.read("models-out", "obs-web/model/obs-web.tflite")
    assert tflite[4:8] == b"TFL3"
    log = cnn_bucket.read("models-out", "obs-web/job_log.txt").decode()
    assert (
        "Publish 4 files to obs://models-out/obs-web/: 2 from the conversion, job_log.txt and "
        "report.json" in log
    )


def test_a_traversal_key_fails_the_task_naming_the_key(user, cnn_bucket, dirs):
    cnn_bucket.client.put_object(Bucket="models-in", Key="cnn/../../../escape.pb", Body=b"evil")
    task = convert(user)
    assert task.status == S.FAILED
    assert "The object cnn/../../../escape.pb cannot be staged" in task.error_message
    report = cnn_bucket.report("models-out", "obs-task/report.json")
    assert report["status"] == "failed" and report["error"] == task.error_message
    assert not list(dirs.parent.rglob("escape.pb"))


def test_a_missing_bucket_fails_the_task_in_plain_words(user, cnn_bucket):
    task = convert(user, input_location="obs://no-such-bucket/cnn/")
    assert task.status == S.FAILED
    assert task.error_message.startswith(
        "The bucket no-such-bucket does not exist on http://127.0.0.1:"
    )
    task = convert(user, name="no-out", output_location="obs://gone-bucket/x/")
    assert task.status == S.FAILED and "The bucket gone-bucket does not exist" in task.error_message


def test_the_store_stopping_mid_upload_fails_the_task_without_a_report(user, cnn_bucket, s3):
    uploads = []

    def stop_at_the_second_upload(params, **_kwargs):
        uploads.append(params["Key"])
        if len(uploads) == 2:
            s3.server.stop()

    events = console_client().meta.events
    events.register("before-parameter-build.s3.PutObject", stop_at_the_second_upload)
    try:
        task = convert(user, name="cut")
    finally:
        events.unregister("before-parameter-build.s3.PutObject", stop_at_the_second_upload)
    s3.start()
    assert task.status == S.FAILED
    assert task.error_message.startswith("The model converted, but publishing it failed: ")
    assert (
        f"Could not reach the object storage at {s3.endpoint} while uploading" in task.error_message
    )
    published = cnn_bucket.keys("models-out")
    assert published == [uploads[0]] and "cut/report.json" not in published
    assert task.log_lines.filter(text__contains="publishing it failed").exists()


def test_a_converted_output_is_left_untouched_without_overwrite(user, cnn_bucket):
    cnn_bucket.client.put_object(Bucket="models-out", Key="taken/report.json", Body=EARLIER_REPORT)
    task = convert(user, name="taken")
    assert task.status == S.FAILED
    assert (
        "already holds a converted model (report.json) and was left untouched" in task.error_message
    )
    assert cnn_bucket.keys("models-out") == ["taken/report.json"]
    assert cnn_bucket.read("models-out", "taken/report.json") == EARLIER_REPORT


def test_overwrite_replaces_the_converted_model(user, cnn_bucket):
    cnn_bucket.client.put_object(Bucket="models-out", Key="again/report.json", Body=EARLIER_REPORT)
    task = convert(user, name="again", overwrite=True)
    assert task.status == S.SUCCEEDED, task.error_message
    assert cnn_bucket.keys("models-out") == outputs("again")
    assert cnn_bucket.report("models-out", "again/report.json")["task"]["id"] == task.pk


def test_convert_refuses_a_converted_output_unless_told_to_overwrite(
    settings, admin_user, cnn_bucket, builtin_templates
):
    cnn_bucket.client.put_object(Bucket="models-out", Key="cli/report.json", Body=EARLIER_REPORT)
    args = ["--input", "obs://models-in/cnn/", "--output", "obs://models-out/cli/"]
    args += [f"--option={k}={v}" for k, v in CNN_OPTIONS.items()]
    refused = run_convert(settings, *args)
    assert refused.returncode == 1
    assert "already holds a converted model (report.json)" in refused.stderr
    created = run_convert(settings, *args, "--overwrite")
    assert created.returncode == 0, created.stderr
    assert ConversionTask.objects.get(pk=int(created.stdout.split()[0])).overwrite is True
