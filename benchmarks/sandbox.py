"""Converter child start time with and without the Landlock sandbox.

Times `run_child` (the launcher every conversion and inspection uses) from the call to the child's
result, for a payload that returns at once and one that imports numpy (and, with --tensorflow, one
that imports TensorFlow), with SANDBOX=off and SANDBOX=required, alternating runs. Prints the median
and the 90th percentile of each, and the time the child spends in confine() itself (limits and
Landlock rules), measured inside fresh processes. Goal: the sandbox adds under 100 ms to a child's start.

    .venv/bin/python benchmarks/sandbox.py [--runs 20] [--tensorflow]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conversions.isolation import Limits, run_child  # noqa: E402
from conversions.sandbox import Sandbox  # noqa: E402

PAYLOADS = {
    "returns at once": "def main():\n    return {}\n",
    "imports numpy": "def main():\n    import numpy\n    return {'n': int(numpy.ones(2).sum())}\n",
    "imports tensorflow": "def main():\n    import tensorflow as tf\n    return {'v': tf.__version__}\n",
}


def start_once(folder: Path, source: str, mode: str) -> float:
    script = folder / "payload.py"
    script.write_text(source)
    began = time.perf_counter()
    outcome = run_child(
        script, Limits(wall_seconds=300), lambda e: None, lambda line: None,
        command=("payload",), sandbox=Sandbox(mode),
    )  # fmt: skip
    elapsed = time.perf_counter() - began
    if not outcome.ok:
        raise SystemExit(f"the {mode} child failed: {outcome.error}")
    return elapsed * 1000


SETUP = """
import sys, time
from pathlib import Path
from conversions.converters.confine import Policy, confine
from conversions.sandbox import Sandbox
policy = Policy()
Sandbox("required").confine(policy, Path(sys.argv[1]))
began = time.perf_counter()
confine(policy)
print((time.perf_counter() - began) * 1000)
"""


def setup_ms(folder: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(folder)], cwd=ROOT, capture_output=True, text=True
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--tensorflow", action="store_true")
    args = parser.parse_args()
    names = [name for name in PAYLOADS if args.tensorflow or name != "imports tensorflow"]
    print(f"{'payload':<20} {'mode':<9} {'median ms':>10} {'p90 ms':>8}  (runs: {args.runs})")
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as scratch:
        for name in names:
            times = {"off": [], "required": []}
            runs = args.runs if name != "imports tensorflow" else max(3, args.runs // 4)
            for run in range(runs + 1):
                for mode in times:
                    folder = Path(scratch) / f"{mode}-{name.replace(' ', '-')}-{run}"
                    folder.mkdir()
                    took = start_once(folder, PAYLOADS[name], mode)
                    if run:  # the first run of each warms the page cache
                        times[mode].append(took)
            for mode, values in times.items():
                p90 = statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]
                print(f"{name:<20} {mode:<9} {statistics.median(values):>10.1f} {p90:>8.1f}")
            added = statistics.median(times["required"]) - statistics.median(times["off"])
            print(f"{name:<20} {'added':<9} {added:>10.1f}")
        setup = [setup_ms(Path(scratch)) for _ in range(args.runs)]
        print(f"{'confine() itself':<20} {'required':<9} {statistics.median(setup):>10.2f}")


if __name__ == "__main__":
    main()
