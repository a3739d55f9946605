"""One attempt at a conversion, from staging to publishing, as the worker runs it.

The task row is the truth: every write goes through the task's fenced methods with this attempt's
token, so a worker whose attempt is stale (the task was canceled, reaped or re-run) writes nothing.
"""

import json
import logging
import shutil
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from conversions import locations
from conversions.claims import claim_output
from conversions.converters.base import STAGES, ConversionError, Job
from conversions.converters.layout import check_layout
from conversions.converters.report import Report, clean, dumps
from conversions.isolation import Limits, Outcome, run_child, warm_slot
from conversions.models import ConversionTask
from conversions.sandbox import Sandbox
from conversions.timings import Clock

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 0.5


class StaleAttempt(Exception):
    """This worker's attempt is no longer the task's current one."""


class TaskLog:
    """Buffers log lines and writes them in small batches; keeps the whole log for job_log.txt."""

    def __init__(self, task: ConversionTask, attempt: uuid.UUID):
        self.task, self.attempt = task, attempt
        self.pending: list[tuple[str, str]] = []
        self.lines: list[str] = []
        self.lock = threading.Lock()
        self.last_flush = time.monotonic()
        self.stale = False

    def add(self, text: str, level: str = "info") -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
        with self.lock:
            for line in str(text).splitlines() or [""]:
                self.pending.append((level, line))
                self.lines.append(f"{stamp} [{level.upper()}] {line}")
        if time.monotonic() - self.last_flush > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, []
            self.last_flush = time.monotonic()
        if pending and not self.task.append_log(pending, attempt=self.attempt):
            self.stale = True

    def text(self) -> str:
        with self.lock:
            return "\n".join(self.lines) + "\n"


