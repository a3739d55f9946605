"""TFLite full-integer quantization in two steps, so that layers can be measured and kept in float.

The converter calibrates once (`_experimental_calibrate_only`, what TFLite's QuantizationDebugger does),
then TFLite's MLIR quantizer turns the calibrated model into an int8 model as many times as needed:
with NumericVerify ops for the per-layer analysis, and with `denylisted_nodes` for layers kept in float
(8bit-mixed, keep_float_layers). `converter.convert()` runs the same two steps for plain 8bit.
"""

import time

import numpy as np

from conversions.converters import quantlayers

SKIPPED_OPS = {"QUANTIZE", "DEQUANTIZE"}  # conversions between int8 and float, not layers
ANALYSIS_SAMPLES = 16  # enough to rank the layers; the rounds of 8bit-mixed verify on every sample


def representative(samples, batch_size: int):
    """The converter's representative dataset: the calibration samples, `batch_size` at a time."""

    def generate():
        for start in range(0, len(samples), batch_size):
            yield from samples[start : start + batch_size]

    return generate


def calibrate(converter, tf, samples, batch_size: int) -> bytes:
    """The float model with calibration statistics, ready for `quantize`."""
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative(samples, batch_size)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_calibrate_only = True  # noqa: SLF001 (the debugger's documented route)
    return converter.convert()


def quantize(calibrated: bytes, keep_float=(), debug: bool = False) -> bytes:
    """int8 model (int8 inputs and outputs) with the layers named in `keep_float` left in float; with
    `debug`, float inputs and outputs and a NumericVerify op after every quantized layer."""
    import tensorflow as tf
    from tensorflow.lite.python.convert import mlir_quantize

    io_type = tf.float32 if debug else tf.int8
    return mlir_quantize(
        calibrated,
        input_data_type=io_type,
        output_data_type=io_type,
        enable_numeric_verify=debug,
        denylisted_nodes=list(keep_float) or None,
    )


def _interpreter(model: bytes, **options):
    """TFLite's reference kernels: a delegate would hide the layers behind one DELEGATE op."""
    import tensorflow as tf

    return tf.lite.Interpreter(
        model_content=model,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        **options,
    )


def tensor_names(model: bytes) -> set[str]:
    return {d["name"] for d in _interpreter(model).get_tensor_details()}


def layer_errors(calibrated: bytes, sets, names: set[str]) -> list[dict]:
    """Every quantized layer's error on `sets` (see quantlayers.error): its dequantized output against
    the float op run on the same quantized input, so each layer is charged for its own loss only.
    `names` are the tensor names of the int8 model: the debug model adds a digit to some of them."""
    interpreter = _interpreter(
        quantize(calibrated, debug=True), experimental_preserve_all_tensors=True
    )
    interpreter.allocate_tensors()
    ops = interpreter._get_ops_details()  # noqa: SLF001 (the debugger reads ops the same way)
    producer = {tensor: op for op in ops for tensor in op["outputs"]}
    checks = [op["inputs"][:2] for op in ops if op["op_name"] == "NumericVerify"]
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    noise, signal = [0.0] * len(checks), [0.0] * len(checks)
    for arrays in sets:
        for detail, array in zip(interpreter.get_input_details(), arrays, strict=True):
            interpreter.set_tensor(detail["index"], array.astype(detail["dtype"]))
        interpreter.invoke()
        for i, (quantized, reference) in enumerate(checks):
            scale, zero = details[quantized]["quantization"]
            got = (interpreter.get_tensor(quantized).astype(np.float64) - zero) * scale
            want = interpreter.get_tensor(reference).astype(np.float64)
            axes = tuple(range(want.ndim - 1))  # channels: the last axis
            noise[i] = noise[i] + ((got - want) ** 2).sum(axis=axes)
            signal[i] = signal[i] + (want**2).sum(axis=axes)
    layers = []
    for i, (quantized, _) in enumerate(checks):
        name = details[quantized]["name"]
        if name not in names and name[:-1] in names:
            name = name[:-1]
        op = producer[quantized]["op_name"] if quantized in producer else "?"
        layers.append({"name": name, "op": op, "error": quantlayers.error(noise[i], signal[i])})
    return layers


def float_shares(model: bytes) -> dict:
    """Share of the layers computing in float, and of the weights stored in float, in a TFLite model."""
    interpreter = _interpreter(model)
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] not in SKIPPED_OPS]  # noqa: SLF001
    details = {d["index"]: d for d in interpreter.get_tensor_details()}
    produced = {t for op in interpreter._get_ops_details() for t in op["outputs"]}  # noqa: SLF001
    graph_inputs = {d["index"] for d in interpreter.get_input_details()}

    def is_float(index):
        return np.dtype(details[index]["dtype"]).kind == "f"

    float_ops = sum(1 for op in ops if any(is_float(t) for t in op["outputs"] if t >= 0))
    weights = {
        t
        for op in ops
        for t in op["inputs"]
        if t >= 0 and t not in produced and t not in graph_inputs
    }
    sizes = {t: int(np.prod(details[t]["shape"])) for t in weights}
    total = sum(sizes.values())
    return {
        "ops": float_ops / len(ops) if ops else 0.0,
        "weights": sum(n for t, n in sizes.items() if is_float(t)) / total if total else 0.0,
    }


def int8_model(calibrated: bytes, sets, judge, patterns: list[str], mixed: bool, events):
    """(model bytes, the report's `quantization` section, seconds of per-layer analysis).

    `judge(model_bytes)` verifies a candidate and returns its verification rows."""
    plain = quantize(calibrated)
    started = time.monotonic()
    layers = layer_errors(calibrated, sets[:ANALYSIS_SAMPLES], tensor_names(plain))
    analysis_seconds = time.monotonic() - started
    quantlayers.log_worst(layers, events)
    names = [layer["name"] for layer in layers]
    manual = quantlayers.resolve(patterns, names)
    if manual:
        events.log(f"Keeping {len(manual)} layer(s) in float: {', '.join(manual)}")
    rounds = None
    if mixed:

        def attempt(kept):
            return judge(quantize(calibrated, kept))

        started = time.monotonic()
        order = quantlayers.order_by_effect(
            [layer["name"] for layer in quantlayers.ranked(layers)], attempt
        )
        events.log(
            f"8bit-mixed: ranked {min(len(order), quantlayers.EFFECT_PROBES)} layer(s) by their "
            f"effect on the output, quantizing one at a time ({time.monotonic() - started:.1f} s)"
        )
        # No reader is added: a reader that quantizes a kept layer's output again is charged for it
        # in its own effect, and adding readers grew the float set (README, measured).
        kept, rounds = quantlayers.search_mixed(order, manual, attempt, events)
    else:
        kept = manual
    model = quantize(calibrated, kept) if kept else plain
    shares = float_shares(model)
    return model, quantlayers.report(layers, kept, shares, rounds), analysis_seconds
