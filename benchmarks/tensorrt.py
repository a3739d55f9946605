"""TensorRT engines for MobileNetV2 (alpha 0.35, 96x96, random weights, logits), built on this CPU.

Per precision: ONNX export time (tf2onnx), precision time (fp16 rewrite / int8 calibration on the
calibration samples not held out for verification), the ONNX Runtime check, the TensorRT-RTX build
and the engine size; then the build time and engine size against the number of target compute
capabilities.

    .venv/bin/python benchmarks/tensorrt.py
"""

import io
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversions.converters.base import Events, Job  # noqa: E402
from conversions.converters.tensorrt import builders  # noqa: E402
from conversions.converters.tensorrt.converter import TensorRTConverter  # noqa: E402
from tests import modelkit  # noqa: E402

SAMPLES = 32


def prepare(root: Path) -> tuple[str, str]:
    # Keras-initialized MobileNetV2 gives near-zero logits that any precision matches: batch norm set
    # from a batch of images and logits as the output make the parity figures mean something.
    model = modelkit.mobilenet_v2(logits=True, calibrate_bn=True)
    inp, out = modelkit.freeze(model, root / "model" / "mobilenet_v2.pb")
    data = np.random.default_rng(0).uniform(-1, 1, size=(SAMPLES, 96, 96, 3)).astype(np.float32)
    (root / "calibration_data").mkdir()
    np.save(root / "calibration_data" / "samples.npy", data)
    return inp.split(":")[0], out.split(":")[0]


def convert(root: Path, out: Path, names, **options) -> dict:
    options = {"input_tensor_names": names[0], "output_tensor_names": names[1], **options}
    job = Job("tensorrt", str(root), str(out), "mnv2", "frozen_graph", "gpu", options, seed=1)
    return TensorRTConverter().convert(job, Events(io.StringIO()))


def build_anyway(out: Path, report: dict, timings: dict) -> None:
    onnx_path = out / report["artifacts"]["onnx"]
    engine = out / "model" / "mnv2.engine"
    built = builders.build(onnx_path, engine, builders.Plan(builders.RTX), Events(io.StringIO()))
    timings["engine_build_s"] = built["build_seconds"]
    report["output_size_bytes"] = engine.stat().st_size


def figure(value, spec: str) -> str:
    """A report figure for the table; the strict report writes NaN and Inf as null."""
    return "n/a" if value is None else format(value, spec)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-trt-"))
    try:
        root = work / "in"
        names = prepare(root)
        pb_size = (root / "model/mobilenet_v2.pb").stat().st_size
        print(f"MobileNetV2 alpha 0.35, 96x96: frozen graph {pb_size / 1e6:.2f} MB, TensorRT-RTX, ")
        print(f"target GPUs SM80,SM86,SM89,SM120, {SAMPLES} calibration samples\n")
        header = (
            f"{'precision':<10}{'export s':>10}{'precision s':>13}{'ORT check s':>13}"
            f"{'build s':>10}{'ONNX MB':>10}{'engine MB':>11}{'max abs err':>13}{'cosine':>10}"
            f"{'verdict':>9}"
        )
        print(header)
        print("-" * len(header))
        sources = set()
        for precision in ("32bit", "16bit", "8bit"):
            report = convert(root, work / precision, names, quantization_precision=precision)
            t, row = report["timings"], report["verification"]["outputs"][0]
            sources.add(f"{precision}: {report['verification'].get('source') or '?'}")
            verdict = report["verification"]["verdict"]
            if "engine_build_s" not in t:  # the task stops before the build; measure it anyway
                build_anyway(work / precision, report, t)
                verdict += "*"
            print(
                f"{precision:<10}{t['export_s']:>10.2f}{t.get('precision_s', 0):>13.2f}"
                f"{t['onnx_check_s']:>13.2f}{t['engine_build_s']:>10.2f}"
                f"{report['onnx_size_bytes'] / 1e6:>10.2f}{report['output_size_bytes'] / 1e6:>11.2f}"
                f"{figure(row['max_abs_error'], '.2e'):>13}"
                f"{figure(row['cosine_similarity'], '.5f'):>10}"
                f"{verdict:>9}"
            )
        print(
            "* the task fails verification and builds no engine; the benchmark builds it to measure"
        )
        print(f"verification: {', '.join(sorted(sources))}")
        print(f"\n{'16bit, target GPUs':<34}{'build s':>10}{'engine MB':>11}")
        for targets in ("SM86", "SM80,SM86,SM89,SM120", "SM75,SM80,SM86,SM89,SM120,SM121"):
            report = convert(
                root, work / targets, names, quantization_precision="16bit", target_gpus=targets
            )
            print(
                f"{targets:<34}{report['timings']['engine_build_s']:>10.2f}"
                f"{report['output_size_bytes'] / 1e6:>11.2f}"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
