"""Page benchmark: server time of the task list and the detail polls with 10,000 tasks in the database.

Requests go through Django's full stack (middleware, sessions, auth, templates) in this process, on a
fresh SQLite database (or DATABASE_URL's), so the figures are server time without the network.
Goals: the list under 100 ms at the median, the detail page's polls under 20 ms.

    .venv/bin/python benchmarks/pages.py [--tasks 10000] [--repeat 50]
"""

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(client, url: str, repeat: int, **headers) -> tuple[float, float]:
    """(median, p95) milliseconds of `repeat` GETs of `url`, after one warm-up request."""
    assert client.get(url, **headers).status_code == 200, url
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, **headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def seed(tasks: int):
    """Set Django up on a fresh database holding `tasks` tasks of one user; (owner, a running task
    with 400 log lines)."""
    base = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{base / 'db.sqlite3'}")
    os.environ.update(
        DATA_DIR=str(base / "data"), LOG_LEVEL="WARNING", DEBUG="0", ALLOWED_HOSTS="testserver"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic needed here
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone

    from conversions.models import ConversionTask, TaskLogLine
    from templates_registry.models import ConversionTemplate

    call_command("migrate", verbosity=0)
    owner = User.objects.create_user("bench", password="bench-pass-123")
    templates = list(ConversionTemplate.objects.all())
    statuses = [s for s, _ in ConversionTask.Status.choices]
    now = timezone.now()
    started = time.perf_counter()
    ConversionTask.objects.bulk_create(
        [
            ConversionTask(
                owner=owner,
                name=f"convert-{i:05d}",
                template=templates[i % len(templates)],
                input_location="models/cnn/",
                output_location=f"out/{i}/",
                status=statuses[i % len(statuses)],
                created=now - timezone.timedelta(seconds=i),
                options={"quantization_precision": "32bit"},
            )
            for i in range(tasks)
        ],
        batch_size=1000,
    )
    running = ConversionTask.objects.filter(status="running").first()
    TaskLogLine.objects.bulk_create(
        [TaskLogLine(task=running, seq=i + 1, text=f"line {i}") for i in range(400)]
    )
    print(
        f"{tasks} tasks created in {time.perf_counter() - started:.1f} s "
        f"({ConversionTask.objects.count()} in the database)"
    )

    return owner, running


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    owner, running = seed(args.tasks)
    from django.test import Client

    client = Client()
    client.force_login(owner)
    htmx = {"HTTP_HX_REQUEST": "true"}
    rows = [
        ("list, first page (10)", "/", {}),
        ("list, 50 per page", "/?size=50", {}),
        ("list, page 100, sorted by name", "/?sort=name&page=100", {}),
        ("list, filtered chip + status + search", "/?chip=arm&status=failed&q=convert-0", {}),
        ("list row poll (HTMX)", f"/tasks/{running.pk}/row/", htmx),
        ("detail page (400 log lines)", f"/tasks/{running.pk}/", {}),
        ("detail status poll (HTMX)", f"/tasks/{running.pk}/", htmx),
        ("detail log poll, nothing new", f"/tasks/{running.pk}/log/?after=400", htmx),
    ]
    print(
        f"\nServer time, {args.repeat} requests each, database {os.environ['DATABASE_URL'].split(':')[0]}\n"
    )
    print("| request | median ms | p95 ms | goal |")
    print("|---|---|---|---|")
    for label, url, headers in rows:
        median, p95 = timed(client, url, args.repeat, **headers)
        goal = "< 100 ms" if label.startswith("list,") else "< 20 ms" if "poll" in label else ""
        print(f"| {label} | {median:.1f} | {p95:.1f} | {goal} |")


if __name__ == "__main__":
    main()
