"""What cancel, retry and delete do, and why they refuse: one set of rules for the pages and the API.

Each returns the refusal message ('' when it went through); the caller decides how to say it.
"""

import logging

from django.utils.translation import gettext as _

from conversions import locations
from conversions.jobs import enqueue
from conversions.models import ConversionTask
from conversions.quota import active_task_refusal

logger = logging.getLogger(__name__)


class Refusal(str):
    """A refusal message with a stable `code` for the API: conflict, location_refused,
    active_task_limit."""

    def __new__(cls, message: str, code: str = "conflict"):
        refusal = super().__new__(cls, message)
        refusal.code = code
        return refusal


def cancel(task: ConversionTask, user) -> str:
    """Cancel an initializing or running task; a running converter is killed by its worker."""
    if task.mark_canceled():
        task.append_log([("info", _("Canceled by %(user)s.") % {"user": user})])  # neutral
        return ""
    return Refusal(
        _("Task %(name)s has already ended (%(status)s): nothing to cancel.")
        % {"name": task.name, "status": task.get_status_display().lower()}
    )


def retry(task: ConversionTask, user) -> str:
    """Run a failed or canceled task again with the same parameters, as a new attempt."""
    try:  # the owner's access now, not at creation: a revoked grant is said here, not by the worker
        task.input_folder()
        task.output_folder(locations.WRITE)
    except locations.LocationError as exc:
        return Refusal(str(exc), "location_refused")
    refusal = active_task_refusal(task.owner) if task.status in task.RETRYABLE else ""
    if refusal:
        return Refusal(refusal, "active_task_limit")
    if task.retry():
        task.append_log([("info", _("Retried by %(user)s.") % {"user": user})])
        enqueue(task)
        return ""
    return Refusal(
        _("Task %(name)s is %(status)s: only failed or canceled tasks can be retried.")
        % {"name": task.name, "status": task.get_status_display().lower()}
    )


def remove_outputs(tasks: list[ConversionTask]) -> int:
    """Delete the files these tasks published to their output folders; returns how many went."""
    removed = 0
    for task in tasks:
        names = list((task.result or {}).get("artifacts_published", []))
        if not names:
            continue
        try:
            removed += task.output_folder(locations.WRITE).remove(names + ["report.json"])
        except (locations.LocationError, OSError) as exc:
            logger.warning("task %s: outputs not deleted: %s", task.pk, exc)
    return removed


def delete(tasks: list[ConversionTask], *, outputs: bool = False) -> tuple[int, int]:
    """Delete tasks that are not active (re-checked in the database), with their published files
    when `outputs`; returns (tasks deleted, files deleted)."""
    doomed = ConversionTask.objects.filter(pk__in=[t.pk for t in tasks]).exclude(
        status__in=ConversionTask.ACTIVE
    )
    files = remove_outputs(list(doomed)) if outputs else 0
    count = doomed.count()
    doomed.delete()
    return count, files
