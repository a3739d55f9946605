"""A Caffe model as a frozen TensorFlow graph, for the TFLite route (caffe-to-tflite).

The same layer set as the ONNX export, in TensorFlow ops on Caffe's N x C x H x W blobs: the model
keeps Caffe's input and output layouts, and the spatial layers (convolutions, pooling, LRN) work in
N x H x W x C between two transposes, since TFLite's kernels are NHWC only. Where TensorFlow and
Caffe differ the rule computes Caffe's result: explicit padding (Caffe pads symmetrically and rounds
pooling up), dilated kernels written out (TensorFlow's CPU refuses dilation with stride), groups as
separate convolutions, average pooling rescaled to Caffe's divisor, LRN's alpha / size.

Runs in the converter child only (imports TensorFlow).
"""

import numpy as np

from conversions.converters.ascend.caffe_numpy import shaped_blobs
from conversions.converters.ascend.caffe_shapes import (
    ShapeError,
    canonical_axis,
    conv_geometry,
    infer_shapes,
    permute_order,
    pooling_window,
    slice_points,
)
from conversions.converters.ascend.caffe_spatial import _windows_1d
from conversions.converters.base import ConversionError
from conversions.converters.caffe.onnx_layers import RULES as ONNX_RULES

NHWC, NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def op_name(blob: str) -> str:
    """A TensorFlow op name for a Caffe blob name."""
    cleaned = "".join(c if c.isalnum() or c in "._-/" else "_" for c in blob).strip("/")
    return cleaned if cleaned and cleaned[0].isalnum() else f"b_{cleaned}"


def _dilated(kernel: np.ndarray, dilation) -> np.ndarray:
    """A kernel (..., KH, KW) with the zeros of its dilation written out."""
    dh, dw = dilation
    if (dh, dw) == (1, 1):
        return kernel
    kh, kw = kernel.shape[-2:]
    out = np.zeros((*kernel.shape[:-2], dh * (kh - 1) + 1, dw * (kw - 1) + 1), kernel.dtype)
    out[..., ::dh, ::dw] = kernel
    return out


def _spatial(shape, what):
    if len(shape) != 4:
        raise ShapeError(f"{what} is converted for 4-D (N, C, H, W) blobs only, not {shape}")


def _convolution(tf, layer, ins, shapes, blobs, outs):
    param = layer.convolution_param
    _spatial(shapes[0], "a convolution")
    g = conv_geometry(param, shapes[0])
    (ph, pw), group = g.pad, param.group
    weights = _dilated(blobs[0], g.dilation)
    x = tf.transpose(ins[0], NHWC)
    deconvolution = layer.type == "Deconvolution"
    if not deconvolution and (ph or pw):
        x = tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]])
    strides = [1, *g.stride, 1]
    parts = []
    for i, (xs, ws) in enumerate(
        zip(tf.split(x, group, axis=3), np.split(weights, group, axis=0), strict=True)
    ):
        if deconvolution:  # Caffe: C_in/g x C_out/g x kh x kw; TensorFlow: kh x kw x out x in
            n, h, w = shapes[0][0], shapes[0][2], shapes[0][3]
            kh, kw = ws.shape[2:]
            full = [n, g.stride[0] * (h - 1) + kh, g.stride[1] * (w - 1) + kw, ws.shape[1]]
            y = tf.nn.conv2d_transpose(
                xs, ws.transpose(2, 3, 1, 0), full, strides, padding="VALID", name=f"g{i}"
            )
            parts.append(y[:, ph : full[1] - ph, pw : full[2] - pw, :])
        else:  # Caffe: C_out/g x C_in/g x kh x kw; TensorFlow: kh x kw x in x out
            parts.append(tf.nn.conv2d(xs, ws.transpose(2, 3, 1, 0), strides, padding="VALID"))
    y = parts[0] if group == 1 else tf.concat(parts, axis=3)
    if param.bias_term:
        y = y + blobs[1].reshape(-1)
    return [tf.transpose(y, NCHW)]


def _pooling(tf, layer, ins, shapes, blobs, outs):
    param = layer.pooling_param
    _spatial(shapes[0], "pooling")
    if param.pool not in (0, 1):
        raise ShapeError("only MAX and AVE pooling are converted")
    if param.global_pooling:
        whole = tf.reduce_max if param.pool == 0 else tf.reduce_mean
        return [whole(ins[0], axis=[2, 3], keepdims=True)]
    kernel, stride, pad = pooling_window(param)
    size, out = shapes[0][2:], outs[0][2:]
    end = [max(0, (out[i] - 1) * stride[i] + kernel[i] - size[i] - pad[i]) for i in range(2)]
    fill = float(np.finfo(np.float32).min) if param.pool == 0 else 0.0
    x = tf.pad(
        tf.transpose(ins[0], NHWC),
        [[0, 0], [pad[0], end[0]], [pad[1], end[1]], [0, 0]],
        constant_values=fill,
    )
    window, steps = [1, *kernel, 1], [1, *stride, 1]
    if param.pool == 0:
        y = tf.nn.max_pool2d(x, window, steps, "VALID")
    else:  # TensorFlow divides by the whole window, Caffe by the window clipped to image + pad
        divisor = np.outer(
            _windows_1d(size[0], out[0], kernel[0], stride[0], pad[0]),
            _windows_1d(size[1], out[1], kernel[1], stride[1], pad[1]),
        )
        rescale = (kernel[0] * kernel[1] / divisor).astype(np.float32)[None, :, :, None]
        y = tf.nn.avg_pool2d(x, window, steps, "VALID") * rescale
    return [tf.transpose(y[:, : out[0], : out[1], :], NCHW)]


