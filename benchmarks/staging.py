"""Object storage benchmark: staging a 200 MB model from obs:// next to plain boto3 on the same object.

A `moto_server` process (moto's S3 server, real HTTP on 127.0.0.1) holds obs://bench/model-200mb/
with one 200 MB frozen graph. For each run it times, into a fresh directory:
- `boto3 download_file`: boto3's own managed transfer with its default settings,
- `boto3 get_object`: one GET read to disk in 1 MB chunks (the simplest streaming download),
- `stage_into`: the console's staging (listing, key checks, size limit, one streamed GET per object),
and, the other way, `boto3 upload_file` next to `publish` (multipart, report.json last). Prints the
median MB/s of each. Goal: staging at least as fast as boto3's managed download (ratio <= 1.0).

    .venv/bin/python benchmarks/staging.py [--size-mb 200] [--runs 3]
"""

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BUCKET, PREFIX = "bench", "model-200mb/"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_store(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("moto_server did not start")


def configure(endpoint: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="console.settings",
        SECRET_KEY=os.getenv("SECRET_KEY") or secrets.token_urlsafe(50),
        S3_ENDPOINT_URL=endpoint,
        S3_REGION="us-east-1",
        S3_ACCESS_KEY_ID="bench",
        S3_SECRET_ACCESS_KEY="bench",
        S3_ADDRESSING_STYLE="path",
        MAX_MODEL_SIZE_MB="4096",
    )
    import django

    django.setup()


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def fresh(work: Path, name: str) -> Path:
    target = work / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    server = start_store(port)
    try:
        configure(f"http://127.0.0.1:{port}")
        from conversions import locations
        from conversions.locations.s3 import client

        s3 = client()
        s3.create_bucket(Bucket=BUCKET)
        with tempfile.TemporaryDirectory() as scratch:
            work = Path(scratch)
            model = work / "model.pb"
            with model.open("wb") as out:
                for _ in range(args.size_mb):
                    out.write(os.urandom(1024 * 1024))
            s3.upload_file(str(model), BUCKET, PREFIX + "model/model.pb")
            size_mb = model.stat().st_size / 1024 / 1024
            source = locations.parse(f"obs://{BUCKET}/{PREFIX}")
            target = locations.parse(f"obs://{BUCKET}/published/")

            def get_object(into: Path) -> None:
                body = s3.get_object(Bucket=BUCKET, Key=PREFIX + "model/model.pb")["Body"]
                with (into / "model.pb").open("wb") as out:
                    for chunk in body.iter_chunks(1024 * 1024):
                        out.write(chunk)

            cases = {
                "boto3 download_file": lambda d: s3.download_file(
                    BUCKET, PREFIX + "model/model.pb", str(d / "model.pb")
                ),
                "boto3 get_object": get_object,
                "stage_into (console)": lambda d: source.stage_into(d),
                "boto3 upload_file": lambda d: s3.upload_file(str(model), BUCKET, "plain/model.pb"),
                "publish (console)": lambda d: target.publish([(model, "model/model.pb")]),
            }
            seconds = {name: [] for name in cases}
            for _run in range(args.runs):
                for name, case in cases.items():
                    seconds[name].append(timed(lambda case=case: case(fresh(work, "into"))))
            staged = work / "into"
            source.stage_into(fresh(work, "into"))
            assert (staged / "model/model.pb").stat().st_size == model.stat().st_size
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{size_mb:.0f} MB object, moto_server on 127.0.0.1, median of {args.runs} runs\n")
    print(f"| {'transfer':<22} | {'seconds':>8} | {'MB/s':>8} |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 10}|")
    for name, runs in seconds.items():
        median = statistics.median(runs)
        print(f"| {name:<22} | {median:8.2f} | {size_mb / median:8.1f} |")
    ratio = statistics.median(seconds["stage_into (console)"]) / statistics.median(
        seconds["boto3 download_file"]
    )
    print(f"\nstaging / boto3 download_file: {ratio:.2f} (goal <= 1.0)")


if __name__ == "__main__":
    main()
