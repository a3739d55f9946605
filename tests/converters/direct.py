"""Run a converter in this process, as the child process does, and keep the events it streamed."""

import io
import json

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
