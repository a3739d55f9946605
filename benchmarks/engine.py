"""Conversion engine benchmark: MobileNetV2 (alpha 0.35, 96x96, random weights) in every TFLite precision.

For each precision it times
- the bare converter: `python -m conversions.converters run job.json` in a fresh Python process, and
- the whole task: created in the database -> succeeded, through a real `manage.py worker` (django-q2,
  ORM broker, SQLite), which stages the folder, runs the same child and publishes the artifacts,
and prints size and verification figures. Goal: whole / bare <= 1.15. It also reads the worker's
resident memory while idle (goal: under 200 MB; TensorFlow lives only in the child).

    .venv/bin/python benchmarks/engine.py [--runs 3]
"""

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PRECISIONS = ("32bit", "16bit", "8bit-dynamic", "8bit")


def prepare_model(data_dir: Path) -> None:
    import numpy as np

    from tests import modelkit

    modelkit.freeze(
        modelkit.mobilenet_v2(logits=True, calibrate_bn=True), data_dir / "mnv2/model/mobilenet.pb"
    )
    (data_dir / "mnv2/calibration_data").mkdir()
    samples = np.random.default_rng(0).uniform(-1, 1, size=(32, 96, 96, 3)).astype(np.float32)
    np.save(data_dir / "mnv2/calibration_data/images.npy", samples)


def bare_run(data_dir: Path, work: Path, precision: str) -> tuple[float, dict]:
    from conversions.converters.base import Job
    from conversions.isolation import child_env

    out = work / f"bare-{precision}"
    out.mkdir(parents=True)
    job = Job(
        "tflite",
        str(data_dir / "mnv2"),
        str(out),
        "mnv2",
        "frozen_graph",
        "arm",
        {
            "input_tensor_names": "input",
            "output_tensor_names": "Identity",
            "quantization_precision": precision,
            "batch_size": 8,
        },
        seed=1,
    )
    job.dump(work / "job.json")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conversions.converters", "run", str(work / "job.json")],
        env=child_env(),
        capture_output=True,
        text=True,
        cwd=work,
        check=True,
    )
    seconds = time.monotonic() - started
    result = next(json.loads(line) for line in done.stdout.splitlines() if '"result"' in line)
    return seconds, result["result"]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid] + [p for child in children for p in tree(int(child))]


def idle_memory(pid: int) -> dict[int, float]:
    """RSS of every process of the worker once its process tree has stopped growing (30 s at most)."""
    deadline, seen, stable_since = time.monotonic() + 30, 0, time.monotonic()
    while time.monotonic() < deadline:
        count = len(tree(pid))
        if count != seen:
            seen, stable_since = count, time.monotonic()
        elif count > 2 and time.monotonic() - stable_since > 2:
            break
        time.sleep(0.2)
    return {p: rss_mb(p) for p in tree(pid)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    data_dir, work_dir = base / "data", base / "work"
    data_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{base / 'db.sqlite3'}",
        "DATA_DIR": str(data_dir),
        "WORK_DIR": str(work_dir),
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.getenv("SECRET_KEY") or secrets.token_urlsafe(50),
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    prepare_model(data_dir)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )

    import django

    django.setup()
    from django.contrib.auth.models import User

    from conversions.jobs import enqueue
    from conversions.models import ConversionTask
    from templates_registry.models import ConversionTemplate

    owner = User.objects.create(username="bench")
    template = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    worker = subprocess.Popen([sys.executable, "manage.py", "worker"], env=env, cwd=ROOT)
    rows = []
    try:
        idle = idle_memory(worker.pid)
        for precision in PRECISIONS:
            bare, whole, report = [], [], {}
            for run in range(args.runs):
                seconds, report = bare_run(data_dir, work_dir / f"{precision}-{run}", precision)
                bare.append(seconds)
                task = ConversionTask.objects.create(
                    owner=owner,
                    name=f"mnv2-{precision}-{run}",
                    template=template,
                    input_location="mnv2/",
                    output_location=f"out/{precision}-{run}/",
                    options={
                        "input_tensor_names": "input",
                        "output_tensor_names": "Identity",
                        "quantization_precision": precision,
                        "batch_size": 8,
                    },
                )
                enqueue(task)  # outside a transaction: delivered at once
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline:
                    task.refresh_from_db()
                    if task.status not in ConversionTask.ACTIVE:
                        break
                    time.sleep(0.05)
                # A fail verdict ends the task failed after a complete run: still a whole task.
                assert task.status == "succeeded" or "verdict: fail" in task.error_message, (
                    task.error_message
                )
                whole.append((task.finished - task.created).total_seconds())
            row = report["verification"]["outputs"][0]
            rows.append(
                (
                    precision,
                    report["input_model"]["size_bytes"],
                    report["output_size_bytes"],
                    report["timings"]["conversion_s"],
                    statistics.median(bare),
                    statistics.median(whole),
                    row["max_abs_error"],
                    row["cosine_similarity"],
                    f"{row['verdict']} ({task.status})",
                )
            )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)

    print(f"\nMobileNetV2 alpha 0.35 96x96, frozen graph, {args.runs} runs each (medians)\n")
    print(
        "| precision | input KB | output KB | convert s | bare child s | whole task s | whole/bare "
        "| max abs err | cosine | verdict (task) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p, size_in, size_out, conv, bare_s, whole_s, err, cos, verdict in rows:
        print(
            f"| {p} | {size_in / 1024:.0f} | {size_out / 1024:.0f} | {conv:.2f} | {bare_s:.2f} | "
            f"{whole_s:.2f} | {whole_s / bare_s:.3f} | {err:.2e} | {cos:.6f} | {verdict} |"
        )
    print(
        "\nWorker processes while idle (RSS MB): "
        + ", ".join(f"pid {pid}: {mb:.0f}" for pid, mb in idle.items())
        + f"; largest {max(idle.values()):.0f} MB (goal < 200)"
    )


if __name__ == "__main__":
    main()
