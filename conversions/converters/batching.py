"""Verification inputs run through a model in batches where the model takes them, else one at a time.

A sample is a list of batch-1 arrays, one per input (samples.py). Stacking samples into one call is
much cheaper than one call per sample, but only where it means the same: the first batch a model
runs is checked (every output has one row per sample, and the first sample run alone gives the same
values within a tolerance far below the verification's), and a model that refuses a batch, or fails
that check, runs one sample at a time from then on. Which of the two a model does is said in the
task log once. The per-sample figures of verify.py are the same either way.
"""

import numpy as np

BATCH_LIMIT = 32  # samples per call
BATCH_BYTES = 16 << 20  # input bytes per call: activations are many times the input
# batch vs one-by-one: a tenth of 32bit's pass tolerance (1e-4 x scale, verify.py)
SAME_WITHIN = 1e-5


def stack(sets: list) -> list[np.ndarray]:
    """The samples' arrays stacked per input along the batch dimension."""
    return [np.concatenate(arrays) for arrays in zip(*sets, strict=True)]


def one_by_one(run, sets: list) -> list[np.ndarray]:
    """Each sample on its own; the outputs stacked per output."""
    results = [run(list(arrays)) for arrays in sets]
    return [np.concatenate([r[i] for r in results]) for i in range(len(results[0]))]


def same(single: list[np.ndarray], batched: list[np.ndarray]) -> bool:
    """The first sample's outputs run alone equal the first rows of the batch's, within SAME_WITHIN."""
    for alone, row in zip(single, batched, strict=True):
        alone, row = np.asarray(alone, dtype=np.float64), np.asarray(row, dtype=np.float64)
        if alone.shape != row.shape:
            return False
        scale = max(1.0, float(np.abs(alone).max())) if alone.size else 1.0
        if not np.allclose(alone, row, rtol=0, atol=SAME_WITHIN * scale, equal_nan=True):
            return False
    return True


class Batches:
    """How one model (the original, or the converted one) runs its samples, decided on its first
    batch and kept for every later call, so the log says it once."""

    def __init__(self, what: str, events, refusal: str | None = None):
        self.what = what  # "the original model", "the converted model"
        self.events = events
        self.refusal = refusal  # why this model runs one sample at a time; None: try batches
        self.checked = False  # the first batch was compared with a sample run alone
        self.said = False

    def size(self, sets: list) -> int:
        """Samples per call for these sets."""
        if self.refusal or len(sets) < 2:
            return 1
        if any(np.ndim(a) == 0 or np.shape(a)[0] != 1 for a in sets[0]):
            self.refusal = "its inputs have no batch dimension"
            return 1
        sample_bytes = sum(np.asarray(a).nbytes for a in sets[0]) or 1
        return max(1, min(BATCH_LIMIT, len(sets), BATCH_BYTES // sample_bytes))

    def run(self, run, sets: list) -> list[np.ndarray]:
        """`run(arrays)` runs one call (arrays stacked per input); the outputs of every sample,
        stacked per output in the samples' order."""
        size = self.size(sets)
        if size > 1:
            outputs = self._batched(run, sets, size)
            if outputs is not None:
                self._say(f"Run {self.what} on the verification inputs in batches of {size}")
                return outputs
        if len(sets) > 1 and self.refusal:
            self._say(f"Run {self.what} on the verification inputs one at a time: {self.refusal}")
        return one_by_one(run, sets)

    def _batched(self, run, sets: list, size: int) -> list[np.ndarray] | None:
        """The outputs, or None once the model refused a batch or changed its meaning."""
        chunks = []
        for start in range(0, len(sets), size):
            part = sets[start : start + size]
            try:
                outputs = run(stack(part))
            except Exception as exc:  # a refusal of this batch size, in the runtime's words
                self.refusal = f"it refused a batch of {len(part)} ({_short(exc)})"
                return None
            if any(np.ndim(o) == 0 or np.shape(o)[0] != len(part) for o in outputs):
                shapes = ", ".join(str(list(np.shape(o))) for o in outputs)
                self.refusal = (
                    f"a batch of {len(part)} gave outputs of shape {shapes}, not one row per sample"
                )
                return None
            if not self.checked:
                if not same(run(list(sets[start])), [o[:1] for o in outputs]):
                    self.refusal = "a sample's outputs changed when other samples ran beside it"
                    return None
                self.checked = True
            chunks.append(outputs)
        return [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]

    def _say(self, line: str) -> None:
        if not self.said and self.events is not None:
            self.events.log(line)
        self.said = True


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."
