"""The converter child: `python -m conversions.converters run JOB_JSON` (or `inspect FOLDER [CHIP]`).

`warm NAME` is the warm child (converters/template.py): it imports the heavy libraries once and
forks one fresh, single-threaded child per job, which does exactly what a cold child does with the
job's argv.

Before anything else it confines itself (converters/confine.py: limits, death signal, Landlock) and
says so in the task log. `payload SCRIPT` runs a script of the child's own work folder under
the same confinement and reports what its main() returns: the tests' way to probe the sandbox from
inside. The worker never writes a script there, so production never reaches it.

Events go to stdout as JSON lines on a private copy of the descriptor; anything else that writes to
stdout (TensorFlow, converters' C++ logging) is sent to stderr, which the worker keeps as tool output.
Exit codes: 0 converted, 2 refused with a user-facing message, 3 out of memory, 1 crashed.
"""

import ctypes
import importlib
import os
import runpy
import sys
import traceback
from pathlib import Path

from conversions.converters import get_converter, template
from conversions.converters.base import ConversionError, Events, Job
from conversions.converters.confine import (
    SandboxRefused,
    confine_from_env,
)

PRELOAD = ("tensorflow", "conversions.converters.tflite")
MEMORY_MARKERS = ("ResourceExhaustedError", "OOM when allocating", "bad_alloc")


def _events() -> Events:
    events_fd = os.dup(1)
    os.dup2(2, 1)
    return Events(os.fdopen(events_fd, "w", buffering=1))


def run(events: Events, job_path: str) -> int:
    job = Job.load(Path(job_path))

    def work():
        converter = get_converter(job.converter)  # imports its libraries, unless warm already did
        for name in converter.imports:
            importlib.import_module(name)
        events.emit("ready")
        return converter.convert(job, events)

    return _report(events, work)


def run_inspection(events: Events, folder: str, chip: str = "") -> int:
    from conversions.converters.inspection import inspect_folder

    return _report(events, lambda: inspect_folder(Path(folder), chip))


def run_payload(events: Events, path: str) -> int:
    script = Path(path).resolve()
    if script.parent != Path.cwd().resolve() or not script.is_file():
        events.error(f"payload {path}: not a script in the work folder")
        return 2
    return _report(events, lambda: runpy.run_path(str(script))["main"]())


def _report(events: Events, work) -> int:
    try:
        result = work()
    except ConversionError as exc:
        events.error(str(exc), getattr(exc, "result", None))
        return 2
    except MemoryError:
        events.emit("error", message="out of memory", reason="memory")
        return 3
    except Exception as exc:  # a converter bug or a model that breaks the toolkit
        text = f"{type(exc).__name__}: {exc}"
        if any(marker in text for marker in MEMORY_MARKERS):
            events.emit("error", message="out of memory", reason="memory")
            return 3
        traceback.print_exc()
        events.error(f"The converter failed unexpectedly: {text.strip()[-1500:]}")
        return 1
    events.result(result)
    return 0


ENTRIES = {"run": (run, 1, 1), "inspect": (run_inspection, 1, 2), "payload": (run_payload, 1, 1)}


def _preload() -> None:
    """Import the libraries a job will need; their import-time chatter goes nowhere."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        for name in PRELOAD:
            try:
                __import__(name)
            except Exception:  # a worker without TensorFlow: its jobs import what they need
                pass
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv: list[str]) -> int:
    if argv[:1] == ["warm"] and len(argv) <= 2:
        return template.serve(_preload, main, leave)
    entry, low, high = ENTRIES.get(argv[0] if argv else "", (None, 0, 0))
    if entry is None or not low <= len(argv) - 1 <= high:
        print(
            "usage: python -m conversions.converters run JOB_JSON | inspect FOLDER [CHIP]",
            file=sys.stderr,
        )
        return 64
    events = _events()
    try:
        note = confine_from_env()
    except SandboxRefused as exc:
        events.error(str(exc))
        return 2
    if note:
        events.log(note)
    return entry(events, *argv[1:])


def leave(code: int) -> None:
    """Exit at once once everything is said: Python's own shutdown of a process that loaded
    TensorFlow takes about a second (its threads and libraries torn down one by one), and the task
    waits for the child's exit. The events are flushed line by line and the files closed; what the
    libraries' C code printed is flushed here, as exit() would."""
    sys.stdout.flush()
    sys.stderr.flush()
    ctypes.CDLL(None).fflush(None)
    os._exit(code)


if __name__ == "__main__":
    leave(main(sys.argv[1:]))
