"""Ascend preflight benchmark: how long the checks before ATC take, per model kind.

For each model it times the preflight alone (parse + checks, median of --runs) and the whole
converter with the ATC STAND-IN (tests/converters/atc_stand_in.py) in place of atc, in-process, so the
difference is the cost of starting ATC and reading its output. Goal: the preflight stays well under
a second for models of this size, small next to ATC's own minutes; a 25 MB Caffe model under 100 ms.

    .venv/bin/python benchmarks/ascend_preflight.py [--runs 5]
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def caffe_25mb():
    """A Caffe net of about 25 MB, most of it one InnerProduct of 1024 x 6144 weights."""
    from tests.ascendkit import CaffeNet

    net = CaffeNet("Big", seed=3)
    net.input("data", [1, 3, 32, 32])
    bottom, channels = "data", 3
    for index, width in enumerate((64, 96), start=1):
        net.layer(
            f"conv{index}",
            "Convolution",
            [bottom],
            blobs=[(width, channels, 3, 3), (width,)],
            convolution_param=f"num_output: {width} kernel_size: 3 pad: 1",
        )
        net.layer(f"relu{index}", "ReLU", [f"conv{index}"], top=[f"conv{index}"])
        net.layer(
            f"pool{index}",
            "Pooling",
            [f"conv{index}"],
            pooling_param="pool: MAX kernel_size: 2 stride: 2",
        )
        bottom, channels = f"pool{index}", width
    net.layer(
        "fc1",
        "InnerProduct",
        [bottom],
        blobs=[(1024, 6144), (1024,)],
        inner_product_param="num_output: 1024",
    )
    net.layer(
        "fc2",
        "InnerProduct",
        ["fc1"],
        blobs=[(10, 1024), (10,)],
        inner_product_param="num_output: 10",
    )
    net.layer("prob", "Softmax", ["fc2"])
    return net


def models(folder: Path) -> list[tuple[str, str, Path, dict]]:
    from tests import modelkit
    from tests.ascendkit import lenet, onnx_conv, resnet_block, ssd_head

    lenet().write(folder / "lenet")
    resnet_block(channels=64).write(folder / "resnet")
    caffe_25mb().write(folder / "big")
    ssd_head().write(folder / "ssd")
    modelkit.freeze(modelkit.small_cnn(), folder / "cnn" / "cnn.pb")
    modelkit.freeze(modelkit.mobilenet_v2(), folder / "mnv2" / "mnv2.pb")
    onnx_conv(folder / "onnx" / "net.onnx")
    return [
        ("Caffe LeNet", "caffemodel", folder / "lenet", {}),
        ("Caffe ResNet block (64 ch)", "caffemodel", folder / "resnet", {}),
        ("Caffe 25 MB (conv + 1024x6144 fc)", "caffemodel", folder / "big", {}),
        (
            "Caffe SSD head (rewrite)",
            "caffemodel",
            folder / "ssd",
            {"ssd_detection_output": "rewrite"},
        ),
        ("TF small CNN (frozen)", "frozen_graph", folder / "cnn", {}),
        ("TF MobileNetV2 0.35 (frozen)", "frozen_graph", folder / "mnv2", {}),
        ("ONNX conv", "onnx", folder / "onnx", {}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from conversions.converters.ascend.converter import AscendConverter
    from conversions.converters.base import Events, Job
    from conversions.converters.layout import check_layout
    from conversions.converters.verify import size_of
    from tests.ascendkit import install_atc_stand_in

    work = Path(tempfile.mkdtemp(prefix="ascend-bench-"))
    try:
        os.environ["ATC_PATH"] = str(install_atc_stand_in(work / "cann"))
        rows = []
        for label, model_format, folder, options in models(work / "models"):
            preflight, whole = [], []
            for run in range(args.runs):
                out = work / "jobs" / f"{folder.name}-{run}" / "output"
                job = Job("ascend", str(folder), str(out), "bench", model_format, "ascend", options)
                layout = check_layout(folder, "ascend", model_format)
                (out.parent / "atc").mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                AscendConverter._preflight(job, layout, out.parent / "atc", Events(io.StringIO()))
                preflight.append(time.perf_counter() - started)
                started = time.perf_counter()
                AscendConverter().convert(job, Events(io.StringIO()))
                whole.append(time.perf_counter() - started)
            rows.append(
                (
                    label,
                    size_of(layout.model) + (size_of(layout.weights) if layout.weights else 0),
                    statistics.median(preflight),
                    statistics.median(whole),
                )
            )
        print(f"{'model':36} {'size':>10} {'preflight':>11} {'whole (stand-in atc)':>22}")
        for label, size, pre, whole in rows:
            print(f"{label:36} {size / 1e6:>8.2f}MB {pre * 1000:>9.1f}ms {whole * 1000:>20.1f}ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
