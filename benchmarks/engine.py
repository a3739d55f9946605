"""Conversion engine benchmark: MobileNetV2 (alpha 0.35, 96x96, random weights) in every TFLite precision.

For each precision it times, in pairs (one bare run, then one whole task)
- the bare converter: `python -m conversions.converters run job.json` in a fresh Python process, and
- the whole task: created in the database -> succeeded, through a real `manage.py worker` (django-q2,
  ORM broker, SQLite), which stages the folder, runs the same child and publishes the artifacts,
once with warm converter children (WARM_CHILDREN=on: the child was started and imported TensorFlow
before the task) and once without, and prints size and verification figures ("verify s": the
child's own timings.verification_s, running the converted model on the verification inputs) and
where the task's time went (report.json's timings.task). Goals: whole / bare <= 0.8 with warm
children, <= 1.1 without. It also reads the worker's resident memory while idle, with and without the warm child
(the worker's own processes: under 200 MB; TensorFlow lives only in the children).

    .venv/bin/python benchmarks/engine.py [--runs 3] [--precisions 32bit,8bit] [--warm on,off]
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
    """RSS of every process of the worker once its tree and memory stopped growing (90 s at most)."""
    deadline, seen, stable_since = time.monotonic() + 90, (0, 0.0), time.monotonic()
    while time.monotonic() < deadline:
        pids = tree(pid)
        now = (len(pids), sum(rss_mb(p) for p in pids))
        if now[0] != seen[0] or abs(now[1] - seen[1]) > 5:
            seen, stable_since = now, time.monotonic()
        elif now[0] > 2 and time.monotonic() - stable_since > 3:
            break
        time.sleep(0.5)
    return {p: rss_mb(p) for p in tree(pid)}


def is_warm_child(pid: int) -> bool:
    return b"conversions.converters\0warm\0" in Path(f"/proc/{pid}/cmdline").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--precisions", default=",".join(PRECISIONS))
    parser.add_argument("--warm", default="on,off", help="WARM_CHILDREN modes to measure, in order")
    args = parser.parse_args()
    precisions = [p for p in args.precisions.split(",") if p]
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
    home = data_dir / "users" / "bench"  # the user's home: "mnv2/" is read there
    home.mkdir(parents=True)
    prepare_model(home)
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
    rows, idle_by_mode = [], {}
    for mode in [m for m in args.warm.split(",") if m]:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "worker"], env={**env, "WARM_CHILDREN": mode}, cwd=ROOT
        )
        try:
            idle = idle_memory(worker.pid)
            idle_by_mode[mode] = (idle, {pid for pid in idle if _alive_warm(pid)})
            for precision in precisions:
                bare, whole, report, phases, checks = [], [], {}, [], []
                for run in range(args.runs):
                    where = work_dir / f"{mode}-{precision}-{run}"
                    idle_memory(worker.pid)  # the next warm child has imported: not competing
                    seconds, report = bare_run(home, where, precision)
                    bare.append(seconds)
                    task = ConversionTask.objects.create(
                        owner=owner,
                        name=f"mnv2-{mode}-{precision}-{run}",
                        template=template,
                        input_location="mnv2/",
                        output_location=f"out/{mode}-{precision}-{run}/",
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
                    phases.append((task.result.get("timings") or {}).get("task") or {})
                    checks.append((task.result.get("timings") or {}).get("verification_s", 0.0))
                row = report["verification"]["outputs"][0]
                rows.append(
                    (
                        mode,
                        precision,
                        report["output_size_bytes"],
                        report["timings"]["conversion_s"],
                        statistics.median(bare),
                        statistics.median(whole),
                        row["cosine_similarity"],
                        f"{row['verdict']} ({task.status})",
                        _median_phases(phases),
                        statistics.median(checks),
                    )
                )
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)

    print(f"\nMobileNetV2 alpha 0.35 96x96, frozen graph, {args.runs} paired runs each (medians)\n")
    print(
        "| warm | precision | output KB | convert s | verify s | bare child s | whole task s "
        "| whole/bare | cosine | verdict (task) | goal |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, p, size_out, conv, bare_s, whole_s, cos, verdict, _phases, check in rows:
        goal = "<= 0.8" if mode == "on" else "<= 1.1"
        print(
            f"| {mode} | {p} | {size_out / 1024:.0f} | {conv:.2f} | {check:.3f} | {bare_s:.2f} | "
            f"{whole_s:.2f} | {whole_s / bare_s:.3f} | {cos:.6f} | {verdict} | {goal} |"
        )
    print("\nWhere the whole task's time went (report.json timings.task, medians, seconds)\n")
    names = ["queue_wait", "staging", "child_start", "audit", "conversion", "verification"]
    names.append("publishing")
    print("| warm | precision | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for mode, p, *_rest, phases, _check in rows:
        cells = " | ".join(f"{phases.get(n, float('nan')):.2f}" for n in names)
        print(f"| {mode} | {p} | {cells} |")
    for mode, (idle, warm_pids) in idle_by_mode.items():
        warm = sum(mb for pid, mb in idle.items() if pid in warm_pids)
        print(
            f"\nIdle worker, WARM_CHILDREN={mode} (RSS MB): "
            + ", ".join(f"pid {pid}: {mb:.0f}" for pid, mb in idle.items())
            + f"; total {sum(idle.values()):.0f}, of which warm children {warm:.0f}"
            + f"; largest worker process {max(mb for pid, mb in idle.items() if pid not in warm_pids):.0f} MB (goal < 200)"
        )


def _alive_warm(pid: int) -> bool:
    try:
        return is_warm_child(pid)
    except OSError:  # ended since: the worker was stopped
        return False


def _median_phases(runs: list[dict]) -> dict[str, float]:
    keys = {key for run in runs for key in run if key.endswith("_s")}
    return {
        key.removesuffix("_s"): statistics.median(run[key] for run in runs if key in run)
        for key in keys
    }


if __name__ == "__main__":
    main()
