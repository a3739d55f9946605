"""Caffe reference benchmark: the NumPy forward pass (caffe_numpy) against ONNX Runtime, one net.

Every Caffe task is verified against the NumPy reference, so it runs once per verification sample
next to the converted model. For each network it builds the Caffe files (seeded weights), converts
them with caffe/onnx_export, and times one sample of each (median of --runs, interleaved, after a
warm-up): the reference's planned pass (shapes and weights prepared once per input shape, as
verification runs it) and ONNX Runtime on the CPU with its default threads and with one. Goal
(issue 18): the reference within 3x of ONNX Runtime, judged against ORT on one thread, as the
reference runs (one BLAS thread, see caffe_numpy); ORT's default threads use every core. On a
shared machine the medians move with the load from elsewhere, so the last ratio is of the best
runs of each (min). It also prints the largest difference between the two (divided by
max(1, largest output value), as the 32bit verification judges it: pass at 1e-4 or less).

    .venv/bin/python benchmarks/caffe_reference.py [--runs 20]
"""

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def residual_net(size: int = 112):
    """A ResNet-style classifier: conv-BN-Scale-ReLU stem, max pool, four residual blocks (two with
    stride 2 and a projection), global average pooling and an InnerProduct (logits: a softmax of
    random weights saturates)."""
    import numpy as np

    from tests.ascendkit import CaffeNet
    from tests.converters.test_caffe_onnx import positive

    net = CaffeNet("ResNetish", seed=5)
    net.input("data", [1, 3, size, size])

    def conv_bn(name, bottom, channels, width, kernel, stride, relu=True):
        pad = kernel // 2
        net.layer(
            name, "Convolution", [bottom], blobs=[(width, channels, kernel, kernel)],
            convolution_param=(
                f"num_output: {width} kernel_size: {kernel} stride: {stride} pad: {pad} "
                "bias_term: false"
            ),
        )  # fmt: skip
        weights = net.net.layer[-1].blobs[0]  # He scaling keeps the activations near 1
        scaled = np.asarray(weights.data, np.float32) * np.sqrt(2 / (channels * kernel * kernel))
        weights.ClearField("data")
        weights.data.extend(scaled)
        bn = net.layer(f"{name}_bn", "BatchNorm", [name], [name], blobs=[(width,), (width,), (1,)])
        positive(bn, 1, 2)
        net.layer(
            f"{name}_sc",
            "Scale",
            [name],
            [name],
            [(width,), (width,)],
            scale_param="bias_term: true",
        )
        if relu:
            net.layer(f"{name}_relu", "ReLU", [name], [name])
        return name

    top = conv_bn("conv1", "data", 3, 32, 7, 2)
    net.layer("pool1", "Pooling", [top], pooling_param="pool: MAX kernel_size: 3 stride: 2")
    bottom, channels = "pool1", 32
    for index, (width, stride) in enumerate(((32, 1), (64, 2), (64, 1), (128, 2)), start=1):
        a = conv_bn(f"b{index}a", bottom, channels, width, 3, stride)
        b = conv_bn(f"b{index}b", a, width, width, 3, 1, relu=False)
        shortcut = bottom
        if stride != 1 or width != channels:
            shortcut = conv_bn(f"b{index}p", bottom, channels, width, 1, stride, relu=False)
        net.layer(f"b{index}", "Eltwise", [b, shortcut])
        net.layer(f"b{index}_relu", "ReLU", [f"b{index}"], [f"b{index}"])
        bottom, channels = f"b{index}", width
    net.layer("gap", "Pooling", [bottom], pooling_param="pool: AVE global_pooling: true")
    net.layer(
        "fc",
        "InnerProduct",
        ["gap"],
        blobs=[(100, channels), (100,)],
        inner_product_param="num_output: 100",
    )
    return net


def networks():
    from tests.converters.test_caffe_onnx import every_layer

    return [
        ("every supported layer, 3x12x12", every_layer()),
        ("ResNet-style, 3x112x112", residual_net()),
    ]


def times_ms(fns, runs: int) -> list[list[float]]:
    """Every run's time of each function, the runs interleaved so that load from elsewhere hits
    all."""
    times = [[] for _ in fns]
    for fn in fns:
        fn()  # warm-up
    for _ in range(runs):
        for fn, spent in zip(fns, times, strict=True):
            started = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - started)
    return [[t * 1000 for t in spent] for spent in times]


def session(path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    # idle ORT threads spin for a while after a run, taking the cores from NumPy
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def main() -> None:
    import numpy as np
    import onnx

    from conversions.converters.ascend.caffe_numpy import forward, prepare
    from conversions.converters.caffe.onnx_export import read_caffe, to_onnx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    header = (
        f"{'network':32} {'NumPy ms':>9} {'ORT ms':>7} {'ratio':>6} {'ORT 1T ms':>9} {'ratio':>6}"
    )
    print(header + f" {'min ratio 1T':>12} {'max error':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for index, (title, net) in enumerate(networks()):
            folder = Path(scratch) / str(index)
            model = read_caffe(*net.write(folder))
            path = folder / "net.onnx"
            onnx.save(to_onnx(model), str(path))
            default, single = session(path, 0), session(path, 1)
            rng = np.random.default_rng(0)
            feed = {s.name: rng.uniform(-1, 1, s.shape).astype(np.float32) for s in model.inputs}
            # Verification plans the pass once per input shape and runs it per sample: time a run.
            plan = prepare(model.net, model.weights, {k: list(a.shape) for k, a in feed.items()})
            timed = times_ms(
                [
                    partial(plan.run, feed),
                    partial(default.run, None, feed),
                    partial(single.run, None, feed),
                ],
                runs,
            )
            numpy_ms, ort_ms, single_ms = (statistics.median(spent) for spent in timed)
            best_ratio = min(timed[0]) / min(timed[2])
            blobs = forward(model.net, model.weights, feed)
            got = default.run(None, feed)
            diff = max(  # relative to the output's scale, as verification judges it
                float(np.abs(blobs[n] - g).max() / max(1.0, np.abs(blobs[n]).max()))
                for n, g in zip(model.outputs, got, strict=True)
            )
            print(
                f"{title:32} {numpy_ms:9.2f} {ort_ms:7.2f} {numpy_ms / ort_ms:6.2f} "
                f"{single_ms:9.2f} {numpy_ms / single_ms:6.2f} {best_ratio:12.2f} {diff:9.2e}"
            )


if __name__ == "__main__":
    main()
