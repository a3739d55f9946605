"""TensorFlow (frozen graph or SavedModel) to TFLite for ARM CPUs, in four precisions.

Every model is converted from a frozen GraphDef: SavedModels are frozen first (a SavedModel whose
variables are not tracked converts "successfully" into NaNs otherwise), and freezing is also what
makes the reference run and the op audit see the same graph that TFLite converts.
"""

import json
import re
import time

import numpy as np

from conversions.converters import evaluation, quantlayers, tflite_quant
from conversions.converters.base import ConversionError, Converter, Events, Job
from conversions.converters.batching import Batches
from conversions.converters.caffe.converter import tensorflow_model
from conversions.converters.caffe.onnx_export import reference as caffe_reference
from conversions.converters.layout import check_layout
from conversions.converters.samples import choose
from conversions.converters.tflite_run import run_tflite
from conversions.converters.tfsource import load_tensorflow, run_graph, tflite_converter
from conversions.converters.verify import (
    compare_outputs,
    describe,
    file_summary,
    require_finite,
    size_of,
    summary,
)

PRECISIONS = ("32bit", "16bit", "8bit", "8bit-dynamic", "16x8", "8bit-mixed")
INT8 = ("8bit", "8bit-mixed")  # int8 activations: per-layer analysis, layers kept in float
CALIBRATED = INT8 + ("16x8",)


class TFLiteConverter(Converter):
    key = "tflite"
    imports = ("tensorflow", "ai_edge_litert.interpreter")

    def convert(self, job: Job, events: Events) -> dict:
        import tensorflow as tf

        precision = job.options.get("quantization_precision", "32bit")
        if precision not in PRECISIONS:
            raise ConversionError(
                f"Unknown quantization precision {precision}: use one of {', '.join(PRECISIONS)}."
            )
        events.stage("checking")
        layout = check_layout(job.input_path, job.chip, job.model_format)
        events.log(
            f"Start converting {layout.model.relative_to(layout.root)} to TFLite ({precision})"
        )

        keep_patterns = quantlayers.parse_patterns(job.options.get("keep_float_layers"))
        if keep_patterns and precision not in INT8:
            raise ConversionError(
                f"keep_float_layers works with quantization_precision 8bit or 8bit-mixed, not "
                f"{precision}: clear it or choose one of those."
            )
        caffe = None
        if job.model_format == "caffemodel":
            model, caffe = tensorflow_model(layout, events)
        else:
            model = load_tensorflow(layout, job, events)
        inputs, outputs = model.inputs, model.outputs

        def original(sets, names=outputs):  # the reference: TensorFlow, or Caffe's in NumPy
            if caffe is not None:
                return caffe_reference(caffe, sets)[: len(names)]
            return run_graph(model, sets, events, names)

        tolerance = evaluation.tolerance(job.options)
        chosen = choose(
            layout, inputs, precision in CALIBRATED, events, job.seed, precision=precision
        )
        samples, sets = chosen.calibration, chosen.verification
        batch_size = int(job.options.get("batch_size") or 1)
        # The original runs first: a model that computes NaN, or evaluation data that does not fit
        # it, is refused before the conversion spends its time.
        reference = original(sets)
        require_finite(outputs, reference, chosen.source)
        labelled = evaluation.load(layout.evaluation, inputs)
        if labelled:
            original_scores = original(labelled.samples, outputs[:1])[0]
            evaluation.check_scores(outputs[0], original_scores, labelled.labels)
        model.close()  # the reference has run: its graph and session are not needed any more

        events.stage("converting")
        model_dir = job.output_path / "model"
        model_dir.mkdir(parents=True, exist_ok=True)
        tflite_path = model_dir / f"{job.name}.tflite"
        started = time.monotonic()
        converter = tflite_converter(tf, model)  # the GraphDef parsed once, not read again
        quantization, analysis_seconds = None, 0.0
        batches = Batches("the converted model", events)  # one decision for every variant
        try:
            if precision in INT8:
                events.log(f"Calibrate on {len(samples)} samples in batches of {batch_size}")
                calibrated = tflite_quant.calibrate(converter, tf, samples, batch_size)

                def judge(content: bytes) -> list[dict]:
                    tflite_path.write_bytes(content)
                    converted, _ = run_tflite(tflite_path, sets, batches)
                    return compare_outputs(outputs, reference, converted, precision)

                content, quantization, analysis_seconds = tflite_quant.int8_model(
                    calibrated, sets, judge, keep_patterns, precision == "8bit-mixed", events
                )
            else:
                _set_precision(converter, tf, precision, samples, batch_size, events)
                content = converter.convert()
        except ConversionError:
            raise
        except Exception as exc:  # the converter raises many types; its message is what helps
            raise ConversionError(_explain_convert_error(exc, precision)) from None
        tflite_path.write_bytes(content)
        conversion_seconds = time.monotonic() - started
        events.log(
            f"Model converted: {tflite_path.name} ({size_of(tflite_path)} bytes) in {conversion_seconds:.2f} s"
        )

        events.stage("verifying")
        started = time.monotonic()
        converted, details = run_tflite(tflite_path, sets, batches)
        rows = compare_outputs(outputs, reference, converted, precision)
        accuracy = None
        if labelled:
            scores = run_tflite(tflite_path, labelled.samples, batches)[0][0]
            accuracy = evaluation.accuracy(
                outputs[0], original_scores, scores, labelled.labels, tolerance
            )
        verification_seconds = time.monotonic() - started
        config = {
            "inputs": details["inputs"],
            "outputs": _with_keys(details["outputs"], outputs, model.output_keys),
            "precision": precision,
        }
        (model_dir / "config.json").write_text(json.dumps(config, indent=2))
        for row in rows:
            events.log(f"Verify {row['name']}: {describe(row)}")
        if accuracy:
            events.log(evaluation.describe(accuracy))
        report = {
            "target": "tflite",
            "precision": precision,
            "inputs": [s.as_dict() for s in inputs],
            "outputs": outputs,
            "verification": summary(rows, len(sets), chosen.source, chosen.held_out),
            "input_model": file_summary(layout.model, layout.root),
            "artifacts": {"model": f"model/{tflite_path.name}", "config": "model/config.json"},
            "output_size_bytes": size_of(tflite_path),
            "timings": {
                "conversion_s": round(conversion_seconds, 3),
                "verification_s": round(verification_seconds, 3),
            },
            "versions": _versions(tf),
        }
        if caffe is not None:
            report["verification"]["checked_with"] = (
                "TFLite interpreter, against the NumPy reference forward pass of the Caffe model"
            )
        if quantization is not None:
            report["quantization"] = quantization
            report["timings"]["layer_analysis_s"] = round(analysis_seconds, 3)
            events.log(
                f"{len(quantization['kept_float'])} layer(s) kept in float: "
                f"{quantization['float_op_share']:.1%} of the ops, "
                f"{quantization['float_weight_share']:.1%} of the weights"
            )
        if accuracy:
            report["accuracy"] = accuracy
        return report


