"""Nothing stays `running` or `initializing` because a worker vanished.

Every `manage.py worker` runs `reap()` each REAPER_INTERVAL seconds; several reapers at once are
fine because every change is a conditional UPDATE that only one of them wins.

- A running task whose heartbeat is older than WORKER_LOST_AFTER fails with "Worker lost, last
  seen at ...". It is not retried: a model that killed its worker would kill the next one.
- A registered worker silent for as long is marked lost, and the tasks still waiting in its
  queues are delivered again: a killed qcluster takes the messages it had prefetched with it
  (the Redis broker never gives them back). A duplicate delivery is harmless, the claim is fenced.
- Inspections older than a day are deleted (conversions/inspections.py).
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from conversions.inspections import forget_old
from conversions.jobs import deliver, queue_of
from conversions.models import ConversionTask, Worker

logger = logging.getLogger(__name__)
S = ConversionTask.Status
FORGET_AFTER = timedelta(days=7)


@dataclass
class Reaped:
    failed: list[int] = field(default_factory=list)  # task ids failed as "worker lost"
    lost_workers: list[str] = field(default_factory=list)
    redelivered: list[int] = field(default_factory=list)


def reap(now=None) -> Reaped:
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WORKER_LOST_AFTER)
    reaped = Reaped()
    for task in ConversionTask.objects.filter(status=S.RUNNING, heartbeat__lt=cutoff):
        if task.mark_lost(cutoff):
            task.append_log([("error", task.error_message)])
            logger.warning("task %s: %s", task.pk, task.error_message)
            reaped.failed.append(task.pk)
    stale = Worker.objects.filter(
        state__in=[Worker.State.RUNNING, Worker.State.STOPPING], last_seen__lt=cutoff
    )
    for worker in stale:
        if worker.mark_lost(cutoff):
            logger.warning("worker %s lost, last seen at %s", worker.name, worker.last_seen)
            reaped.lost_workers.append(worker.name)
            reaped.redelivered += redeliver_waiting(worker.queues)
    Worker.objects.exclude(state=Worker.State.RUNNING).filter(
        last_seen__lt=now - FORGET_AFTER
    ).delete()
    forget_old(now)
    return reaped


def redeliver_waiting(queues: list[str]) -> list[int]:
    """Deliver every task still waiting for one of `queues` again; returns their ids."""
    ids = []
    for task in ConversionTask.objects.filter(status=S.INITIALIZING).select_related("template"):
        queue = queue_of(task)
        if queue in queues:
            deliver(task.pk, queue)
            ids.append(task.pk)
    return ids


def fail_running_on(worker_name: str, message: str) -> list[int]:
    """Fail the tasks `worker_name` is running now (its own attempts); returns their ids."""
    failed = []
    for task in ConversionTask.objects.filter(status=S.RUNNING, worker=worker_name):
        if task.mark_failed(message, attempt=task.attempt):
            task.append_log([("error", message)])
            failed.append(task.pk)
    return failed
