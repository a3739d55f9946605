"""Throughput with more workers: 40 small conversions (the small CNN, 32-bit TFLite) on 1 and 2 workers.

Each round starts its workers and waits until they are registered, then delivers 40 tasks and
times from the first delivery to the last task's end. Every task must succeed, once.

    .venv/bin/python benchmarks/throughput.py [--tasks 40] [--embedded]

Default: PostgreSQL + Redis (see benchmarks/scaleenv.py); --embedded: SQLite + ORM broker.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scaleenv import Environment  # noqa: E402


def run_round(environment: Environment, owner, workers: int, count: int) -> dict:
    from conversions.models import ConversionTask
    from tests.scale.helpers import make_tasks

    processes = environment.start_workers(workers)
    try:
        started = time.monotonic()
        ids = [t.pk for t in make_tasks(owner, "cnn/", count, prefix=f"w{workers}-")]
        tasks = ConversionTask.objects.filter(pk__in=ids)
        while tasks.filter(status__in=ConversionTask.ACTIVE).exists():
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        environment.stop_workers(processes)
    statuses = set(tasks.values_list("status", flat=True))
    assert statuses == {"succeeded"}, f"tasks ended {statuses}"
    per_task = [(t.finished - t.started).total_seconds() for t in tasks]
    spread = set(tasks.values_list("worker", flat=True))
    return {
        "workers": workers,
        "seconds": elapsed,
        "per_minute": count / elapsed * 60,
        "task_s": statistics.median(per_task),
        "used": len(spread),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--embedded", action="store_true", help="SQLite + ORM broker")
    args = parser.parse_args()
    environment = Environment(postgres=not args.embedded)
    try:
        from django.contrib.auth.models import User

        from tests import modelkit

        modelkit.freeze(modelkit.small_cnn(), environment.data_dir / "cnn/model/cnn.pb")
        owner = User.objects.create(username="bench")
        rows = [run_round(environment, owner, n, args.tasks) for n in (1, 2)]
    finally:
        environment.close()
    cores = len(os.sched_getaffinity(0))
    print(
        f"\n{args.tasks} conversions of the small CNN (32-bit TFLite), {environment.backend}, "
        f"{cores} CPU cores, load average {os.getloadavg()[1]:.1f} (5 min)\n"
    )
    print("| workers | wall s | conversions/min | median task s (claim to end) | workers used |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['workers']} | {row['seconds']:.1f} | {row['per_minute']:.1f} | "
            f"{row['task_s']:.2f} | {row['used']} |"
        )
    print(
        f"\nthroughput ratio, 2 workers / 1 worker: {rows[1]['per_minute'] / rows[0]['per_minute']:.2f}"
    )


if __name__ == "__main__":
    main()
