"""Blob shapes through a Caffe network, computed layer by layer the way Caffe's Reshape does.

`infer_shapes` walks the layers of a NetParameter (read with caffe_schema) from the input shapes and
records, for every layer, the shapes of its bottoms and tops. A layer it has no rule for gives its
tops an unknown shape (None), and so does every layer downstream of one: callers check only what
they can derive. A shape Caffe itself would refuse (a kernel larger than the padded input, an
Eltwise of different shapes) is a problem, named by layer.

Pure Python: no Caffe, no NumPy, nothing executed. The weight check of the preflight and the NumPy
reference forward pass both build on it.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from math import prod

Shape = list[int] | None  # None: unknown


class ShapeError(ValueError):
    """A shape Caffe would refuse; the message says why, without the layer's name."""


@dataclass
class LayerShapes:
    layer: object  # caffe.LayerParameter
    inputs: list[Shape]
    outputs: list[Shape]


def infer_shapes(net, inputs: dict[str, list[int]]) -> tuple[list[LayerShapes], list[str]]:
    """The shapes of every layer's bottoms and tops, and the problems of shapes Caffe refuses."""
    blobs: dict[str, Shape] = {name: list(dims) for name, dims in inputs.items()}
    found: list[LayerShapes] = []
    problems: list[str] = []
    for layer in net.layer:
        ins = [blobs.get(bottom) for bottom in layer.bottom]
        outs: list[Shape] = [None] * len(layer.top)
        if layer.type == "Input":
            outs = [blobs.get(top) for top in layer.top]
        elif layer.type in RULES and ins and all(shape is not None for shape in ins):
            try:
                outs = RULES[layer.type](layer, ins)
            except ShapeError as exc:
                problems.append(
                    f"Layer '{layer.name}' ({layer.type}): {exc}. Check the input shape and the "
                    "layer's parameters in the .prototxt."
                )
                outs = [None] * len(layer.top)
        for top, shape in zip(layer.top, outs, strict=False):
            blobs[top] = shape
        found.append(LayerShapes(layer, ins, outs[: len(layer.top)]))
    return found, problems


def canonical_axis(axis: int, rank: int) -> int:
    """Caffe's CanonicalAxisIndex: a negative axis counts from the end."""
    if not -rank <= axis < rank:
        raise ShapeError(f"axis {axis} is out of range for a blob of {rank} axes")
    return axis + rank if axis < 0 else axis


def _per_axis(param, name: str, count: int, default: int | None) -> list[int]:
    """kernel_size / stride / pad / dilation of a convolution: one value, one per spatial axis, or
    the _h/_w pair of a 2-D one."""
    pair = {"kernel_size": "kernel", "stride": "stride", "pad": "pad"}.get(name)
    if pair and (param.HasField(f"{pair}_h") or param.HasField(f"{pair}_w")):
        if count != 2 or not (param.HasField(f"{pair}_h") and param.HasField(f"{pair}_w")):
            raise ShapeError(f"{pair}_h and {pair}_w go together, in 2-D convolutions only")
        return [getattr(param, f"{pair}_h"), getattr(param, f"{pair}_w")]
    values = list(getattr(param, name))
    if not values:
        if default is None:
            raise ShapeError(f"the convolution has no {name}")
        return [default] * count
    if len(values) == 1:
        return values * count
    if len(values) != count:
        raise ShapeError(f"{name} gives {len(values)} values for {count} spatial axes")
    return values


def conv_kernel(param, spatial_axes: int) -> list[int]:
    """The kernel of a Convolution or Deconvolution over `spatial_axes` axes."""
    kernel = _per_axis(param, "kernel_size", spatial_axes, None)
    if any(k <= 0 for k in kernel):
        raise ShapeError(f"kernel {kernel} must be positive")
    return kernel


def conv_spatial_axes(param) -> int:
    """The number of spatial axes the parameters describe, for when the input shape is unknown."""
    if param.HasField("kernel_h") or len(param.kernel_size) <= 1:
        return 2
    return len(param.kernel_size)


@dataclass
class ConvGeometry:
    axis: int
    kernel: list[int]
    stride: list[int]
    pad: list[int]
    dilation: list[int]


def conv_geometry(param, shape: list[int]) -> ConvGeometry:
    axis = canonical_axis(param.axis, len(shape))
    count = len(shape) - axis - 1
    geometry = ConvGeometry(
        axis,
        conv_kernel(param, count),
        _per_axis(param, "stride", count, 1),
        _per_axis(param, "pad", count, 0),
        _per_axis(param, "dilation", count, 1),
    )
    if any(s <= 0 for s in geometry.stride) or any(d <= 0 for d in geometry.dilation):
        raise ShapeError("stride and dilation must be positive")
    return geometry


