"""`make test`: every test, on both cores of a small machine.

pytest runs on two processes (pytest-xdist; a module's tests stay on one, so the models it builds
once are built once), and beside them tests/scale runs again on PostgreSQL and Redis
(tests/scale/on_services.py), whose output is kept in test-artifacts/scale-on-services.log and
shown when it ends. Most tests wait on a child, a worker or a browser for part of their time, so
the machine's two cores are busy together where one pytest process left one of them idle.

    .venv/bin/python tests/everything.py [pytest arguments]

The exit status is pytest's when it failed, else that of the run on the services.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = os.getenv("TEST_PROCESSES", "2")


def main(args: list[str]) -> int:
    log_path = ROOT / "test-artifacts" / "scale-on-services.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("w") as log:
        services = subprocess.Popen(
            [sys.executable, "tests/scale/on_services.py", "-q"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            tests = subprocess.call(
                [sys.executable, "-m", "pytest", "-n", PROCESSES, "--dist", "loadfile", *args],
                cwd=ROOT,
            )
            on_services = services.wait()
        except KeyboardInterrupt:
            services.terminate()
            services.wait()
            raise
    print(f"\n{log_path.relative_to(ROOT)}:\n{log_path.read_text()}", flush=True)
    return tests or on_services


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
