"""The converter child: `python -m conversions.converters run JOB_JSON` (or `inspect FOLDER [CHIP]`).

Events go to stdout as JSON lines on a private copy of the descriptor; anything else that writes to
stdout (TensorFlow, converters' C++ logging) is sent to stderr, which the worker keeps as tool output.
Exit codes: 0 converted, 2 refused with a user-facing message, 3 out of memory, 1 crashed.
"""

import os
import sys
import traceback
from pathlib import Path

from conversions.converters import get_converter
from conversions.converters.base import ConversionError, Events, Job

MEMORY_MARKERS = ("ResourceExhaustedError", "OOM when allocating", "bad_alloc")


def _events() -> Events:
    events_fd = os.dup(1)
    os.dup2(2, 1)
    return Events(os.fdopen(events_fd, "w", buffering=1))


def run(job_path: str) -> int:
    events = _events()
    job = Job.load(Path(job_path))
    return _report(events, lambda: get_converter(job.converter).convert(job, events))


def run_inspection(folder: str, chip: str = "") -> int:
    from conversions.converters.inspection import inspect_folder

    return _report(_events(), lambda: inspect_folder(Path(folder), chip))


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


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "run":
        sys.exit(run(sys.argv[2]))
    if len(sys.argv) in (3, 4) and sys.argv[1] == "inspect":
        sys.exit(run_inspection(*sys.argv[2:]))
    print(
        "usage: python -m conversions.converters run JOB_JSON | inspect FOLDER [CHIP]",
        file=sys.stderr,
    )
    sys.exit(64)
