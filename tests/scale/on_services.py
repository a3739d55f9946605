"""Run tests/scale on PostgreSQL and Redis: the second half of `make test`.

Each run gets names of its own, so runs on one machine never share state: pytest-django creates the
database `test_mcc_scale_<pid>` and drops it at the end, and the broker's queues are prefixed
`scale-<pid>-` in Redis (removed at the end). POSTGRES_URL and REDIS_URL override where the
services are (default: 127.0.0.1, user postgres, trust auth). When a service is down the run is
skipped with a message, unless REQUIRE_SERVICES=1 (CI), which makes that a failure.

    .venv/bin/python tests/scale/on_services.py [pytest arguments]
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.getenv("POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.getenv("SCALE_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_down() -> list[str]:
    import psycopg
    import redis

    down = []
    try:
        psycopg.connect(f"{POSTGRES_URL}/postgres", connect_timeout=5).close()
    except psycopg.Error as exc:
        down.append(f"PostgreSQL at {POSTGRES_URL}: {exc}".strip())
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        down.append(f"Redis at {REDIS_URL}: {exc}")
    return down


def main(args: list[str]) -> int:
    down = services_down()
    if down:
        print("tests/scale on PostgreSQL and Redis: service unavailable:\n  " + "\n  ".join(down))
        if os.getenv("REQUIRE_SERVICES") == "1":
            return 1
        print("skipped (set REQUIRE_SERVICES=1 to make this a failure)")
        return 0
    namespace = f"scale-{os.getpid()}-"
    env = {
        **os.environ,
        "DATABASE_URL": f"{POSTGRES_URL}/mcc_scale_{os.getpid()}",
        "REDIS_URL": REDIS_URL,
        "QUEUE_NAMESPACE": namespace,
    }
    command = [sys.executable, "-m", "pytest", "tests/scale", "-p", "no:cacheprovider", *args]
    print(f"tests/scale on PostgreSQL and Redis (queues {namespace}*)", flush=True)
    try:
        return subprocess.call(command, cwd=ROOT, env=env)
    finally:
        import redis

        connection = redis.Redis.from_url(REDIS_URL)
        keys = list(connection.scan_iter(match=f"django_q:{namespace}*"))
        if keys:
            connection.delete(*keys)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
