"""Running a converted .tflite model in the LiteRT interpreter: verification, accuracy, layer analysis.

Samples run in batches where the interpreter can resize the model's inputs to the batch (a model
converted for batch 1 usually can: its batch dimension is resized, not strictly checked); a model
that cannot (a reshape fixed at batch 1, an int8 kernel that refuses) runs one sample at a time
(batching.py decides, and checks the first batch against a sample run alone).
"""

from pathlib import Path

import numpy as np

from conversions.converters.batching import Batches


class Interpreter:
    """One .tflite model, its inputs resized to each call's batch. `details` are the model's own
    (batch 1, as converted), for config.json."""

    def __init__(self, path: Path):
        self.path = path
        self._load()
        self.details = {
            "inputs": [describe(d) for d in self.ins],
            "outputs": [describe(d) for d in self.outs],
        }
        self.shapes = [list(d["shape"]) for d in self.ins]

    def _load(self) -> None:
        from ai_edge_litert.interpreter import Interpreter as LiteRT

        self.interpreter = LiteRT(model_path=str(self.path))
        self.interpreter.allocate_tensors()
        self.ins = self.interpreter.get_input_details()
        self.outs = self.interpreter.get_output_details()
        self.batch = None  # as converted

    def __call__(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        batch = np.shape(arrays[0])[0] if np.ndim(arrays[0]) else None
        wanted = None if batch is None or all(s[:1] == [batch] for s in self.shapes) else batch
        if wanted != self.batch:
            self._resize(wanted)
        for detail, array in zip(self.ins, arrays, strict=True):
            self.interpreter.set_tensor(detail["index"], quantize(array, detail))
        self.interpreter.invoke()
        return [dequantize(self.interpreter.get_tensor(d["index"]), d) for d in self.outs]

    def _resize(self, batch: int | None) -> None:
        """Resize every input to `batch` samples (None: back to the model's own shapes)."""
        try:
            for detail, shape in zip(self.ins, self.shapes, strict=True):
                size = shape if batch is None else [batch, *shape[1:]]
                self.interpreter.resize_tensor_input(detail["index"], size, strict=False)
            self.interpreter.allocate_tensors()
        except Exception:
            self._load()  # a half-resized interpreter is not to be trusted: start again
            raise
        self.ins = self.interpreter.get_input_details()
        self.outs = self.interpreter.get_output_details()
        self.batch = batch


def run_tflite(path: Path, sets, batches: Batches | None = None) -> tuple[list[np.ndarray], dict]:
    """(every output stacked over the samples, the model's input and output details)."""
    interpreter = Interpreter(path)
    batches = batches or Batches("the converted model", None, "no batches asked for")
    return batches.run(interpreter, sets), interpreter.details


def quantize(array: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    if detail["dtype"] in (np.int8, np.uint8) and scale:
        info = np.iinfo(detail["dtype"])
        return np.clip(np.round(array / scale + zero), info.min, info.max).astype(detail["dtype"])
    return array.astype(detail["dtype"])


def dequantize(array: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    if detail["dtype"] in (np.int8, np.uint8) and scale:
        return (array.astype(np.float32) - zero) * scale
    return array


def describe(detail: dict) -> dict:
    scale, zero = detail["quantization"]
    return {
        "name": detail["name"],
        "shape": [int(d) for d in detail["shape"]],
        "dtype": np.dtype(detail["dtype"]).name,
        "quantization": {"scale": float(scale), "zero_point": int(zero)} if scale else None,
    }
