"""The Inspection model: one "Inspect model" request, queued for a worker and polled by the page.

The web process only writes a `queued` row and enqueues its id (conversions.jobs.run_inspection);
a worker runs the converter child and stores the report or the error. Each state change is a
conditional UPDATE, so a worker finishing late cannot undo a timeout the page already showed.
A user has at most one queued or running inspection (a partial unique constraint).
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

KEEP_ENDED = 3  # a user's ended inspections kept when they start a new one
FORGET_AFTER = timedelta(days=1)  # the reaper deletes any inspection older than this


class InspectionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Inspection.ACTIVE)

    def ended(self):
        return self.exclude(status__in=Inspection.ACTIVE)


class Inspection(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inspections"
    )
    location = models.CharField(max_length=1024)
    chip = models.CharField(max_length=16, blank=True)
    # The create form's chosen template and the tensor options already typed, for the result's
    # out-of-band options fill (typed values win over the model's suggestions).
    template_slug = models.CharField(max_length=100, blank=True)
    typed_options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(default=timezone.now)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_inspection_per_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.location} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    def _update(self, condition: Q, **fields) -> bool:
        changed = Inspection.objects.filter(condition, pk=self.pk).update(**fields)
        if changed:
            for key, value in fields.items():
                setattr(self, key, value)
        return bool(changed)

    def claim(self, worker: str = "") -> bool:
        """queued -> running; False when it was claimed, timed out or deleted meanwhile."""
        return self._update(
            Q(status=self.Status.QUEUED),
            status=self.Status.RUNNING,
            started=timezone.now(),
            worker=worker,
        )

    def finish(self, result: dict) -> bool:
        return self._update(
            Q(status=self.Status.RUNNING),
            status=self.Status.DONE,
            result=result,
            finished=timezone.now(),
        )

    def fail(self, message: str) -> bool:
        return self._update(
            Q(status__in=self.ACTIVE),
            status=self.Status.FAILED,
            error=message,
            finished=timezone.now(),
        )

    def expire_if_late(self, now=None) -> bool:
        """Fail an inspection still active INSPECT_TIMEOUT seconds after it was asked for."""
        now = now or timezone.now()
        limit = settings.INSPECT_TIMEOUT
        if not self.is_active or now - self.created < timedelta(seconds=limit):
            return False
        if self.status == self.Status.QUEUED:
            message = gettext(
                "No worker took this inspection within %(seconds)d s: the workers are busy with "
                "conversions or none is running. Try again later, or ask an administrator to "
                "start a worker for the cpu queue."
            )
        else:
            message = gettext(
                "The inspection did not finish within %(seconds)d s. The model may be too large "
                "to inspect here: fill in the tensor options by hand."
            )
        return self._update(
            Q(status=self.status, created=self.created),
            status=self.Status.FAILED,
            error=message % {"seconds": limit},
            finished=now,
        )


def forget_old(now=None) -> int:
    """Delete inspections older than FORGET_AFTER (run by every worker's reaper)."""
    now = now or timezone.now()
    deleted, _rows = Inspection.objects.filter(created__lt=now - FORGET_AFTER).delete()
    return deleted


def forget_ended_of(owner) -> None:
    """Delete `owner`'s ended inspections but the KEEP_ENDED newest."""
    keep = list(Inspection.objects.filter(owner=owner).ended().values_list("pk", flat=True))
    Inspection.objects.filter(owner=owner).ended().exclude(pk__in=keep[:KEEP_ENDED]).delete()
