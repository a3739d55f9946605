"""Cancel and retry: POST only, CSRF-checked, the owner's only, and fenced by the task's state."""

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from conversions.models import ConversionTask
from tests.helpers import make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


def post(client, name, task):
    return client.post(reverse(f"conversions:{name}", args=[task.pk]), {"confirm": "1"})


def test_cancel_asks_for_confirmation_first(client_alice, user):
    task = make_task(user, name="busy", status=S.RUNNING)
    response = client_alice.post(reverse("conversions:cancel", args=[task.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "Cancel task busy?" in html
    assert 'name="confirm"' in html and reverse("conversions:detail", args=[task.pk]) in html
    assert ConversionTask.objects.get(pk=task.pk).status == S.RUNNING


def test_it_cancels_a_running_task_and_fences_its_attempt(client_alice, user):
    attempt = uuid.uuid4()
    task = make_task(user, status=S.RUNNING, attempt=attempt)
    response = post(client_alice, "cancel", task)
    assert response.status_code == 302 and response["Location"] == reverse(
        "conversions:detail", args=[task.pk]
    )
    task.refresh_from_db()
    assert task.status == S.CANCELED and task.finished is not None
    assert not task.beat(attempt) and not task.mark_succeeded(attempt, {})
    assert task.log_lines.get().text == "Canceled by alice."


def test_it_cancels_a_task_still_waiting_in_the_queue(client_alice, user):
    task = make_task(user)
    post(client_alice, "cancel", task)
    task.refresh_from_db()
    assert task.status == S.CANCELED
    assert task.claim(worker="w") is None  # the queued message finds nothing to run


def test_it_refuses_to_cancel_an_ended_task(client_alice, user):
    task = make_task(user, status=S.SUCCEEDED)
    response = post(client_alice, "cancel", task)
    task.refresh_from_db()
    assert task.status == S.SUCCEEDED
    html = client_alice.get(response["Location"]).content.decode()
    assert "has already ended (succeeded): nothing to cancel." in html


@pytest.mark.parametrize("status", [S.FAILED, S.CANCELED])
def test_it_retries_a_failed_or_canceled_task_as_a_new_attempt(
    client_alice, user, status, django_capture_on_commit_callbacks
):
    task = make_task(
        user,
        status=status,
        attempt=uuid.uuid4(),
        error_message="Worker lost, last seen at ...",
        result={"status": "failed"},
        options={"quantization_precision": "8bit"},
        worker="host:1",
    )
    before = (task.input_location, task.output_location, task.options, task.template_id)
    with django_capture_on_commit_callbacks(execute=True):
        post(client_alice, "retry", task)
    task.refresh_from_db()
    assert task.status == S.INITIALIZING and task.stage == "queued" and task.progress == 0
    assert task.attempt is None and task.worker == "" and task.error_message == ""
    assert task.result == {} and task.started is None and task.finished is None
    assert (task.input_location, task.output_location, task.options, task.template_id) == before
    assert OrmQ.objects.filter(key="cpu").count() == 1  # delivered again
    assert task.log_lines.get().text == "Retried by alice."
    assert task.claim(worker="w") is not None


@pytest.mark.parametrize("status", [S.INITIALIZING, S.RUNNING, S.SUCCEEDED])
def test_it_refuses_to_retry_a_task_that_did_not_fail(
    client_alice, user, status, django_capture_on_commit_callbacks
):
    task = make_task(user, status=status)
    with django_capture_on_commit_callbacks(execute=True):
        post(client_alice, "retry", task)
    task.refresh_from_db()
    assert task.status == status and OrmQ.objects.count() == 0


def test_another_user_cannot_cancel_or_retry_but_staff_can(client, user, other_user, staff_user):
    """One rule for view, cancel, retry and delete: the owner and staff (editable_by)."""
    running = make_task(user, name="running", status=S.RUNNING)
    failed = make_task(user, name="failed", status=S.FAILED)
    client.force_login(other_user)
    assert post(client, "cancel", running).status_code == 404
    assert post(client, "retry", failed).status_code == 404
    assert ConversionTask.objects.get(pk=running.pk).status == S.RUNNING
    assert ConversionTask.objects.get(pk=failed.pk).status == S.FAILED
    client.force_login(staff_user)
    assert post(client, "cancel", running).status_code == 302
    assert post(client, "retry", failed).status_code == 302
    assert ConversionTask.objects.get(pk=running.pk).status == S.CANCELED
    assert ConversionTask.objects.get(pk=failed.pk).status == S.INITIALIZING


def test_cancel_and_retry_need_post_login_and_the_csrf_token(client, user):
    task = make_task(user, status=S.RUNNING)
    assert post(client, "cancel", task)["Location"].startswith("/login/")
    client.force_login(user)
    assert client.get(reverse("conversions:cancel", args=[task.pk])).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert post(strict, "cancel", task).status_code == 403
    assert post(strict, "retry", task).status_code == 403
    assert ConversionTask.objects.get(pk=task.pk).status == S.RUNNING


def test_the_detail_page_shows_cancel_while_active_and_retry_after_a_failure(client_alice, user):
    task = make_task(user, status=S.RUNNING)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert reverse("conversions:cancel", args=[task.pk]) in html
    assert reverse("conversions:retry", args=[task.pk]) not in html
    post(client_alice, "cancel", task)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk]), HTTP_HX_REQUEST="true")
    html = html.content.decode()
    assert reverse("conversions:retry", args=[task.pk]) in html and "csrfmiddlewaretoken" in html
    assert reverse("conversions:cancel", args=[task.pk]) not in html
