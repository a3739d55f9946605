import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversions.converters.report import clean
from templates_registry.models import ConversionTemplate

# Sent with `task=` after a task became succeeded, failed or canceled (webhooks listen).
task_ended = Signal()


class TaskQuerySet(models.QuerySet):
    """The one permission vocabulary of the views: staff see and act on every task, everyone else
    on their own. Cancel, retry, delete and the rest all ask `editable_by`."""

    def visible_to(self, user):
        if not user.is_authenticated:
            return self.none()
        return self if user.is_staff else self.filter(owner=user)

    def editable_by(self, user):
        return self.visible_to(user)

    def active(self):
        return self.filter(status__in=ConversionTask.ACTIVE)

    def publishing(self):
        """Running tasks that hold (or are claiming) their output folder: see conversions/claims.py."""
        return self.filter(status=ConversionTask.Status.RUNNING, stage="publishing")


class ConversionTask(models.Model):
    """One conversion. Only the methods below change `status`; a stale attempt writes nothing."""

    class Status(models.TextChoices):
        INITIALIZING = "initializing", _("Initializing")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    class Stage(models.TextChoices):
        """Where a task is, in order; converters/base.py's STAGES gives each its progress."""

        QUEUED = "queued", _("Queued")
        STAGING = "staging", _("Staging")
        CHECKING = "checking", _("Checking")
        CONVERTING = "converting", _("Converting")
        VERIFYING = "verifying", _("Verifying")
        PUBLISHING = "publishing", _("Publishing")
        DONE = "done", _("Done")

    ACTIVE = (Status.INITIALIZING, Status.RUNNING)
    ENDED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED)

    name = models.CharField(_("name"), max_length=24)
    description = models.CharField(_("description"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversion_tasks"
    )
    template = models.ForeignKey(ConversionTemplate, on_delete=models.PROTECT, related_name="tasks")
    input_location = models.CharField(_("input location"), max_length=1024)
    output_location = models.CharField(_("output location"), max_length=1024)
    options = models.JSONField(_("advanced options"), default=dict, blank=True)
    # The output folder may already hold a converted model; only then does this matter.
    overwrite = models.BooleanField(_("overwrite"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.INITIALIZING
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(_("created"), default=timezone.now)
    started = models.DateTimeField(_("started"), null=True, blank=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    attempt = models.UUIDField(null=True, blank=True, editable=False)
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_task_name_per_owner")
        ]
        indexes = [models.Index(fields=["owner", "-created"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def duration(self):
        if not self.started:
            return None
        return (self.finished or timezone.now()) - self.started

    def input_folder(self):
        """The input folder, resolved for the task's owner through the access check (READ).

        A task stores its folders as its owner wrote them (`models/x/` is in the owner's home), so
        they resolve the same way whenever the task runs, and a revoked grant stops it plainly."""
        from conversions import locations

        return locations.parse(self.input_location, user=self.owner, need=locations.READ)

    def output_folder(self, need: str = "write"):
        """The output folder, resolved for the task's owner (WRITE to publish or delete, READ to
        list and download)."""
        from conversions import locations

        return locations.parse(self.output_location, user=self.owner, need=need)

    def delete_refusal(self) -> str:
        """Why this task cannot be deleted now, or ''."""
        if self.is_active:
            return _(
                "Task %(name)s is %(status)s: wait until it ends or cancel it before deleting."
            ) % {
                "name": self.name,
                "status": self.get_status_display().lower(),
            }
        return ""

    # State changes. Each one is a conditional UPDATE, so concurrent writers cannot undo each other.

    def _update(self, condition: Q, **fields) -> bool:
        changed = ConversionTask.objects.filter(condition, pk=self.pk).update(**fields)
        if changed:
            for key, value in fields.items():
                setattr(self, key, value)
            if fields.get("status") in self.ENDED:
                task_ended.send(sender=ConversionTask, task=self)
        return bool(changed)

    def claim(self, worker: str = "") -> uuid.UUID | None:
        """initializing -> running with a fresh attempt token; None when someone else has it."""
        attempt, now = uuid.uuid4(), timezone.now()
        fields = dict(
            status=self.Status.RUNNING,
            attempt=attempt,
            started=now,
            heartbeat=now,
            worker=worker,
            stage="staging",
            progress=5,
        )
        return attempt if self._update(Q(status=self.Status.INITIALIZING), **fields) else None

    def _current(self, attempt: uuid.UUID) -> Q:
        return Q(status=self.Status.RUNNING, attempt=attempt)

    def beat(self, attempt: uuid.UUID) -> bool:
        return self._update(self._current(attempt), heartbeat=timezone.now())

    def set_stage(self, attempt: uuid.UUID, stage: str, progress: int) -> bool:
        return self._update(
            self._current(attempt), stage=stage, progress=progress, heartbeat=timezone.now()
        )

    def mark_succeeded(self, attempt: uuid.UUID, result: dict) -> bool:
        return self._update(
            self._current(attempt),
            status=self.Status.SUCCEEDED,
            stage="done",
            progress=100,
            result=clean(result),  # strict JSON: the JSON column refuses NaN and Infinity
            finished=timezone.now(),
            error_message="",
        )

    def mark_failed(
        self, message: str, *, attempt: uuid.UUID | None = None, result: dict | None = None
    ) -> bool:
        """Record a failure; False when `attempt` is stale (or the task already ended) and nothing was written."""
        condition = self._current(attempt) if attempt else Q(status__in=self.ACTIVE)
        return self._update(
            condition,
            status=self.Status.FAILED,
            error_message=message,
            result=clean(result or {}),
            finished=timezone.now(),
        )

    def mark_canceled(self) -> bool:
        """Cancel an initializing or running task. The running attempt is fenced out by the status
        change: its worker sees a failed heartbeat and kills the converter child."""
        return self._update(
            Q(status__in=self.ACTIVE),
            status=self.Status.CANCELED,
            finished=timezone.now(),
            error_message=str(_("Canceled by the user.")),
        )

    def mark_lost(self, cutoff) -> bool:
        """Fail a running task whose heartbeat is older than `cutoff`: its worker vanished.

        Conditional on the heartbeat it was seen with, so a beat that lands first wins."""
        seen = self.heartbeat
        message = _(
            "Worker lost, last seen at %(time)s UTC (%(worker)s). The conversion was not retried "
            "automatically: retry the task once the worker is back or the model is fixed."
        ) % {"time": f"{seen:%Y-%m-%d %H:%M:%S}", "worker": self.worker or "unknown worker"}
        condition = Q(self._current(self.attempt), heartbeat=seen, heartbeat__lt=cutoff)
        return self._update(
            condition, status=self.Status.FAILED, error_message=message, finished=timezone.now()
        )

    RETRYABLE = (Status.FAILED, Status.CANCELED)

    def retry(self) -> bool:
        """failed or canceled -> initializing, same parameters, no attempt yet; the caller enqueues it."""
        return self._update(
            Q(status__in=self.RETRYABLE),
            status=self.Status.INITIALIZING,
            stage="queued",
            progress=0,
            attempt=None,
            heartbeat=None,
            worker="",
            started=None,
            finished=None,
            error_message="",
            result={},
        )

    def append_log(
        self, entries: list[tuple[str, str]], *, attempt: uuid.UUID | None = None
    ) -> bool:
        """Append (level, text) lines; refused when `attempt` is no longer the current one."""
        if not entries:
            return True
        with transaction.atomic():
            if (
                attempt
                and not ConversionTask.objects.filter(self._current(attempt), pk=self.pk).exists()
            ):
                return False
            start = (self.log_lines.aggregate(last=Max("seq"))["last"] or 0) + 1
            now = timezone.now()
            TaskLogLine.objects.bulk_create(
                TaskLogLine(task=self, seq=start + i, at=now, level=level, text=text[:4000])
                for i, (level, text) in enumerate(entries)
            )
        return True


class TaskLogLine(models.Model):
    task = models.ForeignKey(ConversionTask, on_delete=models.CASCADE, related_name="log_lines")
    seq = models.PositiveIntegerField()
    at = models.DateTimeField(default=timezone.now)
    level = models.CharField(max_length=8, default="info")
    text = models.TextField()

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["task", "seq"], name="unique_log_seq")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} [{self.level.upper()}] {self.text}"


class WorkerQuerySet(models.QuerySet):
    def live(self):
        """Workers running now: heard from within WORKER_LOST_AFTER and not stopping or stopped."""
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER)
        return self.filter(state=Worker.State.RUNNING, last_seen__gte=cutoff)


class Worker(models.Model):
    """A `manage.py worker` process: where it runs, what it serves and which tools it has."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        STOPPING = "stopping", _("Stopping")
        STOPPED = "stopped", _("Stopped")
        LOST = "lost", _("Lost")

    SANDBOX = "sandbox"  # the capabilities entry of the converter sandbox (not a converter)
    WARM = "warm"  # and of its warm children: {"enabled", "children", "memory_mb"}

    name = models.CharField(max_length=200, unique=True)  # host:pid, as in ConversionTask.worker
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    queues = models.JSONField(default=list)
    # converter key -> {"available": bool, "tools": {tool: version}, "reason": str}; and the same
    # shape under SANDBOX for the converter child's Landlock sandbox
    capabilities = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    started = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    objects = WorkerQuerySet.as_manager()

    class Meta:
        ordering = ["host", "pid"]

    def __str__(self) -> str:
        return self.name

    def beat(self) -> bool:
        """Say this worker is alive; False once someone else declared it lost."""
        return bool(
            Worker.objects.filter(
                pk=self.pk, state__in=[self.State.RUNNING, self.State.STOPPING]
            ).update(last_seen=timezone.now())
        )

    def set_state(self, state: str) -> None:
        Worker.objects.filter(pk=self.pk).update(state=state, last_seen=timezone.now())
        self.state = state

    def mark_lost(self, cutoff) -> bool:
        """running/stopping -> lost when silent since before `cutoff`; True for the one caller that won."""
        return bool(
            Worker.objects.filter(
                pk=self.pk,
                state__in=[self.State.RUNNING, self.State.STOPPING],
                last_seen__lt=cutoff,
            ).update(state=self.State.LOST)
        )

    @property
    def is_live(self) -> bool:
        cutoff = timezone.now() - timedelta(seconds=settings.WORKER_LOST_AFTER)
        return self.state == self.State.RUNNING and self.last_seen >= cutoff

    @property
    def converters(self) -> dict[str, dict]:
        return {k: v for k, v in self.capabilities.items() if k not in (self.SANDBOX, self.WARM)}

    @property
    def warm(self) -> dict:
        """Its warm converter children now: {"enabled", "children", "memory_mb"} ({} unknown)."""
        return self.capabilities.get(self.WARM) or {}

    def report_warm(self, warm: dict) -> None:
        """Keep what the worker says of its warm children (written only when it changed)."""
        if self.capabilities.get(self.WARM) != warm:
            self.capabilities[self.WARM] = warm
            Worker.objects.filter(pk=self.pk).update(capabilities=self.capabilities)

    @property
    def sandbox(self) -> dict:
        """{"available", "tools", "reason"}; workers registered before the sandbox existed: off."""
        return self.capabilities.get(self.SANDBOX) or {
            "available": False,
            "tools": {},
            "reason": _("not reported by this worker"),
        }

    def tools(self) -> dict[str, str]:
        """Every tool any converter reported, with its version (a tool two converters share once)."""
        found = {}
        for answer in self.converters.values():
            found.update(answer.get("tools") or {})
        return dict(sorted(found.items()))


# Registered with this app here; each model lives in its own module (models.py stays small).
from conversions.grants import FolderGrant  # noqa: E402
from conversions.inspections import Inspection  # noqa: E402

__all__ = ["ConversionTask", "FolderGrant", "Inspection", "TaskLogLine", "Worker"]
