"""Verification alone: the original and the converted model on the verification inputs, in batches
and one sample at a time (conversions/converters/batching.py), MobileNetV2 (alpha 0.35, 96x96).

For the reference (the frozen graph in TensorFlow, imported once and its session kept, as a task
does) and the converted TFLite model (32bit and 8bit), it prints the median seconds of `--runs`
runs over `--samples` inputs each way, and the largest difference between the two ways' outputs.

    .venv/bin/python benchmarks/verification.py [--runs 5] [--samples 32]
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(function, runs: int):
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args()

    import numpy as np
    import tensorflow as tf

    from conversions.converters import batching, tfgraph, tflite_quant
    from conversions.converters.tflite_run import run_tflite
    from conversions.converters.tfsource import (
        TFModel,
        placeholder_specs,
        run_graph,
        tflite_converter,
    )
    from tests import modelkit

    folder = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    modelkit.freeze(modelkit.mobilenet_v2(logits=True, calibrate_bn=True), folder / "mnv2.pb")
    graph_def = tfgraph.read_frozen_graph(folder / "mnv2.pb")
    model = TFModel(graph_def, placeholder_specs(graph_def, "input"), ["Identity:0"])
    rng = np.random.default_rng(0)
    sets = [[rng.uniform(-1, 1, (1, 96, 96, 3)).astype(np.float32)] for _ in range(args.samples)]

    models = {"32bit": tflite_converter(tf, model).convert()}
    calibrated = tflite_quant.calibrate(tflite_converter(tf, model), tf, sets, 8)
    models["8bit"] = tflite_quant.quantize(calibrated)

    model.run(sets[0])  # the graph imported and its session's first run: a task pays it once
    rows = []
    single_s, single = timed(lambda: batching.one_by_one(model.run, sets), args.runs)
    batched_s, batched = timed(lambda: run_graph(model, sets), args.runs)
    rows.append(("reference (TensorFlow)", single_s, batched_s, single, batched))
    for precision, content in models.items():
        path = folder / f"mnv2-{precision}.tflite"
        path.write_bytes(content)
        single_s, (single, _) = timed(lambda path=path: run_tflite(path, sets), args.runs)
        batched_s, (batched, _) = timed(
            lambda path=path: run_tflite(path, sets, batching.Batches("x", None)), args.runs
        )
        rows.append((f"TFLite {precision}", single_s, batched_s, single, batched))

    print(f"\nMobileNetV2 alpha 0.35 96x96, {args.samples} samples, medians of {args.runs} runs\n")
    print("| model | one at a time s | batched s | batched / one at a time | max abs difference |")
    print("|---|---|---|---|---|")
    for name, single_s, batched_s, single, batched in rows:
        difference = max(float(np.abs(a - b).max()) for a, b in zip(single, batched, strict=True))
        print(
            f"| {name} | {single_s:.3f} | {batched_s:.3f} | {batched_s / single_s:.2f} "
            f"| {difference:.2g} |"
        )


if __name__ == "__main__":
    main()
