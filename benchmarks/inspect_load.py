"""Inspect under load: the task list's latency while 8 other users' inspections are in flight.

"Inspect model" used to run the converter child inside the web request, so 8 parallel inspects
held every gunicorn worker and another user's list page waited a minute. Now the POST only queues
an Inspection for a worker. The benchmark starts gunicorn as the Procfile does (2 workers) and one
`manage.py worker`, fills the reading user's list with tasks, measures the list page's median
over HTTP while nothing else happens, then has 8 other users POST "Inspect model" at once (each
from its own session, with its CSRF token) and measures the list page again while their
inspections are queued or running on the worker. Goal: the loaded median within 2x the idle one.

    .venv/bin/python benchmarks/inspect_load.py [--samples 40] [--tasks 200] [--nice 0] [--postgres]

--nice sets the worker's WORKER_NICE (web and worker share this host's cores).
"""

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.scaleenv import ROOT, Environment  # noqa: E402

PORT = 8766
BASE = f"http://127.0.0.1:{PORT}"
INSPECTORS = 8
PACE = 0.25  # seconds between two list-page requests while the inspections are in flight
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def prepare_model(data_dir: Path) -> None:
    """models/cnn/model/cnn.pb, frozen in a subprocess (this process stays free of TensorFlow)."""
    code = (
        "import sys; from pathlib import Path; from tests import modelkit; "
        "modelkit.freeze(modelkit.small_cnn(), Path(sys.argv[1]))"
    )
    target = data_dir / "models/cnn/model/cnn.pb"
    target.parent.mkdir(parents=True)
    subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT, check=True)


def fill(owner, count: int) -> None:
    from conversions.models import ConversionTask
    from templates_registry.models import ConversionTemplate

    template = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    done = ConversionTask.Status.SUCCEEDED
    ConversionTask.objects.bulk_create(
        ConversionTask(
            owner=owner,
            name=f"convert-{i:05d}",
            template=template,
            input_location="models/cnn/",
            output_location=f"out/{i}/",
            status=done,
        )
        for i in range(count)
    )


def session(user) -> requests.Session:
    from django.test import Client

    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    return http


def wait_until_serving(http: requests.Session) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if http.get(f"{BASE}/", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn did not answer within 60 s")
        time.sleep(0.3)


def list_page_ms(http: requests.Session) -> float:
    started = time.perf_counter()
    response = http.get(f"{BASE}/", timeout=120)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def inspect(http: requests.Session, timings: list) -> None:
    """POST Inspect model as the create form does, with the session's CSRF token."""
    token = TOKEN.search(http.get(f"{BASE}/tasks/new/", timeout=60).text).group(1)
    data = {
        "csrfmiddlewaretoken": token,
        "input_location": "models/cnn/",
        "template": "tensorflow-frozen-graph-to-tflite",
    }
    started = time.perf_counter()
    response = http.post(
        f"{BASE}/tasks/inspect/", data, headers={"HX-Request": "true"}, timeout=120
    )
    timings.append((time.perf_counter() - started) * 1000)
    assert response.status_code == 200 and "hx-get" in response.text, response.text[:300]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--nice", type=int, default=0, help="WORKER_NICE of the worker")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL + Redis (scaleenv)")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(40))
    os.environ["MAX_ACTIVE_TASKS_PER_USER"] = "0"
    environment = Environment(postgres=args.postgres)
    server = workers = None
    try:
        from django.contrib.auth.models import User

        from conversions.models import Inspection

        prepare_model(environment.data_dir)
        reader = User.objects.create_user("reader", password="bench-pass-123")
        fill(reader, args.tasks)
        inspectors = [
            session(User.objects.create_user(f"inspector{i}", password="bench-pass-123"))
            for i in range(INSPECTORS)
        ]
        http = session(reader)
        server = subprocess.Popen(
            ["gunicorn", "console.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "2"],
            env={**environment.env, "PATH": f"{ROOT / '.venv/bin'}:{os.environ['PATH']}"},
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_serving(http)
        workers = environment.start_workers(1, WORKER_NICE=str(args.nice))
        for _ in range(5):  # warm up both gunicorn workers
            list_page_ms(http)
        idle = []
        for _ in range(args.samples):
            idle.append(list_page_ms(http))
            time.sleep(PACE)

        posts: list[float] = []
        threads = [threading.Thread(target=inspect, args=(s, posts)) for s in inspectors]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        loaded, in_flight = [], []
        while len(loaded) < 10 * args.samples:  # paced over the whole time they are in flight
            active = Inspection.objects.active().count()
            if not active:
                break
            in_flight.append(active)
            loaded.append(list_page_ms(http))
            time.sleep(PACE)
        deadline = time.monotonic() + 600
        while Inspection.objects.active().exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        all_done = time.monotonic() - started
        done = Inspection.objects.filter(status=Inspection.Status.DONE).count()
    finally:
        if workers:
            environment.stop_workers(workers)
        if server:
            server.terminate()
            server.wait(timeout=30)
        environment.close()
    idle_median, loaded_median = statistics.median(idle), statistics.median(loaded)
    cores = len(os.sched_getaffinity(0))
    print(
        f"\nTask list (GET /, {args.tasks} tasks) over HTTP, gunicorn --workers 2, one worker "
        f"(WORKER_NICE={args.nice}), {environment.backend}, {cores} CPU cores, load average "
        f"{os.getloadavg()[1]:.1f} (5 min)\n"
    )
    print("| phase | samples | median ms | p95 ms | inspections in flight |")
    print("|---|---|---|---|---|")
    for label, samples, flight in (
        ("idle", idle, "0"),
        (f"{INSPECTORS} inspects in flight", loaded, f"{min(in_flight)}-{max(in_flight)}"),
    ):
        p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
        print(
            f"| {label} | {len(samples)} | {statistics.median(samples):.1f} | {p95:.1f} | {flight} |"
        )
    print(
        f"\nidle median {idle_median:.1f} ms, loaded median {loaded_median:.1f} ms, "
        f"ratio {loaded_median / idle_median:.2f} (goal: at most 2.00)"
    )
    print(
        f"Inspect POSTs: median {statistics.median(posts):.0f} ms, max {max(posts):.0f} ms; "
        f"{done} of {INSPECTORS} inspections done {all_done:.0f} s after the POSTs"
    )


if __name__ == "__main__":
    main()
