"""A reference forward pass of a Caffe network in NumPy: what the original model computes.

Verification compares a converted model's outputs with the original's; for Caffe models there is
no Caffe to run, so this computes them: the structure from the .prototxt, the weights by layer name
from the .caffemodel (as ATC and Caffe take them), the shapes from caffe_shapes, the layers of the
common inference set in float32: (de)convolutions as float32 matrix products (BLAS, as Caffe and
the converted models sum), InnerProduct, pooling and normalisation sums in float64. A plan folds
a BatchNorm or Scale into the convolution before it (caffe_fusion); the result stays within
float32 rounding of a float64 computation (tests/converters/test_caffe_numpy.py). A layer outside
the set is refused by name.

Django-free, Caffe-free: only NumPy and our schema.
"""

from contextlib import nullcontext
from functools import cache

import numpy as np

from conversions.converters.ascend import caffe_spatial
from conversions.converters.ascend.caffe_fusion import batch_norm_affine, fuse
from conversions.converters.ascend.caffe_shapes import (
    ShapeError,
    canonical_axis,
    infer_shapes,
    permute_order,
    slice_points,
)
from conversions.converters.ascend.caffe_weights import expected_blobs
from conversions.converters.base import ConversionError


class ReferenceError(ConversionError):
    pass


def load_weights(weights_net) -> dict[str, list[np.ndarray]]:
    """The blobs of every layer of a .caffemodel's NetParameter, as float32 arrays."""
    loaded = {}
    for layer in weights_net.layer:
        arrays = []
        for blob in layer.blobs:
            values = blob.data if len(blob.data) else blob.double_data
            arrays.append(np.asarray(values, dtype=np.float32))
        loaded[layer.name] = arrays
    return loaded


def forward(net, weights: dict[str, list[np.ndarray]], inputs: dict[str, np.ndarray]) -> dict:
    """Every blob of `net` after a forward pass from `inputs` (name -> array of the input shape)."""
    return prepare(net, weights, {name: list(a.shape) for name, a in inputs.items()}).run(inputs)


def prepare(net, weights: dict[str, list[np.ndarray]], input_shapes: dict[str, list[int]]):
    """The forward pass of `net` for inputs of these shapes, planned once: shapes inferred, every
    layer's rule found and its weights shaped. `.run(inputs)` then computes one sample; verification
    runs many samples of one shape through one plan."""
    shapes, problems = infer_shapes(net, input_shapes)
    if problems:
        raise ReferenceError("The Caffe reference cannot run:\n- " + "\n- ".join(problems))
    steps = []
    for entry in shapes:
        layer = entry.layer
        if layer.type == "Input":
            continue
        rule = LAYERS.get(layer.type)
        if layer.type not in LAYERS:
            raise ReferenceError(
                f"Layer '{layer.name}' is a {layer.type} layer, which the Caffe reference does not "
                f"compute; it computes: {', '.join(sorted(LAYERS))}."
            )
        params = shaped_blobs(layer, entry.inputs, weights.get(layer.name, []))
        if layer.type == "Convolution":  # the geometry worked out once, here
            try:
                rule = caffe_spatial.convolution_rule(layer, entry.inputs[0])
            except ShapeError as exc:
                raise ReferenceError(f"Layer '{layer.name}' ({layer.type}): {exc}.") from None
        if layer.type == "InnerProduct":  # float64 sums: the weights converted once, not per run
            params = [p.astype(np.float64) for p in params]
        steps.append((layer, rule, params, entry.outputs))
    return Plan(fuse(steps))


class Plan:
    """A planned forward pass (see prepare)."""

    def __init__(self, steps):
        self.steps = [(*step, tuple(step[0].bottom), tuple(step[0].top)) for step in steps]

    def run(self, inputs: dict[str, np.ndarray]) -> dict:
        with _one_blas_thread():
            return self._run(inputs)

    def _run(self, inputs) -> dict:
        blobs = {name: np.asarray(array, dtype=np.float32) for name, array in inputs.items()}
        for layer, rule, params, outputs, bottoms, tops in self.steps:
            try:
                outs = rule(layer, [blobs[b] for b in bottoms], params, outputs)
            except ShapeError as exc:
                raise ReferenceError(f"Layer '{layer.name}' ({layer.type}): {exc}.") from None
            for top, out in zip(tops, outs, strict=True):
                blobs[top] = out
        return blobs


