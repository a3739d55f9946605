"""One writer per output folder at a time, refereed by the database, so it holds across hosts.

A task about to publish marks itself (stage "publishing", a conditional UPDATE of its own row), then
looks for other running tasks so marked whose output folder has the same identity (the resolved
folder, or s3://bucket/prefix/). It writes only after a look that found none while its own mark
stood. Marks are written before looks, so of two tasks that both mark and look, the later look
sees the earlier mark: they never both write. A task that sees a rival with a lower id takes its
mark back while it waits, so the lowest id goes first and no two tasks wait on each other. A
rival's mark ends with it (succeeded, failed or reaped). The wait is bounded: OUTPUT_CLAIM_WAIT.
Each mark and look is its own committed statement (the worker runs in autocommit), which is what
makes the marks visible to other workers, on SQLite and PostgreSQL alike.
"""

import time
import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from conversions import locations
from conversions.converters.base import STAGES
from conversions.models import ConversionTask

POLL_SECONDS = 0.25


class OutputBusy(locations.LocationError):
    """Another task kept the output folder for longer than OUTPUT_CLAIM_WAIT."""


def rivals(task: ConversionTask, identity: str) -> list[ConversionTask]:
    """Other tasks marked as publishing into the folder `identity`, lowest id first."""
    found = []
    others = ConversionTask.objects.publishing().exclude(pk=task.pk).select_related("owner")
    for other in others.order_by("pk"):
        try:  # each task's folder as its owner names it: `out/` of two users are two folders
            if locations.locate(other.output_location, user=other.owner).identity == identity:
                found.append(other)
        except locations.LocationError:
            continue
    return found


def claim_output(task: ConversionTask, attempt: uuid.UUID, target) -> bool:
    """Hold `target` for `task`; False when the attempt is stale, OutputBusy after the wait.

    The hold is the task's "publishing" stage: it ends when the task ends.
    """
    identity = target.identity
    before = task.stage if task.stage != "publishing" else "verifying"  # where a withdrawal goes
    deadline = time.monotonic() + settings.OUTPUT_CLAIM_WAIT
    marked = False
    while True:
        if not marked:
            if not task.set_stage(attempt, "publishing", STAGES["publishing"]):
                return False
            marked = True
        found = rivals(task, identity)
        if not found:
            return True
        if time.monotonic() >= deadline:
            raise OutputBusy(
                _(
                    "The output folder %(folder)s is being written by task %(task)d; it was left "
                    "to that task. Retry when it has finished."
                )
                % {"folder": target, "task": found[0].pk}
            )
        if found[0].pk < task.pk:
            if not task.set_stage(attempt, before, STAGES.get(before, 0)):
                return False
            marked = False
            while rivals(task, identity) and time.monotonic() < deadline:
                if not _pause(task, attempt):
                    return False
        elif not _pause(task, attempt):
            return False


def _pause(task: ConversionTask, attempt: uuid.UUID) -> bool:
    """Wait a moment; False when the attempt went stale meanwhile (canceled, reaped)."""
    time.sleep(POLL_SECONDS)
    return task.beat(attempt)
