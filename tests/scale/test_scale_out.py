"""Many workers, and no task ever lost or stuck: on SQLite + ORM broker, and PostgreSQL + Redis.

Where a test must hold a conversion in the middle, it freezes the converter child with SIGSTOP
once it runs (a conversion of the small CNN would otherwise end before the test can act), then
cancels, signals or kills. Nothing is replaced: real workers, real TensorFlow conversions.
"""

import json
import os
import signal
import time

import pytest
from django.urls import reverse

from conversions.models import ConversionTask, Worker
from tests.helpers import wait_for
from tests.scale.conftest import LOST_DEADLINE, backend
from tests.scale.helpers import S, converter_pids, ended, first_converting, make_tasks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def attempts(task: ConversionTask) -> int:
    """How many attempts wrote to this task's log (each starts with 'Task <name>: template ...')."""
    return task.log_lines.filter(text__startswith=f"Task {task.name}: template").count()


# The tests that stop, kill or cancel a conversion must catch its child while it runs. A warm
# child converts the tests' small CNN in well under a second, a window a loaded machine can miss;
# a cold child imports TensorFlow after it has confined itself, seconds in which it is caught.
# The drain test keeps warm children on (tests/conversions/test_warm.py covers them closely).
CATCHABLE = {"WARM_CHILDREN": "off"}
# Enough tasks that each worker takes several while the other converts (each worker imports
# TensorFlow once, in its warm child); benchmarks/throughput.py measures draining at scale.
DRAIN = 8


def test_two_workers_drain_8_tasks_each_converted_exactly_once(
    workers, user, cnn_folder, alice_home
):
    first, second = workers.start(), workers.start()
    tasks = make_tasks(user, cnn_folder, DRAIN)
    started = time.monotonic()
    done = wait_for(
        lambda: (
            ConversionTask.objects.filter(status=S.SUCCEEDED).count() == DRAIN
            or ConversionTask.objects.exclude(
                status__in=ConversionTask.ACTIVE + (S.SUCCEEDED,)
            ).first()
        ),
        timeout=600,
        interval=1,
        what=f"{DRAIN} conversions",
    )
    print(
        f"\n{backend()}: {DRAIN} conversions with 2 workers in {time.monotonic() - started:.1f} s"
    )
    assert done is True, f"{done.name} ended {done.status}: {done.error_message}"
    names = {workers.name(first), workers.name(second)}
    by_worker = {}
    for task in ConversionTask.objects.filter(pk__in=[t.pk for t in tasks]):
        assert attempts(task) == 1, f"{task.name} ran {attempts(task)} times"
        assert task.worker in names
        by_worker[task.worker] = by_worker.get(task.worker, 0) + 1
        report = json.loads((alice_home / task.output_location / "report.json").read_text())
        assert report["task"]["id"] == task.pk and report["status"] == "succeeded"
        assert (alice_home / task.output_location / f"model/{task.name}.tflite").is_file()
    print(f"tasks per worker: {sorted(by_worker.values())}")
    assert set(by_worker) == names, f"one worker did all the work: {by_worker}"
    live = {w.name: w for w in Worker.objects.live()}
    assert set(live) == names
    assert all(w.capabilities["tflite"]["available"] for w in live.values())
    assert all("tensorflow" in w.tools() for w in live.values())