def _lrn(tf, layer, ins, shapes, blobs, outs):
    param = layer.lrn_param
    _spatial(shapes[0], "LRN")
    size, alpha, beta = param.local_size, param.alpha, param.beta
    if size % 2 == 0:
        raise ShapeError("LRN's local_size must be odd")
    half = (size - 1) // 2
    x = tf.transpose(ins[0], NHWC)
    if param.norm_region == 0:  # TensorFlow's alpha multiplies the sum, Caffe's the mean
        y = tf.nn.local_response_normalization(x, half, param.k, alpha / size, beta)
    else:
        square = tf.pad(x * x, [[0, 0], [half, half], [half, half], [0, 0]])
        mean = tf.nn.avg_pool2d(square, [1, size, size, 1], [1, 1, 1, 1], "VALID")
        y = x / tf.pow(1.0 + alpha * mean, beta)
    return [tf.transpose(y, NCHW)]


def _along(values: np.ndarray, axis: int, rank: int) -> np.ndarray:
    return values.reshape(list(values.shape) + [1] * (rank - axis - values.ndim))


def _inner_product(tf, layer, ins, shapes, blobs, outs):
    param = layer.inner_product_param
    axis = canonical_axis(param.axis, len(shapes[0]))
    flat = tf.reshape(ins[0], [int(np.prod(shapes[0][:axis])), -1])
    y = tf.matmul(flat, blobs[0] if param.transpose else blobs[0].T)
    if param.bias_term:
        y = y + blobs[1].reshape(-1)
    return [tf.reshape(y, outs[0])]


def _batch_norm(tf, layer, ins, shapes, blobs, outs):
    mean, variance, factor = blobs
    scale = 0.0 if factor.reshape(-1)[0] == 0 else 1.0 / float(factor.reshape(-1)[0])
    multiplier = 1.0 / np.sqrt(variance.astype(np.float64) * scale + layer.batch_norm_param.eps)
    shift = -mean.astype(np.float64) * scale * multiplier
    rank = len(shapes[0])
    return [
        ins[0] * _along(multiplier.astype(np.float32), 1, rank)
        + _along(shift.astype(np.float32), 1, rank)
    ]


def _second(tf, ins, shapes, axis: int, rank: int):
    """The second input of a Scale or Bias, broadcastable along `axis` of the first."""
    return tf.reshape(ins[1], [*shapes[1], *[1] * (rank - axis - len(shapes[1]))])


def _scale(tf, layer, ins, shapes, blobs, outs):
    param, rank = layer.scale_param, len(shapes[0])
    axis = canonical_axis(param.axis, rank) if rank else 0
    if len(ins) > 1:
        factor = _second(tf, ins, shapes, axis, rank)
    else:
        factor = _along(blobs[0], axis, rank)
    y = ins[0] * factor
    return [y + _along(blobs[-1], axis, rank) if param.bias_term else y]


def _bias(tf, layer, ins, shapes, blobs, outs):
    rank = len(shapes[0])
    axis = canonical_axis(layer.bias_param.axis, rank) if rank else 0
    if len(ins) > 1:
        return [ins[0] + _second(tf, ins, shapes, axis, rank)]
    return [ins[0] + _along(blobs[0], axis, rank)]


def _eltwise(tf, layer, ins, shapes, blobs, outs):
    param = layer.eltwise_param
    y = ins[0]
    if param.operation in (0, 2):  # PROD, MAX
        combine = tf.multiply if param.operation == 0 else tf.maximum
        for x in ins[1:]:
            y = combine(y, x)
        return [y]
    coeffs = list(param.coeff) or [1.0] * len(ins)
    if len(coeffs) != len(ins):
        raise ShapeError(f"{len(coeffs)} coeff values for {len(ins)} inputs")
    return [tf.add_n([x if c == 1 else x * c for c, x in zip(coeffs, ins, strict=True)])]


def _crop(tf, layer, ins, shapes, blobs, outs):
    param, shape = layer.crop_param, shapes[0]
    axis = canonical_axis(param.axis, len(shape))
    offsets = list(param.offset)
    begin = [
        0
        if i < axis
        else ((offsets[0] if len(offsets) == 1 else offsets[i - axis]) if offsets else 0)
        for i in range(len(shape))
    ]
    return [tf.slice(ins[0], begin, outs[0])]