@cache
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def _one_blas_thread():
    """The matrix products of a forward pass are small: one BLAS thread each runs them fastest,
    and several (OpenBLAS's default, one per core) slow them down many times on a busy worker."""
    controller = _blas_controller()
    return controller.limit(limits=1, user_api="blas") if controller else nullcontext()


def shaped_blobs(layer, ins, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """A layer's weight blobs in the shapes the layer needs (caffe_weights), or ReferenceError."""
    expected = expected_blobs(layer, ins)
    if len(arrays) != len(expected):
        raise ReferenceError(
            f"Layer '{layer.name}' ({layer.type}) needs {len(expected)} weight blobs, the weights "
            f"hold {len(arrays)}."
        )
    try:
        return [a.reshape(shape) if shape else a for a, shape in zip(arrays, expected, strict=True)]
    except ValueError:
        raise ReferenceError(
            f"Layer '{layer.name}' ({layer.type}): the weight blobs do not fit the layer."
        ) from None


def _along(values: np.ndarray, axis: int, rank: int) -> np.ndarray:
    """`values` (the shape of axes axis..) broadcastable against a blob of `rank` axes."""
    return values.reshape([1] * axis + list(values.shape) + [1] * (rank - axis - values.ndim))


def _one(fn):
    return lambda layer, ins, params, outs: [
        fn(layer, ins[0], params).astype(np.float32, copy=False)
    ]


def _batch_norm(layer, x, params):
    multiplier, shift = batch_norm_affine(layer, params)  # per channel in float64
    y = x * _along(multiplier.astype(np.float32), 1, x.ndim)
    y += _along(shift.astype(np.float32), 1, x.ndim)
    return y


def _scale(layer, ins, params, outs):
    param, x = layer.scale_param, ins[0]
    axis = canonical_axis(param.axis, x.ndim) if x.ndim else 0
    factor = ins[1] if len(ins) > 1 else params[0]
    y = x * _along(factor, axis, x.ndim)
    if param.bias_term:
        y = y + _along(params[-1], axis, x.ndim)
    return [y.astype(np.float32, copy=False)]


def _bias(layer, ins, params, outs):
    x = ins[0]
    axis = canonical_axis(layer.bias_param.axis, x.ndim) if x.ndim else 0
    bias = ins[1] if len(ins) > 1 else params[0]
    return [(x + _along(bias, axis, x.ndim)).astype(np.float32, copy=False)]


def _inner_product(layer, x, params):
    param = layer.inner_product_param
    axis = canonical_axis(param.axis, x.ndim)
    flat = x.reshape(int(np.prod(x.shape[:axis])), -1).astype(np.float64)
    y = flat @ (params[0] if param.transpose else params[0].T)
    if param.bias_term:
        y = y + params[1]
    return y.reshape([*x.shape[:axis], param.num_output])


def _prelu(layer, x, params):
    slope = params[0].reshape(-1)
    slope = slope[0] if slope.size == 1 else _along(slope, 1, x.ndim)
    return np.where(x > 0, x, x * slope)


def _normalize(layer, x, params):
    param = layer.norm_param
    squares = x.astype(np.float64) ** 2
    axes = (1, 2, 3) if param.across_spatial else (1,)
    norm = np.sqrt(squares.sum(axis=axes, keepdims=True) + param.eps)
    scale = params[0].reshape(-1)
    return x / norm * (scale[0] if param.channel_shared else _along(scale, 1, x.ndim))


def _eltwise(layer, ins, params, outs):
    param = layer.eltwise_param
    if param.operation == 0:  # PROD
        y = np.prod(np.stack(ins).astype(np.float64), axis=0)
    elif param.operation == 2:  # MAX
        y = np.max(np.stack(ins), axis=0)
    else:
        coeffs = list(param.coeff) or [1.0] * len(ins)
        if len(coeffs) != len(ins):
            raise ShapeError(f"{len(coeffs)} coeff values for {len(ins)} inputs")
        if coeffs in ([1.0, 1.0], [1.0, -1.0]):  # one float32 rounding, as float64 then float32
            return [np.add(*ins) if coeffs[1] > 0 else np.subtract(*ins)]
        y = sum(c * x.astype(np.float64) for c, x in zip(coeffs, ins, strict=True))
    return [y.astype(np.float32)]


def _softmax(layer, x, params):
    axis = canonical_axis(layer.softmax_param.axis, x.ndim)
    shifted = x.astype(np.float64) - x.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def _concat(layer, ins, params, outs):
    param = layer.concat_param
    axis = param.concat_dim if param.HasField("concat_dim") else param.axis
    return [np.concatenate(ins, axis=canonical_axis(axis, ins[0].ndim))]


def _slice(layer, ins, params, outs):
    axis, sizes = slice_points(layer, list(ins[0].shape))
    return np.split(ins[0], np.cumsum(sizes)[:-1], axis=axis)


def _crop(layer, ins, params, outs):
    x, like = ins
    param = layer.crop_param
    axis = canonical_axis(param.axis, x.ndim)
    offsets = list(param.offset)
    index = [slice(None)] * x.ndim
    for i in range(axis, x.ndim):
        offset = (offsets[0] if len(offsets) == 1 else offsets[i - axis]) if offsets else 0
        index[i] = slice(offset, offset + like.shape[i])
    return [x[tuple(index)]]


def _power(layer, x, params):
    param = layer.power_param
    return (param.shift + param.scale * x.astype(np.float64)) ** param.power


def _relu(layer, x, params):
    slope = layer.relu_param.negative_slope
    return np.maximum(x, 0) if slope == 0 else np.where(x > 0, x, x * slope)


def _elu(layer, x, params):
    return np.where(x > 0, x, layer.elu_param.alpha * np.expm1(x.astype(np.float64)))


def _reshaped(layer, ins, params, outs):
    return [ins[0].reshape(outs[0])]


LAYERS = {
    "Convolution": None,  # planned per input shape: caffe_spatial.convolution_rule
    "Deconvolution": _one(lambda layer, x, p: caffe_spatial.deconvolution(layer, x, p)),
    "Pooling": lambda layer, ins, p, outs: [caffe_spatial.pooling(layer, ins[0], outs[0])],
    "LRN": _one(lambda layer, x, p: caffe_spatial.lrn(layer, x)),
    "InnerProduct": _one(_inner_product),
    "BatchNorm": _one(_batch_norm),
    "Scale": _scale,
    "Bias": _bias,
    "ReLU": _one(_relu),
    "PReLU": _one(_prelu),
    "ELU": _one(_elu),
    "Sigmoid": _one(lambda layer, x, p: 1.0 / (1.0 + np.exp(-x.astype(np.float64)))),
    "TanH": _one(lambda layer, x, p: np.tanh(x)),
    "AbsVal": _one(lambda layer, x, p: np.abs(x)),
    "Power": _one(_power),
    "Dropout": _one(lambda layer, x, p: x),  # scaling happens in training only
    "Normalize": _one(_normalize),
    "Softmax": _one(_softmax),
    "Eltwise": _eltwise,
    "Concat": _concat,
    "Split": lambda layer, ins, p, outs: [ins[0]] * len(layer.top),
    "Slice": _slice,
    "Flatten": _reshaped,
    "Reshape": _reshaped,
    "Crop": _crop,
    "Permute": lambda layer, ins, p, outs: [
        np.ascontiguousarray(ins[0].transpose(permute_order(layer.permute_param, ins[0].ndim)))
    ],
}
