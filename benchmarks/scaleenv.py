"""A throwaway console for the scale-out benchmarks: a private data folder and a database of its own.

`postgres=True`: a PostgreSQL database `mcc_bench_<pid>` (dropped at the end) and Redis as the
broker with queues prefixed `bench-<pid>-` (removed at the end). Otherwise the embedded default:
SQLite in the temporary folder and django-q2's ORM broker. POSTGRES_URL and SCALE_REDIS_URL say
where the services are (default 127.0.0.1, user postgres, trust auth, as in tests/scale).
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.getenv("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.getenv("SCALE_REDIS_URL", "redis://127.0.0.1:6379/0")


class Environment:
    def __init__(self, postgres: bool):
        self.postgres = postgres
        self.base = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        self.data_dir = self.base / "data"
        self.data_dir.mkdir()
        self.namespace = f"bench-{os.getpid()}-"
        self.database = f"mcc_bench_{os.getpid()}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "console.settings",
            # One key for the web process and every worker of this run (they sign queued messages).
            "SECRET_KEY": os.getenv("SECRET_KEY") or secrets.token_urlsafe(50),
            "DATA_DIR": str(self.data_dir),
            "WORK_DIR": str(self.base / "work"),
            "LOG_LEVEL": "WARNING",
        }
        if postgres:
            self._admin(f'CREATE DATABASE "{self.database}"')
            self.env.update(
                DATABASE_URL=f"{POSTGRES_URL}/{self.database}",
                REDIS_URL=REDIS_URL,
                QUEUE_NAMESPACE=self.namespace,
            )
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.base / 'db.sqlite3'}"
        os.environ.update(self.env)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], env=self.env, cwd=ROOT, check=True
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

    @property
    def backend(self) -> str:
        return "PostgreSQL + Redis" if self.postgres else "SQLite + ORM broker"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
            connection.execute(sql)

    def start_workers(self, count: int, **env) -> list[subprocess.Popen]:
        """`count` `manage.py worker` processes, returned once all of them are registered and live."""
        from conversions.models import Worker

        processes = [
            subprocess.Popen(
                [sys.executable, "manage.py", "worker"],
                env={**self.env, **env},
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        names = {f"{os.uname().nodename}:{p.pid}" for p in processes}
        deadline = time.monotonic() + 120
        while set(Worker.objects.live().values_list("name", flat=True)) < names:
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not register within 120 s")
            time.sleep(0.2)
        return processes

    @staticmethod
    def stop_workers(processes: list[subprocess.Popen]) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=120)

    def close(self) -> None:
        from django.db import connections

        connections.close_all()
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"django_q:{self.namespace}*"))
            if keys:
                client.delete(*keys)
        shutil.rmtree(self.base, ignore_errors=True)