class Attempt:
    def __init__(self, task: ConversionTask, attempt: uuid.UUID, queued: float | None = None):
        """`queued`: when the task went to the broker (time.time()); default: its creation."""
        self.task, self.attempt = task, attempt
        self.clock = Clock(queued or task.created.timestamp())
        self.clock.mark("claimed", task.started.timestamp() if task.started else None)
        self.log = TaskLog(task, attempt)
        self.workdir = Path(settings.WORK_DIR) / f"task-{task.pk}-{attempt.hex[:8]}"
        self.stop_beating = threading.Event()
        self.stale = False

    def run(self) -> None:
        heart = threading.Thread(target=self._heartbeat, daemon=True)
        heart.start()
        try:
            self._run()
        except StaleAttempt:
            logger.warning(
                "task %s: attempt %s is stale; stopped without writing", self.task.pk, self.attempt
            )
        except Exception:  # a bug of ours must still end the task, never leave it running
            logger.exception("task %s failed in the worker", self.task.pk)
            self.log.add("The worker failed unexpectedly; see the worker's log.", "error")
            self._finish_failed(
                "The worker failed unexpectedly while converting. See job_log.txt and the worker's log."
            )
        finally:
            self.stop_beating.set()
            heart.join(timeout=5)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _heartbeat(self) -> None:
        try:
            while not self.stop_beating.wait(settings.HEARTBEAT_INTERVAL):
                try:
                    current = self.task.beat(self.attempt)
                except DatabaseError:  # a busy database must not stop the beat for good
                    logger.warning("task %s: heartbeat failed", self.task.pk, exc_info=True)
                    connection.close()
                    continue
                if not current:
                    self.stale = True
                    return
        finally:
            connection.close()

    def stage(self, name: str) -> None:
        self.log.add(f"Stage: {name}")
        if not self.task.set_stage(self.attempt, name, STAGES[name]):
            raise StaleAttempt()

    def _run(self) -> None:
        task, template = self.task, self.task.template
        self.log.add(
            f"Task {task.name}: template {template.slug}, input {task.input_location}, output {task.output_location}"
        )
        self.log.add(f"Advanced options: {json.dumps(task.options, sort_keys=True)}")
        input_dir, output_dir = self.workdir / "input", self.workdir / "output"
        output_dir.mkdir(parents=True)
        input_dir.mkdir()
        try:
            self.stage("staging")
            # Resolved for the task's owner now: a grant revoked since creation stops the task.
            source = task.input_folder()
            target = task.output_folder(locations.WRITE)
            if not task.overwrite and target.holds_converted_model():
                self._refuse_taken_output()
                return
            source.stage_into(input_dir)
            self.stage("checking")
            check_layout(input_dir, template.chip, template.model_format)
        except (locations.LocationError, ConversionError) as exc:
            self._fail_and_publish(str(exc), None, output_dir)
            return
        self.log.add("Input folder layout is valid")
        job = Job(
            converter=template.converter,
            input_dir=str(input_dir),
            output_dir=str(output_dir),
            name=task.name,
            model_format=template.model_format,
            chip=template.chip,
            options=task.options,
            seed=task.pk,
        )
        job_path = self.workdir / "job.json"
        job.dump(job_path)
        self.log.flush()  # the staging lines are on the page before the converter starts
        self.clock.mark("handed")
        outcome = run_child(
            job_path,
            self._limits(),
            self._on_event,
            lambda line: self.log.add(line, "tool"),
            should_stop=self._should_stop,
            sandbox=Sandbox.from_settings(settings),
            warm=warm_slot(settings),
        )
        self.clock.mark("ended")
        self.clock.warm = outcome.warm
        self.log.add(
            "Converter child: warm (started before the task)"
            if outcome.warm
            else "Converter child: started for this task"
        )
        self.log.flush()
        if outcome.reason == "canceled" or self.stale or self.log.stale:
            raise StaleAttempt()
        self._conclude(outcome, target, output_dir)

    def _refuse_taken_output(self) -> None:
        """Fail without writing anything: the model in the output folder is an earlier task's."""
        message = (
            f"The output folder {self.task.output_location} already holds a converted model "
            "(report.json) and was left untouched: choose another folder, or create the task "
            "with overwrite."
        )
        self.log.add(message, "error")
        self._finish_failed(message)

    def _limits(self) -> Limits:
        return Limits(
            *self.task.template.limits(
                settings.CONVERSION_TIMEOUT,
                settings.CONVERSION_CPU_SECONDS,
                settings.CONVERSION_MEMORY_MB,
            )
        )

    def _should_stop(self) -> bool:
        return self.stale or self.log.stale

    def _on_event(self, event: dict) -> None:
        if event.get("event") == "ready":
            self.clock.mark("ready", event.get("at"))
        elif event.get("event") == "log":
            self.log.add(event.get("message", ""), event.get("level", "info"))
        elif event.get("event") == "stage" and event.get("stage") in STAGES:
            self.clock.mark(event["stage"], event.get("at"))
            if event["stage"] == self.task.stage:
                return
            self.log.add(f"Stage: {event['stage']}")
            self.log.flush()
            if not self.task.set_stage(
                self.attempt, event["stage"], event.get("progress", STAGES[event["stage"]])
            ):
                self.stale = True

    def _conclude(self, outcome: Outcome, target, output_dir: Path) -> None:
        result = clean(outcome.result)
        failure = Report.from_dict(result).failure()
        if outcome.ok and failure:
            self._fail_and_publish(failure, result, output_dir, target)
            return
        if not outcome.ok:
            self._fail_and_publish(outcome.error, result or None, output_dir, target)
            return
        self.log.add("Model converted successfully")
        report = {**result, "status": "succeeded", "task": self._task_summary()}
        try:
            self._publish(target, output_dir, report)
        except (locations.LocationError, OSError) as exc:
            # Publishing stopped before report.json: nothing vouches for the partial upload.
            message = f"The model converted, but publishing it failed: {exc}"
            self.log.add(message, "error")
            self._finish_failed(message)
            return
        if not self.task.mark_succeeded(self.attempt, report):
            raise StaleAttempt()

    def _task_summary(self) -> dict:
        task = self.task
        return {
            "id": task.pk,
            "name": task.name,
            "template": task.template.slug,
            "options": task.options,
        }

    def _fail_and_publish(
        self, message: str, result: dict | None, output_dir: Path, target=None
    ) -> None:
        self.log.add(message, "error")
        report = {
            **clean(result or {}),
            "status": "failed",
            "error": message,
            "task": self._task_summary(),
        }
        try:
            target = target or self.task.output_folder(locations.WRITE)
            self._publish(target, output_dir, report)
        except (locations.LocationError, OSError) as exc:
            self.log.add(f"Could not write the output folder: {exc}", "error")
        self._finish_failed(message, report)

    def _finish_failed(self, message: str, report: dict | None = None) -> None:
        self.log.flush()
        if not self.task.mark_failed(message, attempt=self.attempt, result=report):
            raise StaleAttempt()

    def _publish(self, target, output_dir: Path, report: dict) -> None:
        """Artifacts first, then job_log.txt, then report.json: a reader that finds report.json finds everything."""
        # Ask the database, not only the heartbeat thread: a cancel may have landed a moment ago.
        if self.stale or self.log.stale or not self.task.beat(self.attempt):
            raise StaleAttempt()
        self.log.add("Stage: publishing")
        if not claim_output(self.task, self.attempt, target):  # one writer per output folder
            raise StaleAttempt()
        if not self.task.overwrite and target.holds_converted_model():
            raise locations.LocationError(
                f"The output folder {self.task.output_location} received a converted model from "
                "another task while this one ran, and was left untouched: choose another folder, "
                "or create the task with overwrite."
            )
        files = [
            (p, str(p.relative_to(output_dir)))
            for p in sorted(output_dir.rglob("*"))
            if p.is_file()
        ]
        report["artifacts_published"] = [name for _, name in files] + ["job_log.txt"]
        # job_log.txt and report.json are written below, after this line: counted here all the same
        self.log.add(
            f"Publish {len(files) + 2} files to {self.task.output_location}: {len(files)} from the "
            "conversion, job_log.txt and report.json"
        )
        self.log.flush()
        self.clock.mark("published")
        report["timings"] = {**(report.get("timings") or {}), "task": self.clock.report()}
        log_path, report_path = self.workdir / "job_log.txt", self.workdir / "report.json"
        log_path.write_text(self.log.text())
        report_path.write_text(dumps(report, indent=2, sort_keys=True))
        target.publish(files + [(log_path, "job_log.txt"), (report_path, "report.json")])
