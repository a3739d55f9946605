"""What every converter shares: the job it is given, the events it streams, the errors it raises."""

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from conversions.converters.report import dumps

# The stages of a conversion, in order, with the progress (percent) reached when each one starts.
STAGES = {
    "queued": 0,
    "staging": 5,
    "checking": 15,
    "converting": 25,
    "verifying": 70,
    "publishing": 90,
    "done": 100,
}


class ConversionError(Exception):
    """A failure the user can act on; the message is shown as it is."""


@dataclass
class Job:
    """One conversion, as the child process receives it (written to job.json by the worker)."""

    converter: str
    input_dir: str
    output_dir: str
    name: str
    model_format: str
    chip: str
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    @property
    def input_path(self) -> Path:
        return Path(self.input_dir)

    @property
    def output_path(self) -> Path:
        return Path(self.output_dir)

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> "Job":
        return cls(**json.loads(Path(path).read_text()))


class Events:
    """Streams JSON-lines events to the supervising worker: log lines, stages, the result."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def emit(self, kind: str, **data: Any) -> None:
        # strict JSON: a NaN figure would otherwise travel on and break the task's database write
        self.stream.write(dumps({"event": kind, "at": time.time(), **data}) + "\n")
        self.stream.flush()

    def log(self, message: str, level: str = "info") -> None:
        self.emit("log", level=level, message=message)

    def stage(self, name: str) -> None:
        self.emit("stage", stage=name, progress=STAGES[name])

    def result(self, result: dict[str, Any]) -> None:
        self.emit("result", result=result)

    def error(self, message: str, result: dict[str, Any] | None = None) -> None:
        self.emit("error", message=message, result=result or {})


class Converter:
    """Turn the staged input folder into output files. Never touches Django."""

    key = ""
    # Modules every job imports (TensorFlow...): the child imports them before it says "ready", so a
    # cold child's import counts as child start in report.json's timings, not as the model's audit.
    imports: tuple[str, ...] = ()

    def convert(self, job: Job, events: Events) -> dict[str, Any]:
        """Write under job.output_dir and return the report; raise ConversionError on failure."""
        raise NotImplementedError
