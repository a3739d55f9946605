"""The django-q2 entry points. Tasks are plain functions given ids, never objects.

The web process imports this module to enqueue; the worker's modules (the pipeline, the child
launcher, inspections) are imported only when a worker runs an entry point, so the web process never
loads them (tests/conversions/test_web_imports.py holds that).
"""

import logging
import os
import socket
import time

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from conversions.converters.targets import queue_for
from conversions.models import ConversionTask, Inspection, Worker

logger = logging.getLogger(__name__)


def worker_name() -> str:
    """The registry name of the `manage.py worker` this process serves (host:pid), else host:pid."""
    return os.getenv("WORKER_NAME") or f"{socket.gethostname()}:{os.getpid()}"


def deliver(task_id: int, queue: str) -> None:
    """Hand a task id to the broker queue `queue`. Delivering twice is harmless: only one claim wins."""
    async_task(
        "conversions.jobs.run_conversion",
        task_id,
        time.time(),
        cluster=settings.QUEUE_NAMESPACE + queue,
        task_name=f"convert-{task_id}",
    )


def queue_of(task: ConversionTask) -> str:
    """The queue a task goes to: its template's, unless its options need a GPU worker."""
    return queue_for(task.template.converter, task.template.queue, task.options)


def enqueue(task: ConversionTask) -> None:
    """Deliver the task to a worker of its queue once the surrounding transaction commits."""
    queue = queue_of(task)
    transaction.on_commit(lambda: deliver(task.pk, queue))


def _this_worker_is_stopping() -> bool:
    """True when the `manage.py worker` around this process got SIGTERM: it must not start new work."""
    name = os.getenv("WORKER_NAME")
    return (
        bool(name) and Worker.objects.filter(name=name).exclude(state=Worker.State.RUNNING).exists()
    )


def run_conversion(task_id: int, queued: float | None = None) -> str:
    """Claim the task and convert it; a task already claimed, canceled or deleted is left alone.

    `queued`: when it was handed to the broker (time.time()), for report.json's queue wait."""
    task = ConversionTask.objects.select_related("template", "owner").filter(pk=task_id).first()
    if task is None:
        return "deleted"
    if task.status == ConversionTask.Status.INITIALIZING and _this_worker_is_stopping():
        # A stopping qcluster still runs what it had prefetched: give it back to the queue instead.
        deliver(task.pk, queue_of(task))
        return "handed back"
    attempt = task.claim(worker=worker_name())
    if attempt is None:
        logger.info("task %s is %s: not claimed", task_id, task.status)
        return "skipped"
    from conversions.pipeline import Attempt  # a worker module: see the module's docstring

    Attempt(task, attempt, queued).run()
    task.refresh_from_db(fields=["status"])
    return task.status


def deliver_inspection(inspection_id: int) -> None:
    async_task(
        "conversions.jobs.run_inspection",
        inspection_id,
        cluster=settings.QUEUE_NAMESPACE + settings.INSPECT_QUEUE,
        task_name=f"inspect-{inspection_id}",
    )


def enqueue_inspection(inspection: Inspection) -> None:
    """Deliver an inspection to a worker of INSPECT_QUEUE once the surrounding transaction commits."""
    transaction.on_commit(lambda: deliver_inspection(inspection.pk))


def run_inspection(inspection_id: int) -> str:
    """Claim the inspection, run the converter child on its model and store the report or error.

    Skipped when it was deleted, claimed elsewhere, or given up (INSPECT_TIMEOUT) while it waited.
    """
    inspection = Inspection.objects.select_related("owner").filter(pk=inspection_id).first()
    if inspection is None:
        return "deleted"
    if inspection.expire_if_late():
        return "timed out"
    if inspection.status == Inspection.Status.QUEUED and _this_worker_is_stopping():
        deliver_inspection(inspection.pk)
        return "handed back"
    if not inspection.claim(worker=worker_name()):
        return "skipped"
    from conversions.inspection import InspectionError, inspect_location  # a worker module

    try:
        report = inspect_location(inspection.location, inspection.chip, user=inspection.owner)
    except InspectionError as exc:
        inspection.fail(str(exc))
    except Exception:
        logger.exception("inspection %s failed", inspection_id)
        inspection.fail(_("The worker could not inspect this model (an internal error, logged)."))
    else:
        inspection.finish(report)
    return inspection.status
