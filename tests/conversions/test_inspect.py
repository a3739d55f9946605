"""Model inspection: queued by the create form, run on a worker, polled; and from the shell."""

import io
import json
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ

from conversions import jobs
from conversions.inspections import KEEP_ENDED, Inspection, forget_ended_of
from conversions.reaper import reap
from tests.helpers import wait_for

pytestmark = pytest.mark.django_db

TFLITE = "tensorflow-frozen-graph-to-tflite"
ST = Inspection.Status


@pytest.fixture
def no_child_here(monkeypatch):
    """The web process must never start a converter child: any attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the web process started a converter child")

    monkeypatch.setattr("conversions.isolation.run_child", refuse)


@pytest.fixture
def folder(alice_home) -> str:
    """A folder to inspect, for tests in which no converter child runs."""
    (alice_home / "models/m/model").mkdir(parents=True)
    return "models/m/"


def post_inspect(client, location, **extra):
    data = {"input_location": location, **extra}
    return client.post(reverse("conversions:inspect"), data, HTTP_HX_REQUEST="true")


def poll(client, inspection):
    url = reverse("conversions:inspection", args=[inspection.pk])
    return client.get(url, HTTP_HX_REQUEST="true")


def test_inspect_queues_a_job_on_the_cpu_queue_and_returns_a_polling_fragment(
    client_alice, user, folder, no_child_here, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_inspect(client_alice, folder, template=TFLITE)
    html = response.content.decode()
    inspection = Inspection.objects.get(owner=user)
    assert response.status_code == 200
    assert inspection.status == ST.QUEUED and inspection.location == folder
    assert inspection.chip == "arm" and inspection.template_slug == TFLITE
    poll_url = reverse("conversions:inspection", args=[inspection.pk])
    assert f'hx-get="{poll_url}"' in html and 'hx-trigger="load delay:1s"' in html
    assert "waiting for a worker" in html
    [message] = OrmQ.objects.all()
    assert message.key == "cpu" and message.task["func"] == "conversions.jobs.run_inspection"
    assert message.task["args"] == (inspection.pk,)
    # Polling while it waits gives the same waiting fragment again.
    html = poll(client_alice, inspection).content.decode()
    assert f'hx-get="{poll_url}"' in html and "hx-swap-oob" not in html


def test_a_second_inspect_while_one_is_in_flight_rejoins_it(
    client_alice, user, folder, alice_home, no_child_here
):
    (alice_home / "models/other/model").mkdir(parents=True)
    post_inspect(client_alice, folder)
    first = Inspection.objects.get(owner=user)
    first.claim(worker="w1")
    html = post_inspect(client_alice, "models/other/").content.decode()
    assert Inspection.objects.filter(owner=user).count() == 1
    assert reverse("conversions:inspection", args=[first.pk]) in html
    assert f"The inspection of {folder} you asked for earlier is still in progress" in html
    assert "Reading the model" in html


def test_another_users_inspection_does_not_block_or_show(
    client, user, other_user, folder, no_child_here
):
    client.force_login(other_user)
    post_inspect(client, folder)
    theirs = Inspection.objects.get(owner=other_user)
    client.force_login(user)
    post_inspect(client, folder)
    assert Inspection.objects.filter(owner=user, status=ST.QUEUED).count() == 1
    html = poll(client, theirs).content.decode()
    assert "This inspection is no longer available" in html and "hx-get" not in html
    huge = client.get(f"/tasks/inspect/{'9' * 25}/", HTTP_HX_REQUEST="true")
    assert huge.status_code == 200 and "no longer available" in huge.content.decode()


def test_inspect_refuses_a_bad_location_at_once_without_queueing(client_alice, no_child_here):
    html = post_inspect(client_alice, "../etc/").content.decode()
    assert "A path cannot contain . or .. segments." in html and "hx-get" not in html
    html = post_inspect(client_alice, "  ").content.decode()
    assert "Enter the input folder first." in html
    assert not Inspection.objects.exists() and not OrmQ.objects.exists()


def test_inspect_needs_a_login_and_a_post(client, user):
    response = client.post(reverse("conversions:inspect"), {"input_location": "x/"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(user)
    assert client.get(reverse("conversions:inspect"), {"input_location": "x/"}).status_code == 405


@pytest.mark.slow
def test_the_job_stores_the_report_and_the_poll_fills_the_empty_tensor_options(
    client_alice, user, cnn_folder
):
    post_inspect(
        client_alice,
        cnn_folder,
        template=TFLITE,
        **{"opt-output_tensor_names": "my_output", "opt-input_tensor_names": ""},
    )
    inspection = Inspection.objects.get(owner=user)
    assert jobs.run_inspection(inspection.pk) == ST.DONE
    inspection.refresh_from_db()
    assert inspection.result["inputs"][0]["name"] == "input:0" and inspection.finished
    response = poll(client_alice, inspection)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cnn.pb: frozen_graph" in html and "<code>input:0</code>" in html
    assert "hx-get" not in html.split('<fieldset id="options"')[0]  # polling stopped
    assert '<fieldset id="options" class="card" hx-swap-oob="true">' in html
    assert 'name="opt-input_tensor_names" value="input"' in html
    assert 'name="opt-output_tensor_names" value="my_output"' in html
    # Claimed once: delivering it again runs nothing.
    assert jobs.run_inspection(inspection.pk) == "skipped"


@pytest.mark.slow
def test_the_job_says_what_is_wrong_with_the_folder(client_alice, user, alice_home):
    (alice_home / "empty/model").mkdir(parents=True)
    post_inspect(client_alice, "empty/", template=TFLITE)
    inspection = Inspection.objects.get(owner=user)
    assert jobs.run_inspection(inspection.pk) == ST.FAILED
    html = poll(client_alice, inspection).content.decode()
    assert "No model found" in html and "hx-swap-oob" not in html and "hx-get" not in html


def test_a_missing_folder_fails_on_the_worker_with_its_message(client_alice, user, no_child_here):
    post_inspect(client_alice, "models/none/")
    inspection = Inspection.objects.get(owner=user)
    assert jobs.run_inspection(inspection.pk) == ST.FAILED
    assert "does not exist" in poll(client_alice, inspection).content.decode()


def test_an_inspection_that_waits_too_long_says_so_and_frees_the_user(
    client_alice, user, folder, settings, no_child_here
):
    settings.INSPECT_TIMEOUT = 5
    post_inspect(client_alice, folder)
    late = Inspection.objects.get(owner=user)
    Inspection.objects.filter(pk=late.pk).update(created=timezone.now() - timedelta(seconds=6))
    html = poll(client_alice, late).content.decode()
    assert "No worker took this inspection within 5 s" in html and "hx-get" not in html
    # A worker reaching it afterwards runs nothing (no_child_here would fail the test).
    assert jobs.run_inspection(late.pk) == "skipped"
    # The user may inspect again at once.
    post_inspect(client_alice, folder)
    assert Inspection.objects.filter(owner=user, status=ST.QUEUED).count() == 1


def test_a_running_inspection_past_the_timeout_is_given_up(
    client_alice, user, folder, settings, no_child_here
):
    settings.INSPECT_TIMEOUT = 5
    post_inspect(client_alice, folder)
    late = Inspection.objects.get(owner=user)
    late.claim(worker="w1")
    Inspection.objects.filter(pk=late.pk).update(created=timezone.now() - timedelta(seconds=6))
    html = post_inspect(client_alice, folder).content.decode()  # not rejoined: given up
    assert "waiting for a worker" in html
    late.refresh_from_db()
    assert late.status == ST.FAILED and "did not finish within 5 s" in late.error
    assert not late.finish({"late": True})  # the worker's late answer is dropped


def test_queued_inspection_past_the_timeout_is_not_run_by_the_worker(
    user, folder, settings, no_child_here
):
    settings.INSPECT_TIMEOUT = 5
    late = Inspection.objects.create(
        owner=user, location=folder, created=timezone.now() - timedelta(seconds=6)
    )
    assert jobs.run_inspection(late.pk) == "timed out"
    late.refresh_from_db()
    assert late.status == ST.FAILED and "No worker took this inspection" in late.error


def test_old_inspections_are_deleted(user, other_user):
    now = timezone.now()
    for minutes in range(6):
        Inspection.objects.create(
            owner=user, location="m/", status=ST.DONE, created=now - timedelta(minutes=minutes)
        )
    Inspection.objects.create(owner=user, location="m/")  # in flight: kept
    forget_ended_of(user)
    assert Inspection.objects.filter(owner=user).ended().count() == KEEP_ENDED
    assert Inspection.objects.filter(owner=user).active().count() == 1
    Inspection.objects.create(owner=other_user, location="m/", created=now - timedelta(days=2))
    reap()
    assert not Inspection.objects.filter(owner=other_user).exists()
    assert Inspection.objects.filter(owner=user).count() == KEEP_ENDED + 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_inspect_end_to_end_through_a_real_worker(client, user, cnn_folder, worker, no_child_here):
    client.force_login(user)
    html = post_inspect(client, cnn_folder, template=TFLITE).content.decode()
    poll_url = re.search(r'hx-get="([^"]+)"', html).group(1)

    def answered():
        page = client.get(poll_url, HTTP_HX_REQUEST="true").content.decode()
        return page if 'hx-trigger="load delay:1s"' not in page else None

    html = wait_for(answered, timeout=180, interval=1, what="the worker to inspect the model")
    assert "cnn.pb: frozen_graph" in html and "<code>input:0</code>" in html
    assert 'name="opt-input_tensor_names" value="input"' in html
    inspection = Inspection.objects.get(owner=user)
    assert inspection.status == ST.DONE and inspection.worker


@pytest.mark.slow
def test_the_inspect_model_command_prints_tensors_and_options(user, cnn_folder):
    out = io.StringIO()
    call_command("inspect_model", cnn_folder, "--chip", "arm", "--user", "alice", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cnn.pb: frozen_graph, ")
    assert "input   input:0  [1, 32, 32, 3]  float32" in lines
    assert "output  Identity:0" in lines
    assert "--option input_tensor_names=input" in lines
    out = io.StringIO()
    call_command("inspect_model", cnn_folder, "--json", "--user", "alice", stdout=out)
    assert json.loads(out.getvalue())["outputs"] == ["Identity:0"]
    with pytest.raises(CommandError, match="does not exist"):
        call_command("inspect_model", "models/none/", "--user", "alice", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Name the user to act as with --user"):
        call_command("inspect_model", cnn_folder, stdout=io.StringIO())  # no superuser


def test_layout_hint_names_where_each_chip_reads_the_model():
    from conversions.inspection import layout_hint

    inside = {"model": "cnn.pb", "in_model_folder": True}
    top = {"model": "cnn.pb", "in_model_folder": False}
    assert "Ascend templates read the model from the top" in layout_hint(inside, "ascend")
    assert "move it into model/" in layout_hint(top, "arm")
    assert "move it into model/" in layout_hint(top, "gpu")
    assert layout_hint(inside, "arm") == layout_hint(top, "ascend") == ""
    assert layout_hint({"model": "cnn.pb"}, "ascend") == ""  # an older report: nothing said
    assert layout_hint(inside, "") == ""  # no template chosen


@pytest.mark.slow
def test_inspect_says_where_the_chosen_templates_chip_wants_the_model(
    client_alice, user, cnn_folder, alice_home
):
    post_inspect(client_alice, cnn_folder, template="tensorflow-frozen-graph-to-ascend")
    inspection = Inspection.objects.get(owner=user)
    assert jobs.run_inspection(inspection.pk) == ST.DONE
    html = poll(client_alice, inspection).content.decode()
    assert "cnn.pb is in model/, but Ascend templates read the model from the top" in html
    top = alice_home / "models/flat"
    top.mkdir(parents=True)
    (top / "cnn.pb").write_bytes((alice_home / cnn_folder / "model/cnn.pb").read_bytes())
    post_inspect(client_alice, "models/flat/", template=TFLITE)
    inspection = Inspection.objects.filter(owner=user).order_by("-pk").first()
    assert jobs.run_inspection(inspection.pk) == ST.DONE
    html = poll(client_alice, inspection).content.decode()
    assert "cnn.pb is at the top of the input folder, but ARM and GPU templates" in html
    assert "data-layout-hint" in html
