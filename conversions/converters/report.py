"""report.json, defined once: the sections every reader relies on, and strict JSON on every wire.

The converter child returns the report as a dict (the converters build it piece by piece); it crosses
to the worker as a JSON line, is stored in the task row and published as report.json. Every one of
those writes goes through `dumps` (or `clean`), which turns NaN and Inf into None: strict JSON, which
SQLite's and PostgreSQL's JSON columns accept. Readers take `Report.from_dict(data)`, whose sections
are all optional (an absent section is None and is not shown).
"""

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def clean(value: Any) -> Any:
    """`value` with every NaN or Inf float replaced by None and numpy scalars made plain Python."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if hasattr(value, "item") and callable(value.item):  # a numpy scalar
        return clean(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON (no NaN, no Infinity): what every report writer uses."""
    return json.dumps(clean(value), allow_nan=False, **kwargs)


def _build(cls, data: dict | None):
    """An instance of dataclass `cls` from a dict, ignoring keys it does not know; None for None."""
    if not isinstance(data, dict):
        return None
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in known and k != "extra"}
    if "extra" in known:
        values["extra"] = {k: v for k, v in data.items() if k not in known}
    try:
        return cls(**values)
    except TypeError:  # a section without its required figures (an older or foreign report)
        return None


def _plain(instance) -> dict:
    data = asdict(instance)
    return {**data.pop("extra", {}), **data}


@dataclass
class OutputCheck:
    """One output of the model, original against converted, over the verification samples."""

    name: str
    verdict: str
    shape: list[int] = field(default_factory=list)
    max_abs_error: float | None = None
    mean_abs_error: float | None = None
    cosine_similarity: float | None = None  # over all samples together
    worst_sample_cosine: float | None = None
    worst_sample: int | None = None  # index of that sample among the verification samples
    top1_agreement: float | None = None
    finite: bool = True
    judged_on: str = "worst sample"  # what the verdict's cosine is: "worst sample" or "all samples"


@dataclass
class Verification:
    verdict: str
    samples: int = 0
    # "verification_data", "held-out calibration_data (N of M)", "calibration_data" or "random (seed S)"
    source: str = ""
    held_out: list[int] = field(
        default_factory=list
    )  # calibration sample indices kept for verifying
    outputs: list[OutputCheck] = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # converter-specific: checked_with, export, engine

    def __post_init__(self):
        self.outputs = [_build(OutputCheck, o) if isinstance(o, dict) else o for o in self.outputs]


@dataclass
class Accuracy:
    """Top-1 accuracy on evaluation_data/, in percent, and the drop in points."""

    original: float | None
    converted: float | None
    drop_points: float | None
    samples: int
    tolerance_points: float
    verdict: str  # pass | fail
    output: str = ""  # the output read as class scores

    def line(self) -> str:
        """One line for the log and for `convert --wait`."""
        return (
            f"Top-1 accuracy on {self.samples} evaluation samples: original {self.original:.2f}%, "
            f"converted {self.converted:.2f}%, drop {self.drop_points:.2f} points "
            f"(tolerance {self.tolerance_points:g}) -> {self.verdict}"
        )


@dataclass
class LayerError:
    name: str
    op: str = ""
    error: float | None = None
    kept_float: bool = False


@dataclass
class QuantizationRound:
    kept: int
    verdict: str
    worst_cosine: float | None = None


@dataclass
class Quantization:
    """Per-layer quantization error, worst first, and what stayed float (filled by 8bit converters)."""

    metric: str = ""
    layers: list[LayerError] = field(default_factory=list)
    kept_float: list[str] = field(default_factory=list)
    float_op_share: float | None = None
    float_weight_share: float | None = None
    rounds: list[QuantizationRound] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.layers = [_build(LayerError, x) if isinstance(x, dict) else x for x in self.layers]
        self.rounds = [
            _build(QuantizationRound, x) if isinstance(x, dict) else x for x in self.rounds
        ]


SECTIONS = {"verification": Verification, "accuracy": Accuracy, "quantization": Quantization}


@dataclass
class Report:
    """A whole report.json: the typed sections, and every other key (target, sizes, timings, task,
    status, error...) kept as it came in `extra`."""

    verification: Verification | None = None
    accuracy: Accuracy | None = None
    quantization: Quantization | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Report":
        data = dict(data or {})
        sections = {key: _build(kind, data.pop(key, None)) for key, kind in SECTIONS.items()}
        return cls(**sections, extra=data)

    def to_dict(self) -> dict:
        """The JSON-ready dict: absent sections are left out, non-finite figures become None."""
        data = dict(self.extra)
        for key in SECTIONS:
            section = getattr(self, key)
            if section is not None:
                data[key] = _plain(section)
        return clean(data)

    def failure(self) -> str | None:
        """Why a converted model is not good enough, or None.

        Cosine verification "fail" always fails. With evaluation data, an accuracy drop beyond the
        tolerance fails too, and a drop within it passes even when the cosine verdict warns.
        """
        if self.verification and self.verification.verdict == "fail":
            return (
                "The converted model does not match the original (verification verdict: fail). "
                "The figures are in report.json."
            )
        if self.accuracy and self.accuracy.verdict == "fail":
            return (
                f"The converted model loses {self.accuracy.drop_points:.2f} points of top-1 accuracy "
                f"on evaluation_data ({self.accuracy.original:.2f}% -> {self.accuracy.converted:.2f}%), "
                f"more than accuracy_tolerance allows ({self.accuracy.tolerance_points:g} points)."
            )
        return None
