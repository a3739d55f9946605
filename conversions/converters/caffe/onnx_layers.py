"""Caffe layers as ONNX nodes: one rule per layer type, each computing what Caffe computes.

A rule gets a Builder (which names tensors and holds the initializers), the layer, its input tensor
names and shapes, its weight blobs in the shapes the layer needs, and its output shapes (from
caffe_shapes); it returns the names of the tensors that hold its tops. Shapes are static, so
Flatten and Reshape become a Reshape to the inferred shape. Where Caffe and ONNX differ the rule
says so: pooling rounds up and clips its last window (explicit pads), average pooling divides by the
window clipped to the padded image (an explicit Pad, then count_include_pad=0), LRN within a channel
is built from its formula.

Django-free; needs onnx (helper, numpy_helper) only when a model is built.
"""

import numpy as np

from conversions.converters.ascend.caffe_shapes import (
    ShapeError,
    canonical_axis,
    conv_geometry,
    permute_order,
    pooling_window,
    slice_points,
)


class Builder:
    """The nodes and initializers of the graph being built, with unique tensor names."""

    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.names: set[str] = set()

    def name(self, wanted: str) -> str:
        name, count = wanted, 1
        while name in self.names:
            count += 1
            name = f"{wanted}_{count}"
        self.names.add(name)
        return name

    def const(self, base: str, values) -> str:
        from onnx import numpy_helper

        array = np.asarray(values)
        if array.dtype.kind == "f":
            array = array.astype(np.float32)
        name = self.name(base)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], base: str, outputs: int = 1, **attrs) -> list[str]:
        from onnx import helper

        names = [self.name(base if outputs == 1 else f"{base}_{i}") for i in range(outputs)]
        self.nodes.append(
            helper.make_node(op, inputs, names, name=self.name(f"{base}/{op}"), **attrs)
        )
        return names


