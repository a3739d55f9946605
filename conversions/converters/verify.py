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
large ones relative to their size. NaN or Inf in a converted output is always a fail.
"""

import hashlib
from pathlib import Path

import numpy as np

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
        rows.append(
            {
                "name": name,
                "shape": list(ref.shape[1:]),
                "max_abs_error": max_abs,
                "mean_abs_error": float(diff.mean()) if diff.size else 0.0,
                "cosine_similarity": cosine,
                "top1_agreement": top1,
                "finite": finite,
                "verdict": _verdict(precision, max_abs, cosine, scale, finite),
            }
        )
    return rows


def overall_verdict(rows: list[dict]) -> str:
    return max((row["verdict"] for row in rows), key=VERDICT_ORDER.index, default="pass")


def summary(rows: list[dict], samples: int, from_calibration: bool, seed: int) -> dict:
    """The `verification` section of report.json."""
    return {
        "samples": samples,
        "source": "calibration_data" if from_calibration else f"random (seed {seed})",
        "outputs": rows,
        "verdict": overall_verdict(rows),
    }
