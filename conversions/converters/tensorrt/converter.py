"""TensorFlow, ONNX or Caffe to a TensorRT engine for NVIDIA GPUs.

checking: the layout, then the model is read and audited (TensorFlow op allow-list; ONNX domains and
external data; Caffe's layer set and weights) before anything runs it. converting: TensorFlow is
exported to ONNX (tf2onnx), Caffe with our own export (caffe/onnx_export, verified against its NumPy
reference forward pass), the
precision is applied to the ONNX, the variant is run in ONNX Runtime against the original on the same
inputs, and only a variant that passes is built into an engine. verifying: the figures are assembled;
the engine itself needs an NVIDIA GPU with CUDA to run, which a CPU worker does not have.
"""

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from conversions.converters import evaluation, quantlayers
from conversions.converters.base import ConversionError, Converter, Events, Job
from conversions.converters.batching import Batches
from conversions.converters.layout import Layout, check_layout
from conversions.converters.samples import choose
from conversions.converters.tensorrt import builders, export, layers, onnxsource, precision, probe
from conversions.converters.tfgraph import TensorSpec
from conversions.converters.tfsource import load_tensorflow, run_graph
from conversions.converters.verify import (
    compare_outputs,
    describe,
    file_summary,
    overall_verdict,
    require_finite,
    size_of,
    summary,
)

ANALYSIS_SAMPLES = 16  # samples for the per-layer error of an 8bit model
NO_DATA_HINT = "Or choose 16bit, which needs no data."


@dataclass
class Source:
    """The model to build from, before any precision is applied."""

    inputs: list[TensorSpec]
    outputs: list[str]
    tensorflow: object | None = None  # the TFModel when the source is TensorFlow
    onnx: object | None = None  # the user's ModelProto when the source is ONNX (or Caffe's)
    caffe: object | None = None  # the CaffeModel, whose NumPy forward pass is the reference


