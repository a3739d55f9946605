"""TFLite per precision: size, worst-sample cosine, top-1 accuracy drop, ops kept float, time.

Three models built here: MobileNetV2 (alpha 0.35, 96x96, random weights, batch norm set from a batch
of images, logits), a small CNN trained on the tests' generated 8x8 glyphs (modelkit.glyphs, 10
classes; calibration on 64 training images, verification and accuracy on the 360 held-out ones), and the CNN with
outlier channels of the tests. "analysis s" is the per-layer analysis inside the 8bit conversions,
"x" the factor it adds to the conversion time. 8bit-mixed's "convert s" includes its search: one model
per layer to rank the layers by their effect on the output, then the rounds.

"input on int8's grid" runs the float model on its inputs rounded to the int8 input's step: a model
with int8 inputs (8bit, 8bit-mixed) cannot verify better than that, whatever stays float.

    .venv/bin/python benchmarks/quantization.py
"""

import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversions.converters.base import Events, Job  # noqa: E402
from conversions.converters.tflite import TFLiteConverter  # noqa: E402
from conversions.converters.tflite_run import run_tflite  # noqa: E402
from tests import modelkit  # noqa: E402

PRECISIONS = ("32bit", "16bit", "8bit-dynamic", "8bit", "16x8", "8bit-mixed")


def digits_model(root: Path):
    """A small CNN trained on modelkit's 8x8 glyphs; returns held-out (images, labels)."""
    tf, keras = modelkit._keras()
    keras.utils.set_random_seed(0)
    images, labels = modelkit.glyphs()
    images = images[..., None]
    train_x, test_x, train_y, test_y = images[:-360], images[-360:], labels[:-360], labels[-360:]
    inputs = keras.Input(shape=(8, 8, 1), name="input")
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    model = keras.Model(inputs, keras.layers.Dense(10, name="logits")(x))
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(train_x, train_y, epochs=15, batch_size=32, verbose=0)
    modelkit.freeze(model, root / "model/digits.pb")
    (root / "calibration_data").mkdir(parents=True)
    np.save(root / "calibration_data/train.npy", train_x[:64])
    return test_x, test_y


def random_model(root: Path, model, shape, count=32):
    modelkit.freeze(model, root / "model/net.pb")
    (root / "calibration_data").mkdir(parents=True)
    data = np.random.default_rng(0).uniform(-1, 1, size=(count, *shape)).astype(np.float32)
    np.save(root / "calibration_data/samples.npy", data)
    return data, None


def convert(root: Path, out: Path, precision: str) -> dict:
    options = {
        "input_tensor_names": "input",
        "output_tensor_names": "Identity",
        "quantization_precision": precision,
        "batch_size": 8,
    }
    job = Job("tflite", str(root), str(out), "net", "frozen_graph", "arm", options, seed=1)
    return TFLiteConverter().convert(job, Events(io.StringIO()))


def worst_cosine(reference: np.ndarray, converted: np.ndarray) -> float:
    ref, got = reference.reshape(len(reference), -1), converted.reshape(len(converted), -1)
    norms = np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1)
    return float(((ref * got).sum(axis=1) / np.maximum(norms, 1e-30)).min())


def table(title: str, root: Path, work: Path, inputs: np.ndarray, labels) -> None:
    pb = next((root / "model").glob("*.pb"))
    print(
        f"\n{title}: frozen graph {pb.stat().st_size / 1e6:.2f} MB, {len(inputs)} verification samples"
    )
    reference = modelkit.reference_outputs(pb, "input:0", "Identity:0", inputs)
    low, scale = inputs.min(), (inputs.max() - inputs.min()) / 255  # int8: 256 steps over the range
    rounded = (np.round((inputs - low) / scale) * scale + low).astype(np.float32)
    floor = worst_cosine(
        reference, modelkit.reference_outputs(pb, "input:0", "Identity:0", rounded)
    )
    print(f"float model, input on int8's grid: worst cos {floor:.5f}")
    header = (
        f"{'precision':<13}{'size':>7}{'worst cos':>11}{'top-1 drop':>12}{'ops float':>11}"
        f"{'convert s':>11}{'analysis s':>12}{'x':>6}{'verdict':>9}"
    )
    print(header)
    print("-" * len(header))
    base_size = None
    for precision in PRECISIONS:
        out = work / f"{pb.stem}-{precision}"
        report = convert(root, out, precision)
        converted, _ = run_tflite(out / "model/net.tflite", [[x[None]] for x in inputs])
        converted = converted[0]
        size = report["output_size_bytes"]
        base_size = base_size or size
        drop = "-"
        if labels is not None:
            accuracy = lambda outputs: float((outputs.argmax(axis=1) == labels).mean())  # noqa: E731
            drop = f"{100 * (accuracy(reference) - accuracy(converted)):.2f} pt"
        section = report.get("quantization") or {}
        timings = report["timings"]
        analysis = timings.get("layer_analysis_s")
        share = section.get("float_op_share")
        factor = (
            f"{timings['conversion_s'] / (timings['conversion_s'] - analysis):.2f}"
            if analysis
            else "-"
        )
        print(
            f"{precision:<13}{size / base_size:>7.3f}{worst_cosine(reference, converted):>11.5f}"
            f"{drop:>12}{'-' if share is None else f'{share:.1%}':>11}"
            f"{timings['conversion_s']:>11.2f}{'-' if analysis is None else f'{analysis:.2f}':>12}"
            f"{factor:>6}{report['verification']['verdict']:>9}"
        )
        if precision == "8bit-mixed":
            print(
                f"  8bit-mixed kept {len(section['kept_float'])} layer(s) float, rounds: "
                + ", ".join(f"{r['kept']}->{r['verdict']}" for r in section["rounds"])
            )


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-quant-"))
    try:
        mobilenet = modelkit.mobilenet_v2(logits=True, calibrate_bn=True)
        inputs, _ = random_model(work / "mobilenet", mobilenet, (96, 96, 3))
        table(
            "MobileNetV2 0.35 96x96, realistic activations", work / "mobilenet", work, inputs, None
        )
        test_x, test_y = digits_model(work / "digits")
        table("Glyphs CNN (modelkit.glyphs, trained here)", work / "digits", work, test_x, test_y)
        inputs, _ = random_model(work / "outlier", modelkit.outlier_cnn(), (16, 16, 3))
        table(
            "CNN with outlier channels (tests/modelkit.outlier_cnn)",
            work / "outlier",
            work,
            inputs,
            None,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