def _one(fn):
    return lambda tf, layer, ins, shapes, blobs, outs: [fn(tf, layer, ins[0], blobs)]


def _relu(tf, layer, x, blobs):
    slope = layer.relu_param.negative_slope
    return tf.nn.relu(x) if slope == 0 else tf.nn.leaky_relu(x, alpha=slope)


def _prelu(tf, layer, x, blobs):
    slope = blobs[0].reshape(-1)
    rank = len(x.shape)
    slope = slope if slope.size == 1 else slope.reshape([-1] + [1] * (rank - 2))
    return tf.maximum(x, 0.0) + slope * tf.minimum(x, 0.0)


def _elu(tf, layer, x, blobs):
    return tf.where(x > 0, x, layer.elu_param.alpha * (tf.exp(tf.minimum(x, 0.0)) - 1.0))


def _power(tf, layer, x, blobs):
    param = layer.power_param
    return tf.pow(param.shift + param.scale * x, param.power)


RULES = {
    "Convolution": _convolution,
    "Deconvolution": _convolution,
    "InnerProduct": _inner_product,
    "Pooling": _pooling,
    "LRN": _lrn,
    "BatchNorm": _batch_norm,
    "Scale": _scale,
    "Bias": _bias,
    "ReLU": _one(_relu),
    "PReLU": _one(_prelu),
    "ELU": _one(_elu),
    "Sigmoid": _one(lambda tf, layer, x, b: tf.sigmoid(x)),
    "TanH": _one(lambda tf, layer, x, b: tf.tanh(x)),
    "AbsVal": _one(lambda tf, layer, x, b: tf.abs(x)),
    "Power": _one(_power),
    "Dropout": _one(lambda tf, layer, x, b: tf.identity(x)),
    "Softmax": lambda tf, layer, ins, shapes, blobs, outs: [
        tf.nn.softmax(ins[0], axis=canonical_axis(layer.softmax_param.axis, len(shapes[0])))
    ],
    "Eltwise": _eltwise,
    "Concat": lambda tf, layer, ins, shapes, blobs, outs: [
        tf.concat(ins, axis=canonical_axis(_concat_axis(layer.concat_param), len(shapes[0])))
    ],
    "Split": lambda tf, layer, ins, shapes, blobs, outs: [tf.identity(ins[0]) for _ in layer.top],
    "Slice": lambda tf, layer, ins, shapes, blobs, outs: tf.split(
        ins[0], slice_points(layer, shapes[0])[1], axis=slice_points(layer, shapes[0])[0]
    ),
    "Flatten": lambda tf, layer, ins, shapes, blobs, outs: [tf.reshape(ins[0], outs[0])],
    "Reshape": lambda tf, layer, ins, shapes, blobs, outs: [tf.reshape(ins[0], outs[0])],
    "Crop": _crop,
    "Permute": lambda tf, layer, ins, shapes, blobs, outs: [
        tf.transpose(ins[0], permute_order(layer.permute_param, len(shapes[0])))
    ],
}
assert set(RULES) == set(ONNX_RULES)  # one layer set for every target


def _concat_axis(param) -> int:
    return param.concat_dim if param.HasField("concat_dim") else param.axis


def to_graph_def(model):
    """(GraphDef, input TensorSpecs, output tensor names) of a checked CaffeModel, weights frozen in."""
    import tensorflow as tf

    from conversions.converters.tfgraph import TensorSpec

    shapes, problems = infer_shapes(model.net, model.input_shapes())
    if problems:
        raise ConversionError("The Caffe model cannot be converted:\n- " + "\n- ".join(problems))
    graph = tf.Graph()
    with graph.as_default():
        tensors = {
            spec.name: tf.compat.v1.placeholder(tf.float32, spec.shape, name=op_name(spec.name))
            for spec in model.inputs
        }
        for entry in shapes:
            layer = entry.layer
            if layer.type == "Input":
                continue
            blobs = shaped_blobs(layer, entry.inputs, model.weights.get(layer.name, []))
            with tf.name_scope(op_name(layer.name)):
                try:
                    outs = RULES[layer.type](
                        tf, layer, [tensors[b] for b in layer.bottom], entry.inputs, blobs,
                        entry.outputs,
                    )  # fmt: skip
                except ShapeError as exc:
                    raise ConversionError(
                        f"Layer '{layer.name}' ({layer.type}) cannot be converted: {exc}."
                    ) from None
            tensors.update(zip(layer.top, outs, strict=True))
        outputs = [
            tf.identity(tensors[name], name=f"{op_name(name)}_output").name
            for name in model.outputs
        ]
    inputs = [TensorSpec(f"{op_name(s.name)}:0", list(s.shape), "float32") for s in model.inputs]
    return graph.as_graph_def(), inputs, outputs
