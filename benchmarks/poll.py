"""The status poll under load: 100 concurrent pollers, 10,000 tasks in PostgreSQL, served by gunicorn.

A page polls while its task is active: the detail page asks for its `#status` partial
(`GET /tasks/<id>/` with `HX-Request: true`) and the task list asks for each active row
(`GET /tasks/<id>/row/`). The benchmark fills PostgreSQL with 10,000 tasks of one user (100 of
them running, with 40 log lines each), starts gunicorn as the Procfile does, logs in once, and
points `wrk` (Debian's `wrk` package) at the running tasks with 100 connections, twice per
endpoint: paced as htmx polls (each poller asks every 2 s: the latency users see) and flat out
(each poller asks again as soon as it has its answer: the most requests per second the server
gives). It prints requests per second, p50 and p99 latency, and errors.

    .venv/bin/python benchmarks/poll.py [--seconds 20] [--connections 100] [--gunicorn "--workers 2"]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scaleenv import ROOT, Environment  # noqa: E402

TASKS, RUNNING, LOG_LINES = 10_000, 100, 40
PORT = 8765
PACED = "delay = function() return 2000 end"  # ms between a poller's answer and its next ask

LUA = """
local ids = {%(ids)s}
%(pace)s
local i = 0
request = function()
  i = i + 1
  local path = string.format("%(path)s", ids[(i %% #ids) + 1])
  return wrk.format("GET", path, {["Cookie"] = "sessionid=%(session)s", ["HX-Request"] = "true"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "errors": %%d, "non2xx": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def fill(owner) -> list[int]:
    """10,000 tasks, RUNNING of them running with log lines; returns the running ids."""
    from django.utils import timezone

    from conversions.models import ConversionTask, TaskLogLine
    from templates_registry.models import ConversionTemplate

    template = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    now = timezone.now()
    tasks = []
    for i in range(TASKS):
        running = i >= TASKS - RUNNING
        tasks.append(
            ConversionTask(
                owner=owner,
                name=f"t{i:05d}",
                template=template,
                input_location="models/cnn/",
                output_location=f"out/t{i:05d}/",
                status="running" if running else ("succeeded" if i % 5 else "failed"),
                stage="converting" if running else "done",
                progress=40 if running else 100,
                started=now,
                finished=None if running else now,
                attempt=uuid.uuid4() if running else None,
                heartbeat=now if running else None,
                worker="bench:1" if running else "",
                options={"quantization_precision": "32bit"},
            )
        )
    ConversionTask.objects.bulk_create(tasks, batch_size=1000)
    running = list(ConversionTask.objects.filter(status="running").values_list("pk", flat=True))
    TaskLogLine.objects.bulk_create(
        TaskLogLine(task_id=pk, seq=n + 1, text=f"line {n + 1} of the converter's log")
        for pk in running
        for n in range(LOG_LINES)
    )
    return running


def session_for(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def wait_until_serving(url: str, session: str) -> str:
    deadline = time.monotonic() + 60
    while True:
        try:
            request = urllib.request.Request(
                url, headers={"Cookie": f"sessionid={session}", "HX-Request": "true"}
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def run_wrk(script: Path, seconds: int, connections: int) -> dict:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{PORT}"], capture_output=True, text=True, check=True
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--gunicorn", default="--workers 2", help="as in the Procfile by default")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("This benchmark drives Debian's wrk: apt-get install wrk")
    environment = Environment(postgres=True)
    server = None
    rows = []
    try:
        from django.contrib.auth.models import User

        owner = User.objects.create_user("bench", password="bench-pass-123")
        running = fill(owner)
        session = session_for(owner)
        server = subprocess.Popen(
            ["gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{PORT}", *args.gunicorn.split()],
            env={**environment.env, "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for label, path in (("detail #status", "/tasks/%d/"), ("list row", "/tasks/%d/row/")):
            page = wait_until_serving(f"http://127.0.0.1:{PORT}{path % running[0]}", session)
            assert "hx-trigger" in page, f"{label}: not the polling partial of a running task"
            for pace, pace_lua in (("every 2 s", PACED), ("flat out", "")):
                script = Path(tempfile.mkdtemp()) / "poll.lua"
                ids = ", ".join(map(str, running))
                values = {"ids": ids, "path": path, "session": session, "pace": pace_lua}
                script.write_text(LUA % values)
                run_wrk(script, 3, args.connections)  # warm up connections and caches
                result = run_wrk(script, args.seconds, args.connections)
                rows.append((label, path, pace, result))
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        environment.close()
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nStatus polls: {args.connections} concurrent pollers (wrk), {TASKS:,} tasks in PostgreSQL "
        f"({RUNNING} running), gunicorn {args.gunicorn}, {args.seconds} s, {cores} CPU cores, "
        f"load average {os.getloadavg()[1]:.1f} (5 min)\n"
    )
    print(
        "| endpoint | path | pollers ask | requests/s | p50 ms | p99 ms | requests | errors | non-2xx |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, path, pace, r in rows:
        print(
            f"| {label} | `{path.replace('%d', '<id>')}` | {pace} | {r['requests'] / r['duration_us'] * 1e6:.0f} | "
            f"{r['p50_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['requests']} | {r['errors']} | "
            f"{r['non2xx']} |"
        )


if __name__ == "__main__":
    main()
