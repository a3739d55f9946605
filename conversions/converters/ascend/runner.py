"""Running ATC: its environment, its output streamed line by line, and what counts as success.

ATC runs as a plain subprocess of the converter child, so it inherits the child's limits (CPU time,
memory, wall clock through the worker) and dies with it: it stays in the child's process group.
Success is all three of: exit code 0, ATC's success line, and the .om on disk.
"""

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from conversions.converters.base import ConversionError, Events

SUCCESS_LINE = "ATC run success"
# ATC's own error lines: "ATC run failed", error codes such as E10001, "[ERROR] GE(...)".
ERROR_RE = re.compile(r"ATC run failed|\bE[0-9A-Z]\d{4}\b|\[ERROR\]|^\s*ERROR\b")
PACKAGE_PARTS = ("op_proto", "op_impl", "framework")
MAX_ERROR_LINES = 12


@dataclass
class AtcRun:
    exit_code: int
    succeeded_line: bool
    seconds: float
    errors: list[str] = field(default_factory=list)


def custom_op_packages(plugin: Path) -> list[Path]:
    """The custom-operator packages in plugin/: vendors/<name>/ folders, else plugin/ itself."""
    vendors = plugin / "vendors"
    found = [p for p in sorted(vendors.iterdir()) if p.is_dir()] if vendors.is_dir() else []
    return found or [plugin]


def atc_env(scratch: Path, plugin: Path | None) -> dict[str, str]:
    """The child's environment plus what ATC needs: CANN's Python packages, a private log folder and
    the user's custom operators (ATC looks them up through ASCEND_CUSTOM_OPP_PATH first)."""
    env = dict(os.environ)
    home = env.get("ASCEND_TOOLKIT_HOME")
    if home:
        extra = [f"{home}/python/site-packages", f"{home}/opp/built-in/op_impl/ai_core/tbe"]
        env["PYTHONPATH"] = os.pathsep.join([*extra, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.setdefault("ASCEND_OPP_PATH", f"{home}/opp")
    logs = scratch / "log"
    logs.mkdir(exist_ok=True)
    env["ASCEND_PROCESS_LOG_PATH"] = str(logs)
    env["ASCEND_SLOG_PRINT_TO_STDOUT"] = "1"  # ATC's log lines stream into the task log
    if plugin is not None:
        packages = [str(p) for p in custom_op_packages(plugin)]
        env["ASCEND_CUSTOM_OPP_PATH"] = os.pathsep.join(
            [*packages, env.get("ASCEND_CUSTOM_OPP_PATH", "")]
        ).rstrip(os.pathsep)
    return env


def run_atc(argv: list[str], cwd: Path, env: dict[str, str], events: Events) -> AtcRun:
    """Run ATC, streaming every line of its output into the log; never through a shell."""
    started = time.monotonic()
    errors: list[str] = []
    succeeded = False
    try:
        process = subprocess.Popen(
            argv,
            cwd=str(cwd),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise ConversionError(
            f"ATC at {argv[0]} could not be started: {exc.strerror or exc}."
        ) from None
    with process:
        for raw in process.stdout:
            line = raw.rstrip("\n")
            if SUCCESS_LINE in line:
                succeeded = True
            is_error = bool(ERROR_RE.search(line))
            if is_error and len(errors) < MAX_ERROR_LINES:
                errors.append(line.strip())
            events.log(line, level="error" if is_error else "tool")
    return AtcRun(process.returncode, succeeded, time.monotonic() - started, errors)


def locate_om(output_dir: Path, name: str) -> Path | None:
    """`<name>.om`; ATC may add a suffix such as _linux_x86_64, which is renamed away."""
    wanted = output_dir / f"{name}.om"
    if wanted.is_file():
        return wanted
    others = sorted(output_dir.glob(f"{name}_*.om"))
    if len(others) == 1:
        others[0].rename(wanted)
        return wanted
    return None


def judge(run: AtcRun, om: Path | None, name: str) -> None:
    """Raise with a message a user can act on unless ATC really succeeded."""
    detail = ("\n" + "\n".join(run.errors)) if run.errors else ""
    if run.exit_code != 0:
        raise ConversionError(
            f"ATC failed with exit code {run.exit_code}. Its errors:{detail or ' none printed'}\n"
            "The full ATC output is in job_log.txt."
        )
    if not run.succeeded_line:
        raise ConversionError(
            f"ATC exited with code 0 but did not print '{SUCCESS_LINE}', so the model is not "
            f"trusted.{detail} See job_log.txt."
        )
    if om is None or om.stat().st_size == 0:
        raise ConversionError(
            f"ATC reported success but wrote no {name}.om (or an empty one). See job_log.txt."
        )
