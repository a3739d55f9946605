"""Parity between the original and the converted model: the figures and the verdict of report.json.

Tolerances per precision (documented in README.md, "Verification"):

| precision            | pass                          | warn                        | otherwise |
|----------------------|-------------------------------|-----------------------------|-----------|
| 32bit                | max abs error <= 1e-4 x scale | <= 1e-2 x scale             | fail      |
| 16bit                | cosine >= 0.999               | cosine >= 0.99              | fail      |
| 16x8                 | cosine >= 0.995               | cosine >= 0.98              | fail      |
| 8bit, 8bit-dynamic,  | cosine >= 0.99                | cosine >= 0.95              | fail      |
| 8bit-mixed           |                               |                             |           |

`scale` is max(1, largest absolute reference value), so tiny outputs are judged in absolute terms and
large ones relative to their size. NaN or Inf in a converted output is always a fail; in an original
output it is refused before anything is compared (`require_finite`).

Cosine verdicts are judged on the worst sample: the cosine of each sample's output vector is computed
and the lowest one decides (an output that matches on average but breaks on one input is not a pass).
The cosine over all samples together is reported beside it.
"""

import hashlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from conversions.converters.base import ConversionError
from conversions.converters.report import OutputCheck, Verification

VERDICT_ORDER = ("pass", "warn", "fail")
RANDOM_SAMPLES = 8
# (pass, warn) cosine thresholds; every other quantized precision takes 8bit's (0.99, 0.95).
COSINE_TOLERANCES = {"16bit": (0.999, 0.99), "16x8": (0.995, 0.98)}


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, or of every file under a folder in sorted order."""
    digest = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def file_summary(path: Path, root: Path) -> dict:
    """Where a file (or SavedModel folder) is, relative to `root`, with its digest and size."""
    return {
        "path": str(Path(path).relative_to(root)),
        "sha256": sha256_of(path),
        "size_bytes": size_of(path),
    }


def random_inputs(specs, seed: int, samples: int = RANDOM_SAMPLES) -> list[list[np.ndarray]]:
    """`samples` sets of seeded random inputs, one array of batch 1 per input spec."""
    rng = np.random.default_rng(seed)
    sets = []
    for _ in range(samples):
        arrays = []
        for spec in specs:
            shape = [1 if (d is None or i == 0) else d for i, d in enumerate(spec.shape)]
            dtype = np.dtype(spec.dtype)
            if dtype.kind == "f":
                arrays.append(rng.uniform(-1.0, 1.0, size=shape).astype(dtype))
            elif dtype.kind in "iu":
                arrays.append(rng.integers(0, 10, size=shape).astype(dtype))
            elif dtype.kind == "b":
                arrays.append(rng.integers(0, 2, size=shape).astype(bool))
            else:
                raise ValueError(f"cannot make random inputs of type {dtype}")
        sets.append(arrays)
    return sets


def _verdict(precision: str, max_abs: float, cosine: float, scale: float, finite: bool) -> str:
    if not finite:
        return "fail"
    if precision == "32bit":
        if max_abs <= 1e-4 * scale:
            return "pass"
        return "warn" if max_abs <= 1e-2 * scale else "fail"
    passing, warning = COSINE_TOLERANCES.get(precision, (0.99, 0.95))
    if cosine >= passing:
        return "pass"
    return "warn" if cosine >= warning else "fail"


def require_finite(names: list[str], reference: list[np.ndarray], source: str) -> None:
    """Refuse an original model whose outputs hold NaN or Inf: nothing can be compared against them."""
    problems = []
    for name, ref in zip(names, reference, strict=True):
        ref = np.asarray(ref)
        if ref.dtype.kind != "f" or np.isfinite(ref).all():
            continue
        nans, infs = int(np.isnan(ref).sum()), int(np.isinf(ref).sum())
        problems.append(f"output {name} has {nans} NaN and {infs} Inf of {ref.size} values")
    if problems:
        raise ConversionError(
            f"The original model outputs NaN or Inf on the verification inputs ({source}): "
            f"{'; '.join(problems)}. This is not a conversion problem: run the original model on "
            "these inputs in its own framework, and fix the model or give inputs it is made for "
            "(calibration_data/ or verification_data/)."
        )


def _sample_cosines(flat_ref: np.ndarray, flat_got: np.ndarray) -> np.ndarray:
    """Cosine of each sample's output vector. Where either vector is zero, as for the whole output:
    1 when the two are close (an output of about 1e-10 that int8 rounds to zeros), else 0."""
    norms = np.linalg.norm(flat_ref, axis=1) * np.linalg.norm(flat_got, axis=1)
    dots = (flat_ref * flat_got).sum(axis=1)
    close = np.array([np.allclose(r, g) for r, g in zip(flat_ref, flat_got, strict=True)])
    safe = np.where(norms > 0, norms, 1.0)
    return np.where(norms > 0, dots / safe, np.where(close, 1.0, 0.0))


def compare_outputs(
    names: list[str], reference: list[np.ndarray], converted: list[np.ndarray], precision: str
) -> list[dict]:
    """Per-output figures. `reference[i]` and `converted[i]` stack every sample of output i."""
    rows = []
    for name, ref, got in zip(names, reference, converted, strict=True):
        ref = np.asarray(ref, dtype=np.float64)
        got = np.asarray(got, dtype=np.float64).reshape(ref.shape)
        finite = bool(np.isfinite(got).all())
        diff = np.abs(ref - got) if finite else np.array([np.inf])
        flat_ref, flat_got = ref.reshape(len(ref), -1), got.reshape(len(got), -1)
        norms = np.linalg.norm(flat_ref) * np.linalg.norm(flat_got)
        cosine = (
            float((flat_ref * flat_got).sum() / norms)
            if finite and norms > 0
            else (1.0 if finite and np.allclose(ref, got) else 0.0)
        )
        top1 = None
        if flat_ref.shape[1] > 1 and finite:
            top1 = float((flat_ref.argmax(axis=1) == flat_got.argmax(axis=1)).mean())
        scale = max(1.0, float(np.abs(ref).max())) if ref.size else 1.0
        max_abs = float(diff.max()) if diff.size else 0.0
        per_sample = _sample_cosines(flat_ref, flat_got) if finite and len(ref) else np.zeros(1)
        worst = int(per_sample.argmin())
        worst_cosine = float(per_sample[worst])
        row = OutputCheck(
            name=name,
            shape=list(ref.shape[1:]),
            max_abs_error=max_abs if finite else None,
            mean_abs_error=(float(diff.mean()) if diff.size else 0.0) if finite else None,
            cosine_similarity=cosine,
            worst_sample_cosine=worst_cosine,
            worst_sample=worst,
            top1_agreement=top1,
            finite=finite,
            judged_on="worst sample",
            verdict=_verdict(precision, max_abs, min(cosine, worst_cosine), scale, finite),
        )
        rows.append(asdict(row))
    return rows


def describe(row: dict) -> str:
    """A verification row for the log: its figures and verdict (non-finite figures as "none")."""
    if not row["finite"]:
        return f"the converted output holds NaN or Inf -> {row['verdict']}"
    return (
        f"max abs error {row['max_abs_error']:.3g}, cosine {row['cosine_similarity']:.6f} "
        f"(worst sample {row['worst_sample_cosine']:.6f}) -> {row['verdict']}"
    )


def overall_verdict(rows: list[dict]) -> str:
    return max((row["verdict"] for row in rows), key=VERDICT_ORDER.index, default="pass")


def summary(rows: list[dict], samples: int, source: str, held_out=()) -> dict:
    """The `verification` section of report.json (see report.Verification)."""
    section = Verification(
        verdict=overall_verdict(rows), samples=samples, source=source, held_out=list(held_out)
    )
    data = asdict(section)
    data.pop("extra")
    return {**data, "outputs": rows}
