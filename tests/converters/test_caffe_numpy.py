"""The NumPy reference forward pass of Caffe nets (caffe_numpy), checked layer by layer against
computations written differently: SciPy's correlate for convolutions, Caffe's own loops written out
for pooling, deconvolution and LRN, plain formulas for the rest."""

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import correlate

from conversions.converters.ascend.caffe import check_caffe
from conversions.converters.ascend.caffe_numpy import (
    ReferenceError,
    forward,
    load_weights,
    prepare,
)
from conversions.converters.ascend.caffe_schema import parse_caffemodel, parse_prototxt
from tests.ascendkit import CaffeNet, resnet_block
from tests.converters.test_caffe_onnx import positive

RNG = np.random.default_rng(7)


def run(net: CaffeNet, inputs: dict) -> dict:
    return forward(net.net, load_weights(net.net), inputs)


def blobs(net: CaffeNet, name: str) -> list[np.ndarray]:
    layer = next(layer for layer in net.net.layer if layer.name == name)
    return [np.asarray(b.data, np.float32).reshape(list(b.shape.dim)) for b in layer.blobs]


def single(kind, shape, blob_shapes=(), bottoms=1, tops=None, **params):
    net = CaffeNet("t", seed=3)
    names = [f"in{i}" for i in range(bottoms)]
    inputs = {name: RNG.standard_normal(shape).astype(np.float32) for name in names}
    for name in names:
        net.input(name, shape)
    net.layer("x", kind, names, top=tops, blobs=blob_shapes, **params)
    return net, inputs, run(net, inputs)


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_grouped_dilated_strided_convolution_matches_scipy():
    param = "num_output: 4 kernel_size: 3 stride: 2 pad: 1 dilation: 2 group: 2"
    net, inputs, out = single(
        "Convolution", [1, 6, 9, 9], [(4, 3, 3, 3), (4,)], convolution_param=param
    )
    weights, bias = blobs(net, "x")
    x = np.pad(inputs["in0"][0], ((0, 0), (1, 1), (1, 1))).astype(np.float64)
    dilated = np.zeros((4, 3, 5, 5))
    dilated[:, :, ::2, ::2] = weights
    expected = np.stack(
        [
            sum(correlate(x[3 * (o // 2) + c], dilated[o, c], mode="valid") for c in range(3))[
                ::2, ::2
            ]
            + bias[o]
            for o in range(4)
        ]
    )
    assert out["x"].shape == (1, 4, 4, 4)
    close(out["x"][0], expected)


def test_deconvolution_matches_caffes_scatter_loop():
    param = "num_output: 2 kernel_size: 3 stride: 2 pad: 1"
    net, inputs, out = single(
        "Deconvolution", [1, 3, 4, 4], [(3, 2, 3, 3), (2,)], convolution_param=param
    )
    weights, bias = blobs(net, "x")
    x = inputs["in0"][0]
    full = np.zeros((2, 2 * 3 + 3, 2 * 3 + 3))
    for c in range(3):
        for i in range(4):
            for j in range(4):
                for o in range(2):
                    full[o, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3] += x[c, i, j] * weights[c, o]
    expected = full[:, 1:-1, 1:-1] + bias.reshape(2, 1, 1)
    assert out["x"].shape == (1, 2, 7, 7)
    close(out["x"][0], expected)


def caffe_pooling(x, method, kernel, stride, pad, out):
    """Caffe's PoolingLayer::Forward_cpu, loop for loop."""
    c, h, w = x.shape
    y = np.zeros((c, out, out))
    for ph in range(out):
        for pw in range(out):
            hstart, wstart = ph * stride - pad, pw * stride - pad
            hend, wend = min(hstart + kernel, h + pad), min(wstart + kernel, w + pad)
            size = (hend - hstart) * (wend - wstart)
            hstart, wstart, hend, wend = max(hstart, 0), max(wstart, 0), min(hend, h), min(wend, w)
            window = x[:, hstart:hend, wstart:wend]
            y[:, ph, pw] = window.max(axis=(1, 2)) if method == "MAX" else window.sum((1, 2)) / size
    return y


@pytest.mark.parametrize("method", ["MAX", "AVE"])
@pytest.mark.parametrize("size, kernel, stride, pad", [(7, 3, 2, 1), (5, 2, 2, 1), (8, 3, 2, 0)])
def test_pooling_matches_caffes_loops(method, size, kernel, stride, pad):
    param = f"pool: {method} kernel_size: {kernel} stride: {stride} pad: {pad}"
    _, inputs, out = single("Pooling", [1, 3, size, size], pooling_param=param)
    result = out["x"][0]
    close(result, caffe_pooling(inputs["in0"][0], method, kernel, stride, pad, result.shape[1]))


def test_lrn_across_channels_matches_the_formula():
    _, inputs, out = single(
        "LRN", [1, 7, 3, 3], lrn_param="local_size: 5 alpha: 0.1 beta: 0.75 k: 2"
    )
    x = inputs["in0"][0].astype(np.float64)
    expected = np.empty_like(x)
    for c in range(7):
        window = x[max(c - 2, 0) : c + 3] ** 2
        expected[c] = x[c] / (2 + 0.1 / 5 * window.sum(axis=0)) ** 0.75
    close(out["x"][0], expected)


def test_inner_product_batch_norm_scale_and_activations():
    net, inputs, out = single(
        "InnerProduct", [1, 2, 3, 2], [(5, 12), (5,)], inner_product_param="num_output: 5"
    )
    weights, bias = blobs(net, "x")
    close(out["x"], inputs["in0"].reshape(1, 12) @ weights.T + bias)

    net, inputs, out = single(
        "BatchNorm", [1, 3, 2, 2], [(3,), (3,), (1,)], batch_norm_param="eps: 0.001"
    )
    mean, var, factor = blobs(net, "x")
    var, factor = np.abs(var), np.abs(factor) + 0.5  # a variance and a count are positive
    for blob, values in zip(net.net.layer[-1].blobs[1:], (var, factor), strict=True):
        blob.ClearField("data")
        blob.data.extend(values)
    out = run(net, inputs)
    m, v = mean / factor[0], var / factor[0]
    close(out["x"][0], (inputs["in0"][0] - m[:, None, None]) / np.sqrt(v[:, None, None] + 1e-3))

    net, inputs, out = single("Scale", [1, 3, 2, 2], [(3,), (3,)], scale_param="bias_term: true")
    scale, shift = blobs(net, "x")
    close(out["x"][0], inputs["in0"][0] * scale[:, None, None] + shift[:, None, None])

    net, inputs, out = single("PReLU", [1, 3, 2, 2], [(3,)])
    (slope,) = blobs(net, "x")
    x = inputs["in0"][0]
    close(out["x"][0], np.maximum(x, 0) + slope[:, None, None] * np.minimum(x, 0))

    _, inputs, out = single("ReLU", [1, 4], relu_param="negative_slope: 0.1")
    close(out["x"], np.maximum(inputs["in0"], 0.1 * inputs["in0"]))
    _, inputs, out = single("Sigmoid", [1, 4])
    close(out["x"], 1 / (1 + np.exp(-inputs["in0"])))
    _, inputs, out = single("Power", [1, 4], power_param="power: 2 scale: 0.5 shift: 1")
    close(out["x"], (1 + 0.5 * inputs["in0"]) ** 2)
    _, inputs, out = single("Softmax", [2, 5])
    close(out["x"], np.exp(inputs["in0"]) / np.exp(inputs["in0"]).sum(axis=1, keepdims=True))


def test_blob_plumbing_layers():
    shape = [1, 4, 3, 2]
    _, inputs, out = single("Eltwise", shape, bottoms=2, eltwise_param="coeff: 1 coeff: -2")
    close(out["x"], inputs["in0"] - 2 * inputs["in1"])
    _, inputs, out = single("Eltwise", shape, bottoms=2, eltwise_param="operation: MAX")
    close(out["x"], np.maximum(inputs["in0"], inputs["in1"]))
    _, inputs, out = single("Concat", shape, bottoms=2, concat_param="axis: 2")
    close(out["x"], np.concatenate([inputs["in0"], inputs["in1"]], axis=2))
    _, inputs, out = single("Permute", shape, permute_param="order: 0 order: 2 order: 3 order: 1")
    close(out["x"], np.moveaxis(inputs["in0"], 1, 3))
    _, inputs, out = single("Flatten", shape)
    close(out["x"], inputs["in0"].reshape(1, 24))
    _, inputs, out = single("Slice", shape, tops=["a", "b"], slice_param="slice_point: 1")
    close(out["a"], inputs["in0"][:, :1])
    close(out["b"], inputs["in0"][:, 1:])
    net, inputs, out = single(
        "Normalize", shape, [(4,)], norm_param="across_spatial: false channel_shared: false"
    )
    (scale,) = blobs(net, "x")
    x = inputs["in0"][0]
    close(out["x"][0], x / np.sqrt((x**2).sum(axis=0) + 1e-10) * scale[:, None, None])


def test_a_whole_net_runs_from_its_files(tmp_path):
    net = CaffeNet("small", seed=5)
    net.input("data", [1, 2, 6, 6])
    net.layer(
        "conv", "Convolution", ["data"], blobs=[(3, 2, 3, 3), (3,)],
        convolution_param="num_output: 3 kernel_size: 3 pad: 1",
    )  # fmt: skip
    net.layer("relu", "ReLU", ["conv"], top=["conv"])
    net.layer("pool", "Pooling", ["conv"], pooling_param="pool: AVE global_pooling: true")
    net.layer(
        "fc", "InnerProduct", ["pool"], blobs=[(4, 3), (4,)], inner_product_param="num_output: 4"
    )
    net.layer("prob", "Softmax", ["fc"])
    prototxt, caffemodel = net.write(tmp_path)
    check_caffe(prototxt, caffemodel)
    x = RNG.standard_normal((1, 2, 6, 6)).astype(np.float32)
    out = forward(
        parse_prototxt(prototxt)[0], load_weights(parse_caffemodel(caffemodel)), {"data": x}
    )
    weights, bias = blobs(net, "conv")
    padded = np.pad(x[0], ((0, 0), (1, 1), (1, 1))).astype(np.float64)
    conv = np.stack(
        [
            sum(correlate(padded[c], weights[o, c], mode="valid") for c in range(2)) + bias[o]
            for o in range(3)
        ]
    )
    pooled = np.maximum(conv, 0).mean(axis=(1, 2))
    fc_w, fc_b = blobs(net, "fc")
    logits = fc_w @ pooled + fc_b
    close(out["prob"][0], np.exp(logits) / np.exp(logits).sum())


def test_a_layer_outside_the_set_is_refused_by_name():
    net = CaffeNet("t")
    net.input("data", [1, 3])
    net.layer("odd", "MyFancyLayer", ["data"])
    with pytest.raises(ReferenceError) as info:
        run(net, {"data": np.zeros((1, 3), np.float32)})
    assert str(info.value).startswith(
        "Layer 'odd' is a MyFancyLayer layer, which the Caffe reference does not compute; it "
        "computes: AbsVal, BatchNorm, Bias,"
    )


def test_two_input_scale_and_bias_take_their_second_input_along_axis():
    net = CaffeNet("t", seed=3)
    net.input("x", [2, 3, 4, 5])
    net.input("by_sample", [2, 3])
    net.input("by_row", [3, 4])
    net.layer("a", "Scale", ["x", "by_sample"], scale_param="axis: 0 num_axes: 3")
    net.layer("b", "Scale", ["a", "by_row"], blobs=[(3, 4)], scale_param="axis: 1 bias_term: true")
    net.layer("c", "Bias", ["b", "by_sample"], bias_param="axis: 0")
    inputs = {
        "x": RNG.standard_normal((2, 3, 4, 5)).astype(np.float32),
        "by_sample": RNG.standard_normal((2, 3)).astype(np.float32),
        "by_row": RNG.standard_normal((3, 4)).astype(np.float32),
    }
    out = run(net, inputs)
    (bias,) = blobs(net, "b")
    a = inputs["x"] * inputs["by_sample"][:, :, None, None]  # num_axes is ignored with two inputs
    close(out["a"], a)
    b = a * inputs["by_row"][None, :, :, None] + bias[None, :, :, None]
    close(out["b"], b)
    close(out["c"], b + inputs["by_sample"][:, :, None, None])


def conv64(x, weights, pad):
    """A convolution in float64, written as a sum over windows (stride 1)."""
    k = weights.shape[-1]
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # N, C, H, W, k, k
    return np.einsum("nchwij,ocij->nohw", windows, weights.astype(np.float64))


def test_a_resnet_block_folded_and_fused_stays_within_float64_rounding():
    """The plan folds BatchNorm and Scale into the convolutions, runs the ReLUs in place and sums
    in float32 BLAS: against the block computed in float64 layer by layer, it differs by float32
    rounding (~1e-6 of the output's scale), far below the 1e-4 the 32bit verification allows."""
    net = resnet_block()
    for layer in net.net.layer:
        if layer.type == "BatchNorm":
            positive(layer, 1, 2)
    x = RNG.uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
    plan = prepare(net.net, load_weights(net.net), {"data": [1, 3, 32, 32]})
    assert [step[0].type for step in plan.steps] == ["Convolution"] * 3 + ["Eltwise", "Pooling"]
    out = plan.run({"data": x})

    def conv_bn(name, bottom, pad):
        (weights,) = blobs(net, name)
        mean, variance, factor = blobs(net, f"bn_{name}")
        scale, shift = blobs(net, f"scale_{name}")
        y = conv64(bottom, weights, pad)
        y = (y - _per_channel(mean / factor[0])) / np.sqrt(
            _per_channel(variance / factor[0]) + 1e-5
        )
        return y * _per_channel(scale) + _per_channel(shift)

    branch = np.maximum(conv_bn("res2a_branch2a", x, 1), 0)
    expected = np.maximum(conv_bn("res2a_branch1", x, 0) + conv_bn("res2a_branch2b", branch, 1), 0)
    scale = np.abs(expected).max()
    assert np.abs(out["res2a"] - expected).max() / scale < 1e-5
    assert np.abs(out["pool"] - expected.mean(axis=(2, 3), keepdims=True)).max() / scale < 1e-5


def _per_channel(values):
    return values.astype(np.float64).reshape(1, -1, 1, 1)


def test_a_blob_read_before_the_next_layer_writes_it_is_not_fused():
    net = CaffeNet("t", seed=3)
    net.input("data", [1, 2, 5, 5])
    net.layer(
        "conv", "Convolution", ["data"], blobs=[(3, 2, 3, 3)],
        convolution_param="num_output: 3 kernel_size: 3 bias_term: false",
    )  # fmt: skip
    net.layer("scaled", "Scale", ["conv"], blobs=[(3,)])  # a new blob: conv is kept as it is
    net.layer("relu", "ReLU", ["scaled"], ["scaled"])
    net.layer("copy", "Split", ["conv"], ["c1", "c2"])
    net.layer("relu2", "ReLU", ["c1"], ["c1"])  # in place on a blob c2 shares: not fused
    x = RNG.standard_normal((1, 2, 5, 5)).astype(np.float32)
    out = run(net, {"data": x})
    (weights,), (scale,) = blobs(net, "conv"), blobs(net, "scaled")
    conv = conv64(x, weights, 0)
    close(out["conv"], conv)
    close(out["scaled"], np.maximum(conv * _per_channel(scale), 0))
    close(out["c1"], np.maximum(conv, 0))
    close(out["c2"], conv)


@pytest.mark.parametrize("group, bias", [(1, True), (1, False), (2, False)])
def test_a_batch_through_a_folded_grouped_convolution_and_a_leaky_relu(group, bias):
    net = CaffeNet("t", seed=2)
    net.input("data", [2, 4, 7, 7])
    net.layer(
        "conv", "Convolution", ["data"], blobs=[(6, 4 // group, 3, 3)] + [(6,)] * bias,
        convolution_param=f"num_output: 6 kernel_size: 3 stride: 2 pad: 1 group: {group} "
        f"bias_term: {str(bias).lower()}",
    )  # fmt: skip
    positive(net.layer("bn", "BatchNorm", ["conv"], ["conv"], blobs=[(6,), (6,), (1,)]), 1, 2)
    net.layer("relu", "ReLU", ["conv"], ["conv"], relu_param="negative_slope: 0.2")
    x = RNG.standard_normal((2, 4, 7, 7)).astype(np.float32)
    out = run(net, {"data": x})["conv"]
    weights, *shift = blobs(net, "conv")
    mean, variance, factor = blobs(net, "bn")
    per_group = 6 // group
    conv = np.stack(
        [
            np.concatenate(
                [
                    conv64(sample[None, g * (4 // group) : (g + 1) * (4 // group)],
                           weights[g * per_group : (g + 1) * per_group], 1)[0, :, ::2, ::2]
                    for g in range(group)
                ]
            )
            for sample in x
        ]
    )  # fmt: skip
    conv += _per_channel(shift[0] if bias else np.zeros(6))
    normed = (conv - _per_channel(mean / factor[0])) / np.sqrt(
        _per_channel(variance / factor[0]) + 1e-5
    )
    assert out.shape == (2, 6, 4, 4)
    close(out, np.where(normed > 0, normed, 0.2 * normed))
