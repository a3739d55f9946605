"""API benchmark: server time of GET /api/v1/tasks/{id}/ and the task list with 10,000 tasks.

The same database as benchmarks/pages.py, requests through Django's full stack with a Bearer token.
Goals: the detail under 20 ms at the median, a list page of 50 under 100 ms.

    .venv/bin/python benchmarks/api.py [--tasks 10000] [--repeat 50]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pages import seed, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    owner, running = seed(args.tasks)
    from django.test import Client

    from api.models import ApiToken

    auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(owner, 'bench')[1]}"}
    client = Client()
    rows = [
        ("task detail", f"/api/v1/tasks/{running.pk}/", "< 20 ms"),
        ("task log, nothing new", f"/api/v1/tasks/{running.pk}/log/?after=400", "< 20 ms"),
        ("task list, 50 per page", "/api/v1/tasks/?size=50", "< 100 ms"),
        ("task list, page 100 by name", "/api/v1/tasks/?sort=name&size=50&page=100", "< 100 ms"),
        ("task list, filtered", "/api/v1/tasks/?chip=arm&status=failed&q=convert-0", "< 100 ms"),
    ]
    print(f"\nServer time, {args.repeat} requests each\n")
    print("| request | median ms | p95 ms | goal |")
    print("|---|---|---|---|")
    for label, url, goal in rows:
        median, p95 = timed(client, url, args.repeat, **auth)
        print(f"| {label} | {median:.1f} | {p95:.1f} | {goal} |")


if __name__ == "__main__":
    main()