def _convolution(layer, ins, deconvolution=False):
    param, shape = layer.convolution_param, ins[0]
    g = conv_geometry(param, shape)
    channels, group = shape[g.axis], param.group
    if group <= 0 or channels % group or param.num_output % group:
        raise ShapeError(
            f"group {group} must divide the {channels} input channels and num_output "
            f"{param.num_output}"
        )
    spatial = []
    for size, k, s, p, d in zip(
        shape[g.axis + 1 :], g.kernel, g.stride, g.pad, g.dilation, strict=True
    ):
        extent = d * (k - 1) + 1
        if deconvolution:
            spatial.append(s * (size - 1) + extent - 2 * p)
        else:
            spatial.append((size + 2 * p - extent) // s + 1)
    if any(size <= 0 for size in spatial):
        raise ShapeError(
            f"its output would be {_show([*shape[: g.axis], param.num_output, *spatial])}: the "
            f"kernel {_show(g.kernel)} does not fit the input {_show(shape)}"
        )
    return [[*shape[: g.axis], param.num_output, *spatial]] * len(layer.top)


def _pooled(size: int, kernel: int, stride: int, pad: int, ceil: bool) -> int:
    if stride <= 0:
        raise ShapeError("stride must be positive")
    steps = (size + 2 * pad - kernel) / stride
    pooled = (math.ceil(steps) if ceil else math.floor(steps)) + 1
    if pad and (pooled - 1) * stride >= size + pad:
        pooled -= 1  # the last window must start inside the image (Caffe's rule)
    return pooled


def pooling_window(param) -> tuple[list[int], list[int], list[int]]:
    """(kernel, stride, pad) over H and W of a non-global Pooling layer."""
    kernel = (
        [param.kernel_h, param.kernel_w] if param.HasField("kernel_h") else [param.kernel_size] * 2
    )
    stride = [param.stride_h, param.stride_w] if param.HasField("stride_h") else [param.stride] * 2
    pad = [param.pad_h, param.pad_w] if param.HasField("pad_h") else [param.pad] * 2
    if any(k <= 0 for k in kernel):
        raise ShapeError("the pooling has no kernel_size (and is not global_pooling)")
    return kernel, stride, pad


def _pooling(layer, ins):
    param, shape = layer.pooling_param, ins[0]
    if len(shape) != 4:
        raise ShapeError(f"pooling takes a 4-D input (N, C, H, W), not {_show(shape)}")
    if param.global_pooling:
        return [[shape[0], shape[1], 1, 1]] * len(layer.top)
    kernel, stride, pad = pooling_window(param)
    ceil = param.round_mode == 0  # CEIL, Caffe's default
    spatial = [_pooled(shape[2 + i], kernel[i], stride[i], pad[i], ceil) for i in range(2)]
    if any(size <= 0 for size in spatial):
        raise ShapeError(f"the kernel {_show(kernel)} does not fit the input {_show(shape)}")
    return [[shape[0], shape[1], *spatial]] * len(layer.top)


def _inner_product(layer, ins):
    param, shape = layer.inner_product_param, ins[0]
    axis = canonical_axis(param.axis, len(shape))
    return [[*shape[:axis], param.num_output]]


def _same(layer, ins):
    return [list(ins[0]) for _ in layer.top]


def _scaled(layer, ins):
    """Scale and Bias: with two inputs the second (the factor or the bias) must match the first's
    axes from `axis` on, for as many axes as it has (num_axes is then ignored, as in Caffe)."""
    if len(ins) > 1:
        shape, by = ins[0], ins[1]
        param = layer.scale_param if layer.type == "Scale" else layer.bias_param
        axis = canonical_axis(param.axis, len(shape)) if by else 0
        if shape[axis : axis + len(by)] != list(by):
            raise ShapeError(
                f"its second input {_show(by)} must match the axes of its first {_show(shape)} "
                f"from axis {axis} on"
            )
    return _same(layer, ins)


def _eltwise(layer, ins):
    for shape in ins[1:]:
        if shape != ins[0]:
            raise ShapeError(f"its inputs have different shapes: {', '.join(map(_show, ins))}")
    return [list(ins[0])]


def _concat(layer, ins):
    param = layer.concat_param
    raw = param.concat_dim if param.HasField("concat_dim") else param.axis
    axis = canonical_axis(raw, len(ins[0]))
    for shape in ins[1:]:
        if len(shape) != len(ins[0]) or any(
            a != b for i, (a, b) in enumerate(zip(shape, ins[0], strict=True)) if i != axis
        ):
            raise ShapeError(f"its inputs differ outside axis {axis}: {', '.join(map(_show, ins))}")
    out = list(ins[0])
    out[axis] = sum(shape[axis] for shape in ins)
    return [out]


def _flatten(layer, ins):
    param, shape = layer.flatten_param, ins[0]
    start = canonical_axis(param.axis, len(shape))
    end = canonical_axis(param.end_axis, len(shape))
    return [[*shape[:start], prod(shape[start : end + 1]), *shape[end + 1 :]]]


def _reshape(layer, ins):
    param, shape = layer.reshape_param, ins[0]
    rank = len(shape)
    start = param.axis + rank + 1 if param.axis < 0 else param.axis
    end = rank if param.num_axes == -1 else start + param.num_axes
    if not 0 <= start <= end <= rank:
        raise ShapeError(
            f"axis {param.axis} and num_axes {param.num_axes} do not fit {_show(shape)}"
        )
    middle = []
    for index, dim in enumerate(param.shape.dim):
        if dim == 0:
            if start + index >= rank:
                raise ShapeError(f"dim {index} copies axis {start + index}, which does not exist")
            middle.append(shape[start + index])
        else:
            middle.append(dim)
    out = [*shape[:start], *middle, *shape[end:]]
    if out.count(-1) > 1 or any(d < -1 for d in out):
        raise ShapeError(f"shape {list(param.shape.dim)} has more than one -1 or a negative size")
    known = prod(d for d in out if d != -1)
    total = prod(shape)
    if -1 in out:
        if known == 0 or total % known:
            raise ShapeError(f"{_show(shape)} cannot be reshaped to {list(param.shape.dim)}")
        out[out.index(-1)] = total // known
    if prod(out) != total:
        raise ShapeError(f"{_show(shape)} ({total} values) cannot be reshaped to {_show(out)}")
    return [out]


def _crop(layer, ins):
    if len(ins) != 2:
        raise ShapeError("it takes two inputs: the blob to crop and one of the wanted size")
    param, shape, like = layer.crop_param, ins[0], ins[1]
    axis = canonical_axis(param.axis, len(shape))
    offsets = list(param.offset)
    count = len(shape) - axis
    if len(offsets) not in (0, 1, count):
        raise ShapeError(f"offset gives {len(offsets)} values for {count} cropped axes")
    out = list(shape)
    for i in range(axis, len(shape)):
        offset = (offsets[0] if len(offsets) == 1 else offsets[i - axis]) if offsets else 0
        if i >= len(like) or like[i] + offset > shape[i]:
            raise ShapeError(f"{_show(like)} plus offset {offset} does not fit in {_show(shape)}")
        out[i] = like[i]
    return [out]


def permute_order(param, rank: int) -> list[int]:
    """The SSD fork's Permute order, completed with the axes it does not name."""
    order = list(param.order)
    if len(set(order)) != len(order) or any(axis >= rank for axis in order):
        raise ShapeError(f"order {order} is not a permutation of {rank} axes")
    return order + [axis for axis in range(rank) if axis not in order]


def _permute(layer, ins):
    shape = ins[0]
    return [[shape[axis] for axis in permute_order(layer.permute_param, len(shape))]]


def slice_points(layer, shape: list[int]) -> tuple[int, list[int]]:
    """(axis, sizes along it) of a Slice layer's tops."""
    param = layer.slice_param
    axis = canonical_axis(
        param.slice_dim if param.HasField("slice_dim") else param.axis, len(shape)
    )
    size, tops, points = shape[axis], len(layer.top), list(param.slice_point)
    if points:
        if len(points) != tops - 1 or points != sorted(points) or points[-1] >= size:
            raise ShapeError(f"slice_point {points} does not cut axis {axis} ({size}) in {tops}")
        edges = [0, *points, size]
        return axis, [b - a for a, b in zip(edges, edges[1:], strict=False)]
    if size % tops:
        raise ShapeError(f"axis {axis} ({size}) does not split evenly into {tops} tops")
    return axis, [size // tops] * tops


def _slice(layer, ins):
    axis, sizes = slice_points(layer, ins[0])
    return [[*ins[0][:axis], size, *ins[0][axis + 1 :]] for size in sizes]


def prior_box_count(param) -> int:
    """Priors per feature-map cell of a PriorBox layer (SSD fork's rule for aspect ratios)."""
    ratios = [1.0]
    for ratio in param.aspect_ratio:
        if all(abs(ratio - known) > 1e-6 for known in ratios):
            ratios.append(ratio)
            if param.flip:
                ratios.append(1.0 / ratio)
    return len(ratios) * len(param.min_size) + len(param.max_size)


def _prior_box(layer, ins):
    shape = ins[0]
    if len(shape) != 4:
        raise ShapeError(f"its first input must be a 4-D feature map, not {_show(shape)}")
    return [[1, 2, shape[2] * shape[3] * prior_box_count(layer.prior_box_param) * 4]]


def _show(shape: Shape) -> str:
    return "[?]" if shape is None else "[" + ",".join(map(str, shape)) + "]"


Rule = Callable[[object, list[list[int]]], list[Shape]]
ELEMENTWISE = (
    "BatchNorm ReLU PReLU ELU Sigmoid TanH AbsVal BNLL Exp Log Power Threshold Dropout "
    "LRN Softmax Normalize MVN Split Clip Swish"
).split()
RULES: dict[str, Rule] = {
    **dict.fromkeys(ELEMENTWISE, _same),
    "Scale": _scaled,
    "Bias": _scaled,
    "Convolution": _convolution,
    "Deconvolution": lambda layer, ins: _convolution(layer, ins, deconvolution=True),
    "InnerProduct": _inner_product,
    "Pooling": _pooling,
    "Eltwise": _eltwise,
    "Concat": _concat,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Crop": _crop,
    "Permute": _permute,
    "Slice": _slice,
    "PriorBox": _prior_box,
}