def _set_precision(converter, tf, precision: str, samples, batch_size: int, events: Events) -> None:
    if precision == "32bit":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "16bit":
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "16x8":  # int16 activations, int8 weights; float inputs and outputs
        events.log(f"Calibrate on {len(samples)} samples in batches of {batch_size}")
        converter.representative_dataset = tflite_quant.representative(samples, batch_size)
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8
        ]


def refused_ops(message: str) -> list[str]:
    """The TensorFlow ops named in a TFLite converter error ("'tf.Foo' op is neither ...")."""
    return sorted(set(re.findall(r"'tf\.(\w+)' op", message)))


def _explain_convert_error(exc: Exception, precision: str) -> str:
    text = str(exc).strip()
    ops = refused_ops(text)
    hint = ""
    if ops and precision == "32bit":
        hint = (
            f" TFLite has no builtin kernel for these operations: {', '.join(ops)}. No precision "
            "option helps here: replace them in the model (Model inspection lists them before you "
            "create a task)."
        )
    elif ops:
        hint = (
            f" TFLite cannot take these operations at {precision}: {', '.join(ops)}. Choose "
            "quantization_precision 32bit (or 8bit-dynamic) if only the quantized kernel is "
            "missing, or replace the operations in the model."
        )
    return f"The TFLite converter refused the model.{hint} Its message: {text[-1500:]}"


def _with_keys(described: list[dict], outputs: list[str], keys: list[str] | None) -> list[dict]:
    """Each TFLite output with the SavedModel signature's name for it ("key"), found by tensor name
    (TFLite names an output after the graph tensor it computes), else by position."""
    if keys is None:
        return described
    by_name = dict(zip((name.removesuffix(":0") for name in outputs), keys, strict=True))
    return [
        {**entry, "key": by_name.get(entry["name"], keys[index] if index < len(keys) else None)}
        for index, entry in enumerate(described)
    ]


def _versions(tf) -> dict:
    import ai_edge_litert

    return {
        "tensorflow": tf.__version__,
        "ai_edge_litert": getattr(ai_edge_litert, "__version__", "unknown"),
        "numpy": np.__version__,
    }
