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

from tests.conftest import ROOT, worker_env
from tests.scale.helpers import children

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
