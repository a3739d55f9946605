"""Caffe to ONNX: model/<name>.onnx (opset 13, float32), verified in ONNX Runtime against the NumPy
reference forward pass of the original Caffe model."""

import json
import time
from importlib import import_module

import numpy as np

from conversions.converters.base import Converter, Events, Job
from conversions.converters.caffe.onnx_export import OPSET, read_caffe, reference, to_onnx
from conversions.converters.layout import check_layout
from conversions.converters.samples import choose
from conversions.converters.verify import (
    compare_outputs,
    describe,
    file_summary,
    require_finite,
    size_of,
    summary,
)

CHECKED_WITH = "ONNX Runtime {} (CPU), against the NumPy reference forward pass of the Caffe model"


def read_logged(layout, events: Events):
    """The checked Caffe model of a layout, its facts and warnings logged."""
    model = read_caffe(layout.model, layout.weights)
    for warning in model.warnings:
        events.log(warning, level="warning")
    events.log(
        f"Caffe network: {len(model.net.layer)} layers; inputs "
        + ", ".join(f"{s.name} {s.shape}" for s in model.inputs)
        + "; outputs "
        + ", ".join(model.outputs)
    )
    return model


def tensorflow_model(layout, events: Events):
    """(TFModel, CaffeModel): the Caffe model as a frozen TensorFlow graph for the TFLite route."""
    from conversions.converters.caffe.tf_layers import to_graph_def
    from conversions.converters.tfsource import TFModel

    model = read_logged(layout, events)
    graph_def, inputs, outputs = to_graph_def(model)
    events.log("Caffe network built as a TensorFlow graph (Caffe's N x C x H x W inputs kept)")
    return TFModel(graph_def, inputs, outputs, list(model.outputs)), model


def verify_against_reference(model, run, sets, source: str, precision: str, events: Events):
    """(the verification section, the rows): `run(sets)` against the NumPy reference."""
    expected = reference(model, sets)
    require_finite(model.outputs, expected, source)
    rows = compare_outputs(model.outputs, expected, run(sets), precision)
    for row in rows:
        events.log(f"Verify {row['name']}: {describe(row)}")
    return rows


def versions() -> dict:
    return {
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "numpy": np.__version__,
    }


def _version(module: str) -> str:
    return getattr(import_module(module), "__version__", "unknown")


class CaffeONNXConverter(Converter):
    key = "onnx"

    def convert(self, job: Job, events: Events) -> dict:
        import onnx

        from conversions.converters.tensorrt.precision import run_onnx

        events.stage("checking")
        layout = check_layout(job.input_path, job.chip, job.model_format)
        events.log(f"Start converting {layout.model.relative_to(layout.root)} to ONNX")
        model = read_logged(layout, events)
        chosen = choose(layout, model.inputs, False, events, job.seed, precision="32bit")

        events.stage("converting")
        started = time.monotonic()
        onnx_model = to_onnx(model, job.name)
        model_dir = job.output_path / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        onnx_path = model_dir / f"{job.name}.onnx"
        onnx.save(onnx_model, str(onnx_path))
        conversion_seconds = time.monotonic() - started
        events.log(f"ONNX model written: {onnx_path.name} ({size_of(onnx_path)} bytes)")

        events.stage("verifying")
        started = time.monotonic()
        rows = verify_against_reference(
            model,
            lambda sets: run_onnx(onnx_path, model.inputs, sets),
            chosen.verification,
            chosen.source,
            "32bit",
            events,
        )
        verification = summary(rows, len(chosen.verification), chosen.source, chosen.held_out)
        verification["checked_with"] = CHECKED_WITH.format(_version("onnxruntime"))
        config = {
            "inputs": [s.as_dict() for s in model.inputs],
            "outputs": model.outputs,
            "onnx_opset": OPSET,
            "precision": "32bit",
        }
        (model_dir / "config.json").write_text(json.dumps(config, indent=2))
        return {
            "target": "onnx",
            "precision": "32bit",
            "inputs": [s.as_dict() for s in model.inputs],
            "outputs": model.outputs,
            "verification": verification,
            "input_model": file_summary(layout.model, layout.root),
            "artifacts": {"model": f"model/{onnx_path.name}", "config": "model/config.json"},
            "output_size_bytes": size_of(onnx_path),
            "timings": {
                "conversion_s": round(conversion_seconds, 3),
                "verification_s": round(time.monotonic() - started, 3),
            },
            "versions": versions(),
        }
