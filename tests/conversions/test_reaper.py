"""The reaper: lost workers' tasks fail with "worker lost", their waiting tasks are delivered again."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from conversions.models import ConversionTask, Worker
from conversions.reaper import fail_running_on, reap
from tests.helpers import make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


@pytest.fixture(autouse=True)
def lost_after(settings):
    settings.WORKER_LOST_AFTER = 30


def ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def running(owner, name, seconds_silent, worker="hostA:1"):
    return make_task(
        owner,
        name=name,
        status=S.RUNNING,
        attempt=uuid.uuid4(),
        heartbeat=ago(seconds_silent),
        started=ago(seconds_silent + 5),
        worker=worker,
    )


def test_it_fails_a_running_task_whose_heartbeat_is_stale(user):
    stale = running(user, "stale", 31)
    fresh = running(user, "fresh", 5)
    seen = stale.heartbeat
    assert reap().failed == [stale.pk]
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == S.FAILED and stale.finished is not None
    assert stale.error_message.startswith(
        f"Worker lost, last seen at {seen:%Y-%m-%d %H:%M:%S} UTC (hostA:1)."
    )
    assert "not retried automatically" in stale.error_message
    assert stale.log_lines.get().text == stale.error_message
    assert fresh.status == S.RUNNING
    assert reap().failed == []  # idempotent


def test_a_stale_attempt_cannot_write_after_it_was_reaped(user):
    task = running(user, "reaped", 60)
    attempt = task.attempt
    reap()
    task.refresh_from_db()
    assert not task.beat(attempt)
    assert not task.set_stage(attempt, "publishing", 90)
    assert not task.mark_succeeded(attempt, {"status": "succeeded"})
    assert not task.append_log([("info", "late line")], attempt=attempt)
    task.refresh_from_db()
    assert task.status == S.FAILED and task.result == {}


def test_a_heartbeat_that_lands_first_wins_over_the_reaper(user):
    task = running(user, "beating", 60)
    cutoff = ago(30)
    seen_by_reaper = ConversionTask.objects.get(pk=task.pk)
    assert task.beat(task.attempt)  # the worker beats between the reaper's read and its write
    assert not seen_by_reaper.mark_lost(cutoff)
    assert ConversionTask.objects.get(pk=task.pk).status == S.RUNNING


def test_it_leaves_waiting_and_ended_tasks_alone(user):
    make_task(user, name="waiting", created=ago(3600))
    make_task(user, name="done", status=S.SUCCEEDED, heartbeat=ago(3600))
    assert reap().failed == []
    assert set(ConversionTask.objects.values_list("status", flat=True)) == {
        S.INITIALIZING,
        S.SUCCEEDED,
    }


def worker(name, seconds_silent, state=Worker.State.RUNNING, queues=("cpu",)):
    return Worker.objects.create(
        name=name,
        host=name.split(":")[0],
        pid=int(name.split(":")[1]),
        queues=list(queues),
        state=state,
        last_seen=ago(seconds_silent),
    )


def test_a_silent_worker_is_marked_lost_and_its_queues_waiting_tasks_are_delivered_again(user):
    worker("hostA:1", 40)
    worker("hostB:2", 2)
    worker("hostC:3", 40, state=Worker.State.STOPPED)
    waiting = make_task(user, name="waiting")
    reaped = reap()
    assert reaped.lost_workers == ["hostA:1"]
    assert reaped.redelivered == [waiting.pk]
    assert OrmQ.objects.filter(key="cpu").count() == 1
    states = dict(Worker.objects.values_list("name", "state"))
    assert states == {"hostA:1": "lost", "hostB:2": "running", "hostC:3": "stopped"}
    assert reap().redelivered == []  # only once per lost worker


def test_a_lost_gpu_worker_does_not_redeliver_the_cpu_queue(user):
    worker("gpuhost:1", 40, queues=("gpu",))
    make_task(user, name="waiting-cpu")
    assert reap().redelivered == []


def test_workers_gone_for_a_week_are_forgotten():
    worker("old:1", 8 * 24 * 3600, state=Worker.State.LOST)
    worker("old:2", 8 * 24 * 3600, state=Worker.State.STOPPED)
    worker("recent:3", 3600, state=Worker.State.STOPPED)
    reap()
    assert list(Worker.objects.values_list("name", flat=True)) == ["recent:3"]


def test_fail_running_on_fails_only_that_workers_tasks(user):
    mine = running(user, "mine", 1, worker="hostA:1")
    other = running(user, "other", 1, worker="hostB:2")
    assert fail_running_on("hostA:1", "Worker stopped: test.") == [mine.pk]
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.status, mine.error_message) == (S.FAILED, "Worker stopped: test.")
    assert other.status == S.RUNNING
