"""The console with object storage: the folder browser, the create form and artifact downloads."""

import io
import json
import urllib.request

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conversions.models import ConversionTask
from tests.helpers import HTMX, create_form, make_task
from tests.storage.conftest import EARLIER_REPORT

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


def browse(client, path, page=""):
    url = reverse("conversions:browse") + f"?field=input_location&path={path}&page={page}"
    return client.get(url, **HTMX).content.decode()


def test_the_browser_offers_object_storage_and_lists_buckets_then_prefixes(
    client_alice, buckets, settings
):
    settings.BROWSE_PAGE_SIZE = 2
    for key in ("zoo/a/x.pb", "zoo/b/x.pb", "zoo/c/x.pb", "zoo/notes.txt"):
        buckets.client.put_object(Bucket="models-in", Key=key, Body=b"123")
    root = browse(client_alice, "")
    assert "obs://" in root and "s3://" in root
    html = browse(client_alice, "obs://")
    assert "models-in/" in html and "models-out/" in html and "Use this folder" in html
    first = browse(client_alice, "obs://models-in/zoo/")
    assert "obs://models-in/zoo/" in first and "a/" in first and "b/" in first
    assert "c/" not in first and "More…" in first
    token = first.split("page=")[1].split('"')[0]
    second = browse(client_alice, "obs://models-in/zoo/", token)
    assert "c/" in second and "notes.txt" in second and "More…" not in second
    assert "path=obs%3A//models-in/" in second  # the way up


def test_the_browser_reports_a_missing_bucket(client_alice, buckets):
    html = browse(client_alice, "obs://no-such-bucket/")
    assert "The bucket no-such-bucket does not exist" in html


def test_the_browser_hides_object_storage_when_not_configured(client_alice, settings):
    settings.S3_ENABLED = False
    assert "obs://" not in browse(client_alice, "")
    assert "not configured on this console" in browse(client_alice, "obs://")


def test_the_form_takes_object_folders_and_checks_them(client_alice, buckets):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"pb")
    form = create_form(input_location="obs://no-such-bucket/cnn/")
    html = client_alice.post(reverse("conversions:create"), form).content.decode()
    assert "The bucket no-such-bucket does not exist" in html
    form = create_form(input_location="obs://models-in/none/")
    html = client_alice.post(reverse("conversions:create"), form).content.decode()
    assert "There are no objects under obs://models-in/none/" in html
    assert not ConversionTask.objects.exists()
    form = create_form(input_location="obs://models-in/cnn", output_location="s3://models-out/cnn/")
    assert client_alice.post(reverse("conversions:create"), form).status_code == 302
    task = ConversionTask.objects.get()
    assert (task.input_location, task.output_location) == (
        "obs://models-in/cnn/",
        "s3://models-out/cnn/",
    )
    assert task.overwrite is False


def test_an_output_folder_with_a_converted_model_needs_overwrite(client_alice, buckets):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"pb")
    buckets.client.put_object(Bucket="models-out", Key="done/report.json", Body=EARLIER_REPORT)
    form = create_form(
        input_location="obs://models-in/cnn/", output_location="obs://models-out/done/"
    )
    html = client_alice.post(reverse("conversions:create"), form).content.decode()
    assert "already holds a converted model (report.json)" in html
    assert not ConversionTask.objects.exists()
    response = client_alice.post(reverse("conversions:create"), {**form, "overwrite": "on"})
    assert response.status_code == 302 and ConversionTask.objects.get().overwrite is True


def test_a_local_output_folder_with_a_converted_model_needs_overwrite(
    client_alice, cnn_placeholder, alice_home
):
    (alice_home / "out/cnn").mkdir(parents=True)
    (alice_home / "out/cnn/report.json").write_bytes(EARLIER_REPORT)
    html = client_alice.post(
        reverse("conversions:create"), create_form(cnn_placeholder)
    ).content.decode()
    assert "The folder out/cnn/ already holds a converted model" in html
    response = client_alice.post(
        reverse("conversions:create"), create_form(cnn_placeholder, overwrite="on")
    )
    assert response.status_code == 302