def _along(values: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """Per-axis values (the shape of axes axis..) broadcastable against a blob of `rank` axes."""
    return values.reshape(list(values.shape) + [1] * (rank - axis - values.ndim))


def _spatial_4d(layer, shape, what: str) -> None:
    if len(shape) != 4:
        raise ShapeError(f"{what} is converted for 4-D (N, C, H, W) blobs only, not {shape}")


def _convolution(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.convolution_param
    _spatial_4d(layer, shapes[0], "a convolution")
    g = conv_geometry(param, shapes[0])
    if g.axis != 1:
        raise ShapeError("a convolution is converted with axis 1 (channels) only")
    deconvolution = layer.type == "Deconvolution"
    inputs = [ins[0], b.const(f"{layer.name}/weights", blobs[0])]
    if param.bias_term:
        inputs.append(b.const(f"{layer.name}/bias", blobs[1].reshape(-1)))
    return b.node(
        "ConvTranspose" if deconvolution else "Conv",
        inputs,
        layer.name,
        kernel_shape=g.kernel,
        strides=g.stride,
        pads=g.pad + g.pad,
        dilations=g.dilation,
        group=param.group,
    )


def _inner_product(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.inner_product_param
    axis = canonical_axis(param.axis, len(shapes[0]))
    flat = b.node("Flatten", ins, f"{layer.name}/flat", axis=axis)[0]
    inputs = [flat, b.const(f"{layer.name}/weights", blobs[0])]
    if param.bias_term:
        inputs.append(b.const(f"{layer.name}/bias", blobs[1].reshape(-1)))
    else:
        inputs.append(b.const(f"{layer.name}/bias", np.zeros(param.num_output, np.float32)))
    y = b.node("Gemm", inputs, layer.name, transB=0 if param.transpose else 1)[0]
    if len(outs[0]) == 2:
        return [y]
    return b.node("Reshape", [y, b.const(f"{layer.name}/shape", np.array(outs[0]))], layer.name)


def _end_pads(size, out, kernel, stride, pad) -> int:
    """The padding after the last row (or column) that gives Caffe's output size in ONNX's floor
    rounding: Caffe rounds up (by default) and keeps a last window that starts inside the image."""
    end = max(0, (out - 1) * stride + kernel - size - pad)
    if (size + pad + end - kernel) // stride + 1 != out:
        raise ShapeError(f"the pooling geometry has no ONNX equivalent (output {out} of {size})")
    return end


def _pooling(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.pooling_param
    _spatial_4d(layer, shapes[0], "pooling")
    if param.pool not in (0, 1):
        raise ShapeError("only MAX and AVE pooling are converted")
    if param.global_pooling:
        return b.node("GlobalMaxPool" if param.pool == 0 else "GlobalAveragePool", ins, layer.name)
    kernel, stride, pad = pooling_window(param)
    size, out = shapes[0][2:], outs[0][2:]
    end = [_end_pads(size[i], out[i], kernel[i], stride[i], pad[i]) for i in range(2)]
    if param.pool == 0:  # padding counts as -inf in both
        return b.node(
            "MaxPool", ins, layer.name, kernel_shape=kernel, strides=stride, pads=pad + end
        )
    # Caffe divides by the window clipped to the image plus its padding: pad explicitly with zeros,
    # then let ONNX exclude only the extra end padding from the count.
    x = ins[0]
    if any(pad):
        pads = b.const(f"{layer.name}/pads", np.array([0, 0, *pad, 0, 0, *pad]))
        x = b.node("Pad", [x, pads], f"{layer.name}/padded")[0]
    extra = [max(0, e - p) for e, p in zip(end, pad, strict=True)]
    return b.node(
        "AveragePool",
        [x],
        layer.name,
        kernel_shape=kernel,
        strides=stride,
        pads=[0, 0, *extra],
        count_include_pad=0,
    )


def _lrn(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.lrn_param
    _spatial_4d(layer, shapes[0], "LRN")
    size, alpha, beta = param.local_size, param.alpha, param.beta
    if size % 2 == 0:
        raise ShapeError("LRN's local_size must be odd")
    if param.norm_region == 0:  # ACROSS_CHANNELS: ONNX's LRN uses Caffe's alpha / size convention
        return b.node("LRN", ins, layer.name, size=size, alpha=alpha, beta=beta, bias=param.k)
    # WITHIN_CHANNEL: x / (1 + alpha * mean of x^2 over a size x size window)^beta (Caffe: no k)
    half = (size - 1) // 2
    square = b.node("Mul", [ins[0], ins[0]], f"{layer.name}/square")[0]
    mean = b.node(
        "AveragePool",
        [square],
        f"{layer.name}/mean",
        kernel_shape=[size, size],
        pads=[half] * 4,
        count_include_pad=1,
    )[0]
    scaled = b.node("Mul", [mean, b.const(f"{layer.name}/alpha", alpha)], f"{layer.name}/scaled")
    shifted = b.node("Add", [scaled[0], b.const(f"{layer.name}/one", 1.0)], f"{layer.name}/shift")
    power = b.node("Pow", [shifted[0], b.const(f"{layer.name}/beta", beta)], f"{layer.name}/pow")
    return b.node("Div", [ins[0], power[0]], layer.name)


def _batch_norm(b: Builder, layer, ins, shapes, blobs, outs):
    mean, variance, factor = blobs
    factor = float(factor.reshape(-1)[0])
    scale = 0.0 if factor == 0 else 1.0 / factor
    channels = mean.size
    return b.node(
        "BatchNormalization",
        [
            ins[0],
            b.const(f"{layer.name}/gamma", np.ones(channels)),
            b.const(f"{layer.name}/beta", np.zeros(channels)),
            b.const(f"{layer.name}/mean", mean.astype(np.float64) * scale),
            b.const(f"{layer.name}/variance", variance.astype(np.float64) * scale),
        ],
        layer.name,
        epsilon=layer.batch_norm_param.eps,
    )


def _scale(b: Builder, layer, ins, shapes, blobs, outs):
    param, rank = layer.scale_param, len(shapes[0])
    axis = canonical_axis(param.axis, rank) if rank else 0
    if len(ins) > 1:
        factor = _second(b, layer, ins, shapes, axis)
    else:
        factor = b.const(f"{layer.name}/factor", _along(blobs[0], axis, rank))
    if not param.bias_term:
        return b.node("Mul", [ins[0], factor], layer.name)
    y = b.node("Mul", [ins[0], factor], f"{layer.name}/mul")[0]
    bias = b.const(f"{layer.name}/bias", _along(blobs[-1], axis, rank))
    return b.node("Add", [y, bias], layer.name)


def _second(b: Builder, layer, ins, shapes, axis: int) -> str:
    """The second input of a Scale or Bias, reshaped to broadcast along `axis` of the first."""
    shape = [*shapes[1], *[1] * (len(shapes[0]) - axis - len(shapes[1]))]
    reshape = [ins[1], b.const(f"{layer.name}/second_shape", np.array(shape))]
    return b.node("Reshape", reshape, f"{layer.name}/second")[0]


def _bias(b: Builder, layer, ins, shapes, blobs, outs):
    rank = len(shapes[0])
    axis = canonical_axis(layer.bias_param.axis, rank) if rank else 0
    if len(ins) > 1:
        bias = _second(b, layer, ins, shapes, axis)
    else:
        bias = b.const(f"{layer.name}/bias", _along(blobs[0], axis, rank))
    return b.node("Add", [ins[0], bias], layer.name)


def _relu(b: Builder, layer, ins, shapes, blobs, outs):
    slope = layer.relu_param.negative_slope
    if slope == 0:
        return b.node("Relu", ins, layer.name)
    return b.node("LeakyRelu", ins, layer.name, alpha=slope)


def _prelu(b: Builder, layer, ins, shapes, blobs, outs):
    slope = blobs[0].reshape(-1)
    rank = len(shapes[0])
    slope = slope if slope.size == 1 else slope.reshape([-1] + [1] * (rank - 2))
    return b.node("PRelu", [ins[0], b.const(f"{layer.name}/slope", slope)], layer.name)


def _power(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.power_param
    x = b.node("Mul", [ins[0], b.const(f"{layer.name}/scale", param.scale)], f"{layer.name}/mul")
    x = b.node("Add", [x[0], b.const(f"{layer.name}/shift", param.shift)], f"{layer.name}/add")
    return b.node("Pow", [x[0], b.const(f"{layer.name}/power", param.power)], layer.name)


def _eltwise(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.eltwise_param
    if param.operation == 0:  # PROD
        return b.node("Mul", ins, layer.name) if len(ins) == 2 else _chain(b, "Mul", layer, ins)
    if param.operation == 2:  # MAX
        return b.node("Max", ins, layer.name)
    coeffs = list(param.coeff) or [1.0] * len(ins)
    if len(coeffs) != len(ins):
        raise ShapeError(f"{len(coeffs)} coeff values for {len(ins)} inputs")
    terms = [
        x if c == 1 else b.node("Mul", [x, b.const(f"{layer.name}/coeff", c)], f"{layer.name}/t")[0]
        for c, x in zip(coeffs, ins, strict=True)
    ]
    return b.node("Sum", terms, layer.name)


def _chain(b: Builder, op: str, layer, ins):
    y = ins[0]
    for x in ins[1:-1]:
        y = b.node(op, [y, x], f"{layer.name}/part")[0]
    return b.node(op, [y, ins[-1]], layer.name)


def _softmax(b: Builder, layer, ins, shapes, blobs, outs):
    axis = canonical_axis(layer.softmax_param.axis, len(shapes[0]))
    return b.node("Softmax", ins, layer.name, axis=axis)


def _concat(b: Builder, layer, ins, shapes, blobs, outs):
    param = layer.concat_param
    axis = param.concat_dim if param.HasField("concat_dim") else param.axis
    return b.node("Concat", ins, layer.name, axis=canonical_axis(axis, len(shapes[0])))


def _slice(b: Builder, layer, ins, shapes, blobs, outs):
    axis, sizes = slice_points(layer, shapes[0])
    split = b.const(f"{layer.name}/split", np.array(sizes))
    return b.node("Split", [ins[0], split], layer.name, outputs=len(sizes), axis=axis)


def _reshaped(b: Builder, layer, ins, shapes, blobs, outs):
    return b.node(
        "Reshape", [ins[0], b.const(f"{layer.name}/shape", np.array(outs[0]))], layer.name
    )


def _crop(b: Builder, layer, ins, shapes, blobs, outs):
    param, shape, like = layer.crop_param, shapes[0], shapes[1]
    axis = canonical_axis(param.axis, len(shape))
    offsets = list(param.offset)
    axes = list(range(axis, len(shape)))
    starts = [
        (offsets[0] if len(offsets) == 1 else offsets[i - axis]) if offsets else 0 for i in axes
    ]
    ends = [start + like[i] for start, i in zip(starts, axes, strict=True)]
    inputs = [
        ins[0],
        b.const(f"{layer.name}/starts", np.array(starts)),
        b.const(f"{layer.name}/ends", np.array(ends)),
        b.const(f"{layer.name}/axes", np.array(axes)),
    ]
    return b.node("Slice", inputs, layer.name)


def _permute(b: Builder, layer, ins, shapes, blobs, outs):
    order = permute_order(layer.permute_param, len(shapes[0]))
    return b.node("Transpose", ins, layer.name, perm=order)


def _unary(op: str, **attrs):
    return lambda b, layer, ins, shapes, blobs, outs: b.node(op, ins, layer.name, **attrs)


def _split(b: Builder, layer, ins, shapes, blobs, outs):
    return [b.node("Identity", ins, f"{layer.name}/{top}")[0] for top in layer.top]


RULES = {
    "Convolution": _convolution,
    "Deconvolution": _convolution,
    "InnerProduct": _inner_product,
    "Pooling": _pooling,
    "LRN": _lrn,
    "BatchNorm": _batch_norm,
    "Scale": _scale,
    "Bias": _bias,
    "ReLU": _relu,
    "PReLU": _prelu,
    "ELU": lambda b, layer, ins, *_: b.node("Elu", ins, layer.name, alpha=layer.elu_param.alpha),
    "Sigmoid": _unary("Sigmoid"),
    "TanH": _unary("Tanh"),
    "AbsVal": _unary("Abs"),
    "Power": _power,
    "Dropout": _unary("Identity"),  # scaling happens in training only
    "Softmax": _softmax,
    "Eltwise": _eltwise,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
    "Flatten": _reshaped,
    "Reshape": _reshaped,
    "Crop": _crop,
    "Permute": _permute,
}
