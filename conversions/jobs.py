"""The django-q2 entry points. Tasks are plain functions given ids, never objects."""

import logging

from django.db import transaction
from django_q.tasks import async_task

from conversions.converters.tensorrt.routing import queue_for
from conversions.models import ConversionTask
from conversions.pipeline import Attempt, worker_name

logger = logging.getLogger(__name__)


def enqueue(task: ConversionTask) -> None:
    """Deliver the task to a worker of its queue once the surrounding transaction commits."""
    queue = queue_for(task.template.queue, task.template.converter, task.options)
    transaction.on_commit(
        lambda: async_task(
            "conversions.jobs.run_conversion",
            task.pk,
            cluster=queue,
            task_name=f"convert-{task.pk}",
        )
    )


def run_conversion(task_id: int) -> str:
    """Claim the task and convert it; a task already claimed, canceled or deleted is left alone."""
    task = ConversionTask.objects.select_related("template").filter(pk=task_id).first()
    if task is None:
        return "deleted"
    attempt = task.claim(worker=worker_name())
    if attempt is None:
        logger.info("task %s is %s: not claimed", task_id, task.status)
        return "skipped"
    Attempt(task, attempt).run()
    task.refresh_from_db(fields=["status"])
    return task.status