def test_kill_9_of_a_worker_mid_conversion_fails_that_task_as_lost_and_loses_no_other(
    workers, user, cnn_folder, alice_home
):
    victim = workers.start(**CATCHABLE)
    tasks = make_tasks(user, cnn_folder, 4)
    victim_task, child = first_converting(tasks)
    os.kill(child, signal.SIGSTOP)  # hold it mid-conversion
    assert victim_task.worker == workers.name(victim)
    # The second worker keeps warm children: it converts the other three with one import.
    survivor = workers.start()
    workers.kill_hard(victim)
    killed_at = time.monotonic()
    task = wait_for(lambda: ended(victim_task.pk), timeout=LOST_DEADLINE, what="the reaper")
    print(f"\n{backend()}: reaped {time.monotonic() - killed_at:.1f} s after kill -9")
    assert task.status == S.FAILED
    assert task.error_message.startswith("Worker lost, last seen at ")
    assert workers.name(victim) in task.error_message
    # nothing half-published
    assert not (alice_home / task.output_location / "report.json").exists()
    # The converter dies with its worker (its death signal; the kernel delivers it once the
    # worker's process is gone, which a loaded machine may take a moment to finish).
    wait_for(lambda: converter_pids(task.pk) == [], timeout=30, what="the converter to die")
    # The tasks the killed worker had taken from the queue but not started are delivered again.
    for other in tasks:
        if other.pk != task.pk:
            other = wait_for(lambda o=other: ended(o.pk), timeout=300, what=f"{other.name}")
            assert other.status == S.SUCCEEDED, other.error_message
            assert attempts(other) == 1
            assert (alice_home / other.output_location / "report.json").is_file()
    assert Worker.objects.get(name=workers.name(victim)).state == Worker.State.LOST
    assert survivor.poll() is None


def test_cancel_during_a_conversion_kills_the_child_and_the_worker_goes_on(
    workers, client, user, cnn_folder, alice_home
):
    worker = workers.start(**CATCHABLE)
    (task,) = make_tasks(user, cnn_folder, 1, prefix="cancel")
    task, child = first_converting([task])
    os.kill(child, signal.SIGSTOP)
    client.force_login(user)
    response = client.post(reverse("conversions:cancel", args=[task.pk]), {"confirm": "1"})
    assert response.status_code == 302
    assert ConversionTask.objects.get(pk=task.pk).status == S.CANCELED
    wait_for(
        lambda: not converter_pids(task.pk), timeout=30, what="the converter child to be killed"
    )
    assert not (alice_home / task.output_location / "report.json").exists()
    task.refresh_from_db()
    assert task.status == S.CANCELED and task.error_message == "Canceled by the user."
    # The worker is free again and converts the next task; a retry of the canceled one succeeds.
    (after,) = make_tasks(user, cnn_folder, 1, prefix="after")
    client.post(reverse("conversions:retry", args=[task.pk]))
    for pk in (after.pk, task.pk):
        done = wait_for(lambda pk=pk: ended(pk), timeout=300, what="the next conversions")
        assert done.status == S.SUCCEEDED, done.error_message
    assert attempts(ConversionTask.objects.get(pk=task.pk)) == 2
    assert worker.poll() is None


def test_sigterm_lets_the_running_conversion_finish_within_the_grace_period(
    workers, user, cnn_folder, alice_home
):
    worker = workers.start(WORKER_STOP_GRACE=300, **CATCHABLE)
    (task,) = make_tasks(user, cnn_folder, 1, prefix="grace")
    task, _child = first_converting([task])
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=300) == 0
    task.refresh_from_db()
    assert task.status == S.SUCCEEDED, task.error_message
    assert (alice_home / task.output_location / "report.json").is_file()
    assert Worker.objects.get(name=workers.name(worker)).state == Worker.State.STOPPED


def test_sigterm_past_the_grace_period_fails_the_task_and_hands_back_the_queue(
    workers, user, cnn_folder, alice_home
):
    worker = workers.start(WORKER_STOP_GRACE=0, **CATCHABLE)
    tasks = make_tasks(user, cnn_folder, 2, prefix="stop")
    running, child = first_converting(tasks)
    waiting = next(t for t in tasks if t.pk != running.pk)
    os.kill(child, signal.SIGSTOP)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=60) == 0
    running.refresh_from_db()
    assert running.status == S.FAILED
    assert running.error_message.startswith("Worker stopped: it was asked to stop (SIGTERM)")
    assert converter_pids(running.pk) == []
    assert not (alice_home / running.output_location / "report.json").exists()
    # The other task was never started: it waits in the queue for the next worker, not lost.
    assert ConversionTask.objects.get(pk=waiting.pk).status == S.INITIALIZING
    workers.start()
    done = wait_for(lambda: ended(waiting.pk), timeout=300, what="the handed-back task")
    assert done.status == S.SUCCEEDED, done.error_message
    assert attempts(done) == 1
