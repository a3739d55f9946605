"""calibration_data/*.npy: pre-processed model inputs, checked against the model's inputs.

One input: every file holds one sample of the input's shape, or a stack of N samples ([N, ...]).
Several inputs: one file per input, named after it (`input_1.npy`), with the same N in each.
Files are read with allow_pickle=False: an .npy that holds Python objects is refused.
"""

from pathlib import Path

import numpy as np

from conversions.converters.base import ConversionError

MAX_SAMPLES = 1000
DYNAMIC_HINT = "Or choose 8bit-dynamic, which needs no data."


def _expected(spec) -> str:
    dims = ["N"] + ["?" if d is None else str(d) for d in spec.shape[1:]]
    return f"[{', '.join(dims)}] ({spec.dtype})"


def missing_message(inputs, alternative: str = DYNAMIC_HINT, precision: str = "8bit") -> str:
    wanted = "; ".join(f"{s.op}: {_expected(s)}" for s in inputs)
    per_input = " named after each input (<input name>.npy)" if len(inputs) > 1 else ""
    return (
        f"{precision} quantization needs calibration data: add a folder named calibration_data next to model/ "
        f"holding .npy files{per_input} (numpy.save) of pre-processed inputs shaped {wanted}. "
        f"A few dozen representative samples are enough. {alternative}"
    )


def where(path: Path) -> str:
    """`folder/file.npy`, as the user laid it out."""
    return f"{path.parent.name}/{path.name}"


def read(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ConversionError(f"{where(path)} cannot be read as a numeric array ({exc}).") from None
    except OSError as exc:
        raise ConversionError(f"{where(path)} is not a valid .npy file ({exc}).") from None


def as_stack(path: Path, array: np.ndarray, spec) -> np.ndarray:
    want = spec.shape
    if array.ndim == len(want) - 1:
        array = array[np.newaxis]
    fits = array.ndim == len(want) and all(
        d is None or a == d for a, d in zip(array.shape[1:], want[1:], strict=True)
    )
    if not fits or array.shape[0] == 0:
        raise ConversionError(
            f"{where(path)} has shape {list(array.shape)} but input {spec.op} takes "
            f"{_expected(spec)}: save arrays of that shape."
        )
    dtype = np.dtype(spec.dtype)
    if array.dtype.kind != dtype.kind and not (dtype.kind == "f" and array.dtype.kind in "iu"):
        raise ConversionError(
            f"{where(path)} holds {array.dtype} values but input {spec.op} takes {dtype}: "
            f"save it with .astype('{dtype}')."
        )
    return array.astype(dtype)


def load(paths: list[Path], inputs, limit: int = MAX_SAMPLES) -> list[list[np.ndarray]]:
    """Samples as lists of batch-1 arrays, one per input; [] when there are no files."""
    if not paths:
        return []
    folder = paths[0].parent.name
    if len(inputs) == 1:
        stacks = [np.concatenate([as_stack(p, read(p), inputs[0]) for p in paths])]
    else:
        by_name = {p.stem: p for p in paths}
        absent = [
            s.op for s in inputs if s.op.replace("/", "_") not in by_name and s.op not in by_name
        ]
        if absent:
            raise ConversionError(
                f"The model has several inputs: {folder} must hold one .npy per input, named after "
                f"it. Missing: {', '.join(n.replace('/', '_') + '.npy' for n in absent)}."
            )
        stacks = []
        for spec in inputs:
            path = by_name.get(spec.op) or by_name[spec.op.replace("/", "_")]
            stacks.append(as_stack(path, read(path), spec))
        counts = {len(s) for s in stacks}
        if len(counts) > 1:
            raise ConversionError(
                f"The files in {folder}/ hold different numbers of samples ({sorted(counts)})."
            )
    count = min(len(stacks[0]), limit)
    return [[stack[i : i + 1] for stack in stacks] for i in range(count)]


def samples_for(
    paths: list[Path],
    inputs,
    required: bool,
    events,
    alternative: str = DYNAMIC_HINT,
    precision: str = "8bit",
) -> list:
    """The calibration samples. When the precision needs none, unusable files only warn: verification
    then runs on random inputs instead. When it needs them, missing or unusable files are refused."""
    try:
        samples = load(paths, inputs)
    except ConversionError as exc:
        if required:
            raise
        events.log(f"{exc} Verifying on random inputs instead.", level="warning")
        return []
    if required and not samples:
        raise ConversionError(missing_message(inputs, alternative, precision))
    return samples
