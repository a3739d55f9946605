import uuid

import pytest

from conversions.models import ConversionTask
from tests.helpers import make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


def test_it_claims_an_initializing_task_once(user):
    task = make_task(user)
    attempt = task.claim(worker="host:1")
    assert attempt is not None
    task.refresh_from_db()
    assert (task.status, task.attempt, task.worker) == (S.RUNNING, attempt, "host:1")
    assert task.started is not None and task.heartbeat is not None
    assert ConversionTask.objects.get(pk=task.pk).claim() is None


def test_it_finishes_a_running_task_with_the_current_attempt(user):
    task = make_task(user)
    attempt = task.claim()
    assert task.set_stage(attempt, "converting", 25)
    assert task.mark_succeeded(attempt, {"verdict": "pass"})
    task.refresh_from_db()
    assert (task.status, task.stage, task.progress, task.result) == (
        S.SUCCEEDED,
        "done",
        100,
        {"verdict": "pass"},
    )
    assert task.finished >= task.started


def test_a_stale_attempt_writes_nothing(user):
    task = make_task(user)
    task.claim()
    stale = uuid.uuid4()
    assert not task.beat(stale)
    assert not task.set_stage(stale, "verifying", 70)
    assert not task.append_log([("info", "from a stale worker")], attempt=stale)
    assert not task.mark_succeeded(stale, {})
    assert not task.mark_failed("stale", attempt=stale)
    task.refresh_from_db()
    assert task.status == S.RUNNING and task.log_lines.count() == 0


def test_it_fails_an_initializing_task_without_an_attempt(user):
    task = make_task(user)
    assert task.mark_failed("no worker serves this queue")
    task.refresh_from_db()
    assert (task.status, task.error_message) == (S.FAILED, "no worker serves this queue")


def test_an_ended_task_cannot_change_again(user):
    task = make_task(user)
    attempt = task.claim()
    task.mark_failed("broken", attempt=attempt)
    assert not task.mark_succeeded(attempt, {})
    assert not task.mark_canceled()
    assert task.claim() is None
    task.refresh_from_db()
    assert task.status == S.FAILED


@pytest.mark.parametrize("status", [S.INITIALIZING, S.RUNNING])
def test_it_cancels_active_tasks(user, status):
    task = make_task(user, status=status)
    assert task.mark_canceled()
    task.refresh_from_db()
    assert task.status == S.CANCELED


@pytest.mark.parametrize(
    "status,deletable",
    [
        (S.INITIALIZING, False),
        (S.RUNNING, False),
        (S.SUCCEEDED, True),
        (S.FAILED, True),
        (S.CANCELED, True),
    ],
)
def test_delete_is_refused_only_while_active(user, status, deletable):
    task = make_task(user, status=status)
    assert (task.delete_refusal() == "") is deletable


def test_log_lines_are_numbered_in_order(user):
    task = make_task(user)
    attempt = task.claim()
    task.append_log([("info", "one"), ("info", "two")], attempt=attempt)
    task.append_log([("error", "three")], attempt=attempt)
    assert list(task.log_lines.values_list("seq", "text")) == [(1, "one"), (2, "two"), (3, "three")]


def test_staff_see_every_task_and_users_their_own(user, other_user, staff_user):
    mine, theirs = make_task(user, name="mine"), make_task(other_user, name="theirs")
    assert list(ConversionTask.objects.visible_to(user)) == [mine]
    assert set(ConversionTask.objects.visible_to(staff_user)) == {mine, theirs}
