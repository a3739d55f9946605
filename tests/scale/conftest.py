"""Real `manage.py worker` processes on the database and broker the settings point at.

`pytest` alone runs these on the embedded default (SQLite, ORM broker); `tests/scale/on_services.py`
(the second half of `make test`) runs them again on PostgreSQL and Redis.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from conversions.jobs import deliver
from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate
from tests.conftest import CNN_OPTIONS, ROOT, wait_for, worker_env

S = ConversionTask.Status
# Short enough for tests, long enough that a busy 2-core machine never misses a beat by accident.
TIMING = {"HEARTBEAT_INTERVAL": "1", "WORKER_LOST_AFTER": "6", "REAPER_INTERVAL": "1"}
LOST_DEADLINE = 6 + 1 + 10  # WORKER_LOST_AFTER + REAPER_INTERVAL + a margin for a busy machine


def backend() -> str:
    broker = "redis" if os.getenv("REDIS_URL") else "orm"
    return f"{connection.vendor}+{broker}"


class Workers:
    """Starts `manage.py worker` processes and stops, signals or kills them."""

    def __init__(self, settings, tmp_path: Path):
        self.settings, self.tmp_path = settings, tmp_path
        self.processes: list[subprocess.Popen] = []

    def start(self, **env) -> subprocess.Popen:
        log = (self.tmp_path / f"worker-{len(self.processes)}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker"],
            cwd=ROOT,
            env={**worker_env(self.settings), **TIMING, **{k: str(v) for k, v in env.items()}},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        process.log_path = log.name
        self.processes.append(process)
        return process

    @staticmethod
    def name(process: subprocess.Popen) -> str:
        return f"{os.uname().nodename}:{process.pid}"

    def kill_hard(self, process: subprocess.Popen) -> None:
        """kill -9 the worker and every qcluster process it started (they run in sessions of their own)."""
        for child in children(process.pid):
            os.killpg(child, signal.SIGKILL)
        process.kill()
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill_hard(process)

    def log(self, process) -> str:
        return Path(process.log_path).read_text()


@pytest.fixture
def workers(transactional_db, builtin_templates, settings, tmp_path):
    pool = Workers(settings, tmp_path)
    yield pool
    pool.stop_all()


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def converter_pids(task_id: int) -> list[int]:
    """Converter child processes (`python -m conversions.converters run .../task-<id>-*/job.json`)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if b"conversions.converters" in argv and any(
            f"/task-{task_id}-".encode() in a for a in argv
        ):
            found.append(int(proc.name))
    return found


def make_tasks(owner, folder: str, count: int, prefix: str = "t") -> list[ConversionTask]:
    """`count` ARM conversions of `folder`, each to its own output folder, delivered to the cpu queue."""
    template = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    tasks = []
    for i in range(count):
        task = ConversionTask.objects.create(
            owner=owner,
            name=f"{prefix}{i:02d}",
            template=template,
            input_location=folder,
            output_location=f"out/{prefix}{i:02d}/",
            options=CNN_OPTIONS,
        )
        deliver(task.pk, template.queue)
        tasks.append(task)
    return tasks


def ended(task_id: int):
    task = ConversionTask.objects.get(pk=task_id)
    return None if task.is_active else task


def converting(task_id: int) -> int | None:
    """The pid of the task's converter child once the task is running it, else None."""
    task = ConversionTask.objects.get(pk=task_id)
    if task.status != S.RUNNING:
        return None
    pids = converter_pids(task_id)
    return pids[0] if pids else None


def first_converting(tasks) -> tuple[ConversionTask, int]:
    def probe():
        for task in tasks:
            pid = converting(task.pk)
            if pid:
                return ConversionTask.objects.get(pk=task.pk), pid
        return None

    return wait_for(probe, timeout=180, what="a converter child to start")
