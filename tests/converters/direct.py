"""Run a converter in this process, as the child process does, and keep the events it streamed."""

import io
import json

import numpy as np

from conversions.converters import get_converter
from conversions.converters.base import Events, Job


def convert_directly(
    key, input_dir, output_dir, model_format, chip, options, name="net", seed=1
) -> tuple[dict, list[dict]]:
    """(report, events) of converter `key` on `input_dir`; ConversionError propagates."""
    job = Job(key, str(input_dir), str(output_dir), name, model_format, chip, options, seed=seed)
    stream = io.StringIO()
    report = get_converter(key).convert(job, Events(stream))
    return report, [json.loads(line) for line in stream.getvalue().splitlines()]


def calibration(folder, count=16, shape=(32, 32, 3)):
    """`count` random samples of `shape` in folder/batch.npy (a calibration_data/ folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(
        folder / "batch.npy",
        np.random.default_rng(0).uniform(-1, 1, size=(count, *shape)).astype(np.float32),
    )
