"""evaluation_data/: the task metric. Top-1 accuracy of the original and the converted model on
labelled samples, and the drop in points, judged against the template's accuracy_tolerance.

Layout: labels.npy (one integer class id per sample) and the inputs: inputs.npy for a single-input
model, or one <input name>.npy per input. The model's first output is read as class scores.
Every check that can run before converting does (`load`, then `check_scores` on the original's
outputs), so bad evaluation data is refused before the converter spends minutes.
"""

from dataclasses import asdict, dataclass

import numpy as np

from conversions.converters import calibration
from conversions.converters.base import ConversionError
from conversions.converters.report import Accuracy

DEFAULT_TOLERANCE = 1.0  # points
LIMIT = 10000  # evaluation samples


@dataclass
class EvaluationSet:
    samples: list  # lists of batch-1 arrays, one per input
    labels: np.ndarray  # int64 class ids, one per sample


def _labels(path, count: int, capped: bool) -> np.ndarray:
    labels = calibration.read(path)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if capped:  # only the first LIMIT samples were read
        labels = labels[:count]
    if labels.ndim != 1:
        raise ConversionError(
            f"evaluation_data/labels.npy has shape {list(labels.shape)}: save one class id per "
            "sample, a one-dimensional array of integers (not one-hot vectors)."
        )
    if labels.dtype.kind not in "iu":
        raise ConversionError(
            f"evaluation_data/labels.npy holds {labels.dtype} values: save the class ids as "
            "integers, e.g. numpy.save('labels.npy', labels.astype('int64'))."
        )
    if len(labels) != count:
        raise ConversionError(
            f"evaluation_data/labels.npy holds {len(labels)} labels for {count} input samples: "
            "give exactly one class id per sample, in the same order."
        )
    if (labels < 0).any():
        raise ConversionError("evaluation_data/labels.npy holds negative class ids.")
    return labels.astype(np.int64)


def load(paths, inputs) -> EvaluationSet | None:
    """The labelled samples of evaluation_data/, checked against the model's inputs; None without."""
    if not paths:
        return None
    labels = next(p for p in paths if p.name == "labels.npy")
    arrays = [p for p in paths if p.name != "labels.npy"]
    if len(inputs) == 1:
        names = {"inputs", inputs[0].op, inputs[0].op.replace("/", "_")}
        wanted = [p for p in arrays if p.stem in names]
        if len(arrays) != 1 or not wanted:
            raise ConversionError(
                "evaluation_data/ for a single-input model holds two files: inputs.npy (the samples) "
                f"and labels.npy (their class ids). Found: {', '.join(p.name for p in paths)}."
            )
        arrays = wanted
    samples = calibration.load(arrays, inputs, limit=LIMIT)
    return EvaluationSet(samples, _labels(labels, len(samples), capped=len(samples) == LIMIT))


def check_scores(name: str, scores: np.ndarray, labels: np.ndarray) -> None:
    """Refuse an output that is not one score per class, or fewer classes than the labels name."""
    per_sample = [d for d in scores.shape[1:] if d != 1]
    if len(per_sample) != 1 or per_sample[0] < 2:
        raise ConversionError(
            f"evaluation_data measures top-1 accuracy, which needs a classifier: the model's first "
            f"output {name} gives shape {list(scores.shape[1:])} per sample, not a vector of class "
            "scores. Remove evaluation_data/ for this model."
        )
    if labels.max() >= per_sample[0]:
        raise ConversionError(
            f"evaluation_data/labels.npy names class {int(labels.max())}, but output {name} scores "
            f"only {per_sample[0]} classes (0 to {per_sample[0] - 1})."
        )


def _top1(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((scores.reshape(len(scores), -1).argmax(axis=1) == labels).mean() * 100)


def accuracy(
    name: str, original: np.ndarray, converted: np.ndarray, labels: np.ndarray, tolerance: float
) -> dict:
    """The `accuracy` section of report.json."""
    before, after = _top1(original, labels), _top1(converted, labels)
    drop = round(before - after, 4)
    section = Accuracy(
        original=round(before, 4),
        converted=round(after, 4),
        drop_points=drop,
        samples=len(labels),
        tolerance_points=tolerance,
        verdict="pass" if drop <= tolerance else "fail",
        output=name,
    )
    return asdict(section)


def describe(section: dict) -> str:
    """The accuracy line of the log."""
    return Accuracy(**section).line()


def tolerance(options: dict) -> float:
    """accuracy_tolerance in points (a decimal string in the options), DEFAULT_TOLERANCE when unset."""
    value = options.get("accuracy_tolerance")
    if value in (None, ""):
        return DEFAULT_TOLERANCE
    try:
        return float(value)
    except ValueError:
        raise ConversionError(
            f"accuracy_tolerance {value!r} is not a number of points, e.g. 1.0."
        ) from None