@pytest.fixture
def finished(user, buckets):
    """A succeeded task whose artifacts are in obs://models-out/run/."""
    buckets.client.put_object(Bucket="models-out", Key="run/model/m.tflite", Body=b"TFL3" * 500)
    buckets.client.put_object(Bucket="models-out", Key="run/report.json", Body=b'{"status": 1}')
    return make_task(
        user,
        status=S.SUCCEEDED,
        output_location="obs://models-out/run/",
        result={"artifacts_published": ["model/m.tflite", "job_log.txt"]},
    )


def test_artifacts_download_through_a_presigned_url(client_alice, finished, buckets):
    html = client_alice.get(reverse("conversions:detail", args=[finished.pk])).content.decode()
    assert "model/m.tflite" in html and "2.0" in html  # 2000 bytes, job_log.txt absent
    url = reverse("conversions:artifact", args=[finished.pk, "model/m.tflite"])
    response = client_alice.get(url)
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(buckets.endpoint + "/models-out/run/model/m.tflite?")
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    with urllib.request.urlopen(location, timeout=10) as download:  # what the browser does
        assert download.read() == b"TFL3" * 500
        assert 'attachment; filename="m.tflite"' == download.headers["Content-Disposition"]
    missing = reverse("conversions:artifact", args=[finished.pk, "job_log.txt"])
    assert client_alice.get(missing).status_code == 404


def test_artifacts_stream_through_the_console_when_configured(client_alice, finished, settings):
    settings.ARTIFACT_DOWNLOAD = "stream"
    response = client_alice.get(
        reverse("conversions:artifact", args=[finished.pk, "model/m.tflite"])
    )
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == b"TFL3" * 500
    assert 'filename="m.tflite"' in response["Content-Disposition"]


def test_another_user_cannot_download_an_object_artifact(client, other_user, finished):
    client.force_login(other_user)
    url = reverse("conversions:artifact", args=[finished.pk, "model/m.tflite"])
    assert client.get(url).status_code == 404


def test_the_browser_pages_through_the_data_directory_the_same_way(
    client_alice, alice_home, settings
):
    settings.BROWSE_PAGE_SIZE = 2
    for name in ("a", "b", "c"):
        (alice_home / "zoo" / name).mkdir(parents=True)
    first = browse(client_alice, "zoo/")
    assert "a/" in first and "b/" in first and "c/" not in first and "page=2" in first
    second = browse(client_alice, "zoo/", "2")
    assert "c/" in second and "a/" not in second and "More…" not in second


def test_deleting_a_task_with_its_outputs_removes_only_its_objects(client_alice, finished, buckets):
    buckets.client.put_object(Bucket="models-out", Key="run/mine.txt", Body=b"keep")
    response = client_alice.post(
        reverse("conversions:batch_delete"),
        {"ids": [finished.pk], "confirm": "1", "delete_outputs": "1"},
        follow=True,
    )
    assert "2 output files deleted." in response.content.decode()  # m.tflite and report.json
    assert buckets.keys("models-out") == ["run/mine.txt"]
    assert not ConversionTask.objects.filter(pk=finished.pk).exists()


@pytest.mark.slow
def test_a_model_in_object_storage_can_be_inspected(user, buckets, cnn_pb):
    buckets.client.upload_file(str(cnn_pb), "models-in", "cnn/model/cnn.pb")
    out = io.StringIO()
    call_command("inspect_model", "obs://models-in/cnn/", "--json", "--user=alice", stdout=out)
    report = json.loads(out.getvalue())
    assert report["outputs"] == ["Identity:0"]
    with pytest.raises(CommandError, match="The bucket no-such-bucket does not exist"):
        call_command(
            "inspect_model", "obs://no-such-bucket/cnn/", "--user=alice", stdout=io.StringIO()
        )