class TensorRTConverter(Converter):
    key = "tensorrt"

    def convert(self, job: Job, events: Events) -> dict:
        wanted = job.options.get("quantization_precision", "32bit")
        if wanted not in precision.PRECISIONS:
            raise ConversionError(
                f"Unknown quantization precision {wanted}: use one of {', '.join(precision.PRECISIONS)}."
            )
        if job.options.get("keep_float_layers") and wanted not in precision.INT8:
            raise ConversionError(
                f"keep_float_layers works with quantization_precision 8bit or 8bit-mixed, not "
                f"{wanted}: clear it or choose one of those."
            )
        plan = builders.Plan(
            builder=builders.choose(job.options.get("engine_builder", builders.AUTO)),
            capabilities=builders.parse_capabilities(job.options.get("target_gpus")),
            batch_size=int(job.options.get("batch_size") or 1),
        )
        events.stage("checking")
        layout = check_layout(job.input_path, job.chip, job.model_format)
        events.log(
            f"Start converting {layout.model.relative_to(layout.root)} to a TensorRT engine "
            f"({wanted}, {plan.label})"
        )
        scratch = Path(tempfile.mkdtemp(prefix="tensorrt-", dir=job.output_path.parent))
        try:
            return _Run(job, events, layout, wanted, plan, scratch).convert()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class _Run:
    """One conversion: the steps share the job, the paths and the timings."""

    def __init__(self, job, events, layout: Layout, wanted: str, plan: builders.Plan, scratch):
        self.job, self.events, self.layout = job, events, layout
        self.precision, self.plan, self.scratch = wanted, plan, scratch
        self.timings: dict[str, float] = {}
        self.model_dir = job.output_path / "model"
        self.keep_patterns = quantlayers.parse_patterns(job.options.get("keep_float_layers"))
        self.keep: list[str] = []
        self.int8_batch = 1
        self.batches = Batches("the ONNX models", events)  # every ONNX Runtime run of the task

    def convert(self) -> dict:
        source = self._read()
        tolerance = evaluation.tolerance(self.job.options)
        chosen = choose(
            self.layout,
            source.inputs,
            self.precision in precision.INT8,
            self.events,
            self.job.seed,
            NO_DATA_HINT,
            self.precision,
        )
        labelled = evaluation.load(self.layout.evaluation, source.inputs)

        self.events.stage("converting")
        float32 = self._float32_onnx(source)
        reference = self._reference(source, float32, chosen.verification)
        require_finite(source.outputs, reference, chosen.source)
        if labelled:
            original_scores = self._reference(source, float32, labelled.samples)[0]
            evaluation.check_scores(source.outputs[0], original_scores, labelled.labels)
        if source.tensorflow is not None:
            source.tensorflow.close()  # the reference has run
        variant = self._apply_precision(float32, source, chosen.calibration)
        quantization = None
        if self.precision in precision.INT8:
            variant, quantization = self._int8_layers(
                float32, variant, source, chosen.calibration, chosen.verification, reference
            )
        verification = self._verify(source, float32, variant, reference, chosen)
        accuracy = None
        if labelled:
            scores = precision.run_onnx(
                self.checked, source.inputs, labelled.samples, self.batches
            )[0]
            accuracy = evaluation.accuracy(
                source.outputs[0], original_scores, scores, labelled.labels, tolerance
            )
            self.events.log(evaluation.describe(accuracy))

        self.model_dir.mkdir(parents=True, exist_ok=True)
        onnx_path = self.model_dir / f"{self.job.name}.onnx"
        shutil.copyfile(variant, onnx_path)
        report = self._report(source, verification, onnx_path)
        if accuracy:
            report["accuracy"] = accuracy
        if quantization is not None:
            report["quantization"] = quantization
        if verification["verdict"] == "fail":
            self.events.log(
                f"The {self.precision} ONNX model does not match the original: no engine is built.",
                level="error",
            )
            return report
        return self._build(variant, onnx_path, report)

    def _int8_layers(self, float32, variant, source, samples, sets, reference):
        """(the int8 variant to build, the report's `quantization` section): each quantized
        activation's own loss; with 8bit-mixed, the variant with the fewest layers kept float that
        verifies best (see quantlayers.search_mixed)."""
        started = time.monotonic()
        names = [s.name for s in source.inputs]
        found = layers.layer_errors(variant, names, sets[:ANALYSIS_SAMPLES], self.scratch)
        self.timings["layer_analysis_s"] = time.monotonic() - started
        quantlayers.log_worst(found, self.events)
        kept, rounds = self.keep, None
        if self.precision == "8bit-mixed":
            built = {tuple(kept): variant}

            def attempt(kept):
                path = built.get(tuple(kept)) or self.scratch / f"int8-mixed-{len(built)}.onnx"
                if tuple(kept) not in built:
                    precision.to_int8(
                        float32, path, names, samples, self.int8_batch, self.events, kept
                    )
                    built[tuple(kept)] = path
                converted = precision.run_onnx(path, source.inputs, sets, self.batches)
                return compare_outputs(source.outputs, reference, converted, self.precision)

            order = [layer["name"] for layer in quantlayers.ranked(found)]
            expand = layers.with_readers(float32, set(order))
            kept, rounds = quantlayers.search_mixed(order, kept, attempt, self.events, expand)
            variant = built[tuple(kept)]
        return variant, quantlayers.report(found, kept, layers.float_shares(variant), rounds)

    def _verify(self, source, float32, variant, reference, chosen) -> dict:
        """Run the variant (16bit: its float16 emulation) in ONNX Runtime against the reference."""
        started = time.monotonic()
        checked = variant
        if self.precision == "16bit":
            checked = self.scratch / "float16-emulated.onnx"
            precision.float16_emulation(float32, checked)
        self.checked = checked
        sets = chosen.verification
        rows = compare_outputs(
            source.outputs,
            reference,
            precision.run_onnx(checked, source.inputs, sets, self.batches),
            self.precision,
        )
        self.timings["onnx_check_s"] = time.monotonic() - started
        _log_rows(self.events, rows, f"{self.precision} ONNX in ONNX Runtime")
        verification = summary(rows, len(sets), chosen.source, chosen.held_out)
        what = f"the {self.precision} ONNX model the engine is built from"
        if self.precision == "16bit":
            what += " (its float16 rounding emulated in float32: the CPU has no float16 arithmetic)"
        verification["checked_with"] = (
            f"ONNX Runtime {_version('onnxruntime')} (CPU): {what}, against {_original(source)}"
        )
        if self.precision == "16bit" and not all(row["finite"] for row in rows):
            self.events.log(
                "The 16bit model computes inf or NaN: its activations leave float16's range (65504). "
                "Choose 32bit or 8bit, or scale the model's values down.",
                level="error",
            )
        exported = source.tensorflow is not None or source.caffe is not None
        if exported and self.precision != "32bit":  # how much the export itself lost
            export_rows = compare_outputs(
                source.outputs,
                reference,
                precision.run_onnx(float32, source.inputs, sets, self.batches),
                "32bit",
            )
            verification["export"] = {
                "outputs": export_rows,
                "verdict": overall_verdict(export_rows),
            }

        return verification

    def _build(self, variant: Path, onnx_path: Path, report: dict) -> dict:
        """Build the engine, write config.json, and complete the report."""
        engine_path = self.model_dir / f"{self.job.name}.engine"
        engine = builders.build(variant, engine_path, self.plan, self.events)
        self.timings["engine_build_s"] = engine.pop("build_seconds")
        self.events.log(f"Engine written: {engine_path.name} ({size_of(engine_path)} bytes)")
        config = {
            **engine,
            "precision": self.precision,
            "onnx_opset": _opset(variant),
            "onnx": f"model/{onnx_path.name}",
        }
        (self.model_dir / "config.json").write_text(json.dumps(config, indent=2))

        self.events.stage("verifying")
        report["verification"]["engine"] = probe.engine_check()
        self.events.log(report["verification"]["engine"]["reason"])
        report.update(
            engine=config,
            artifacts={
                "model": f"model/{engine_path.name}",
                "onnx": f"model/{onnx_path.name}",
                "config": "model/config.json",
            },
            output_size_bytes=size_of(engine_path),
            versions={**report["versions"], self.plan.builder: engine["builder_version"]},
        )
        report["timings"] = _rounded(self.timings)
        return report

    def _read(self) -> Source:
        if self.job.model_format == "caffemodel":
            from conversions.converters.caffe.converter import read_logged
            from conversions.converters.caffe.onnx_export import to_onnx

            caffe = read_logged(self.layout, self.events)
            source = Source(caffe.inputs, caffe.outputs, onnx=to_onnx(caffe, self.job.name))
            source.caffe = caffe
            self.events.log("Caffe network converted to ONNX (opset 13)")
        elif self.job.model_format == "onnx":
            model = onnxsource.read_onnx(self.layout.model)
            source = Source(
                onnxsource.input_specs(model), onnxsource.output_names(model), onnx=model
            )
            self.events.log(
                f"ONNX opset {onnxsource.opset_of(model)}, producer {model.producer_name or 'unknown'}"
            )
            self.events.log(
                "Inputs: " + ", ".join(f"{s.name} {s.shape} {s.dtype}" for s in source.inputs)
            )
            self.events.log("Outputs: " + ", ".join(source.outputs))
        else:
            model = load_tensorflow(self.layout, self.job, self.events)
            source = Source(model.inputs, model.outputs, tensorflow=model)
        for spec in source.inputs:
            if None in spec.shape[1:] or not spec.shape:
                raise ConversionError(
                    f"Input {spec.name} has dynamic dimensions other than the batch {spec.shape}: "
                    "export the model with fixed sizes except the first (batch) dimension."
                )
        return source

    def _float32_onnx(self, source: Source) -> Path:
        import onnx

        path = self.scratch / "float32.onnx"
        if source.onnx is not None:
            onnx.save(source.onnx, str(path))
            return path
        opset = int(self.job.options.get("opset") or export.DEFAULT_OPSET)
        started = time.monotonic()
        onnx.save(export.tensorflow_to_onnx(source.tensorflow, opset, self.events), str(path))
        self.timings["export_s"] = time.monotonic() - started
        return path

    def _reference(self, source: Source, float32: Path, sets) -> list[np.ndarray]:
        if source.tensorflow is not None:
            return run_graph(source.tensorflow, sets, self.events)
        if source.caffe is not None:
            from conversions.converters.caffe.onnx_export import reference

            return reference(source.caffe, sets)
        return precision.run_onnx(float32, source.inputs, sets, self.batches)

    def _apply_precision(self, float32: Path, source: Source, samples) -> Path:
        import onnx

        started = time.monotonic()
        if self.precision == "32bit":
            return float32
        if self.precision == "16bit":
            self.events.log(
                "Convert the ONNX model to float16 (inputs, outputs and sensitive ops stay float32)"
            )
            path = self.scratch / "float16.onnx"
            onnx.save(precision.to_float16(onnx.load(str(float32))), str(path))
        else:
            dynamic = all(s.shape[0] is None for s in source.inputs)
            batch = self.plan.batch_size if dynamic else 1
            if not dynamic and self.plan.batch_size > 1:
                self.events.log(
                    "The model's batch dimension is fixed: calibrating one sample at a time."
                )
            path = self.scratch / "int8.onnx"
            names = [s.name for s in source.inputs]
            self.keep = quantlayers.resolve(self.keep_patterns, layers.node_names(float32))
            self.int8_batch = batch
            precision.to_int8(float32, path, names, samples, batch, self.events, self.keep)
        self.timings["precision_s"] = time.monotonic() - started
        return path

    def _report(self, source: Source, verification: dict, onnx_path: Path) -> dict:
        versions = {
            "onnx": _version("onnx"),
            "onnxruntime": _version("onnxruntime"),
            "numpy": np.__version__,
        }
        if source.tensorflow is not None:
            versions.update(tensorflow=_version("tensorflow"), tf2onnx=_version("tf2onnx"))
        return {
            "target": "tensorrt",
            "precision": self.precision,
            "builder": self.plan.builder,
            "inputs": [s.as_dict() for s in source.inputs],
            "outputs": source.outputs,
            "verification": verification,
            "input_model": file_summary(self.layout.model, self.layout.root),
            "artifacts": {"onnx": f"model/{onnx_path.name}"},
            "onnx_size_bytes": size_of(onnx_path),
            "timings": _rounded(self.timings),
            "versions": versions,
        }


def _log_rows(events: Events, rows: list[dict], what: str) -> None:
    for row in rows:
        events.log(f"Verify {row['name']} ({what}): {describe(row)}")


def _original(source: Source) -> str:
    if source.tensorflow is not None:
        return "TensorFlow"
    if source.caffe is not None:
        return "the NumPy reference forward pass of the Caffe model"
    return "the input ONNX model"


def _opset(path: Path) -> int | None:
    import onnx

    return onnxsource.opset_of(onnx.load(str(path), load_external_data=False))


def _version(module: str) -> str:
    from importlib import import_module

    return getattr(import_module(module), "__version__", "unknown")


def _rounded(timings: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 3) for key, value in timings.items()}
