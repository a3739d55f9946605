"""The weight blobs a Caffe layer needs, and whether a .caffemodel layer provides them.

ATC (like Caffe's CopyTrainedLayersFrom) takes the structure from the .prototxt and looks the blobs
up by layer name in the .caffemodel: what matters is that every layer with weights finds the right
number of blobs of the right shapes. The shapes come from caffe_shapes; a dimension it cannot derive
(downstream of a layer it does not know) is None and matches anything.
"""

from math import prod

from conversions.converters.ascend.caffe_shapes import (
    ShapeError,
    canonical_axis,
    conv_kernel,
    conv_spatial_axes,
)

Expected = list[int | None] | None  # None: a blob of unknown rank (only its presence is checked)


def _channels(shape, axis: int = 1) -> int | None:
    return shape[axis] if shape is not None and len(shape) > axis else None


def _convolution(layer, shape, deconvolution: bool) -> list[Expected]:
    param = layer.convolution_param
    try:
        axis = canonical_axis(param.axis, len(shape)) if shape is not None else None
        count = len(shape) - axis - 1 if shape is not None else conv_spatial_axes(param)
        kernel: list[int | None] = conv_kernel(param, count)
    except ShapeError:
        return [None] * (2 if param.bias_term else 1)  # caffe_shapes reports the problem
    channels = _channels(shape, axis) if shape is not None else None
    group = param.group or 1
    if deconvolution:
        weights = [channels, param.num_output // group, *kernel]
    else:
        weights = [param.num_output, None if channels is None else channels // group, *kernel]
    return [weights] + ([[param.num_output]] if param.bias_term else [])


def _inner_product(layer, shape) -> list[Expected]:
    param = layer.inner_product_param
    inputs = None
    if shape is not None:
        try:
            inputs = prod(shape[canonical_axis(param.axis, len(shape)) :])
        except ShapeError:
            pass
    weights = [inputs, param.num_output] if param.transpose else [param.num_output, inputs]
    return [weights] + ([[param.num_output]] if param.bias_term else [])


def _scale_shape(param, shape) -> Expected:
    """The blob of a one-bottom Scale or Bias: the input's axes [axis, axis + num_axes)."""
    if shape is None:
        return None if param.num_axes < 0 else [None] * param.num_axes
    try:
        axis = canonical_axis(param.axis, len(shape)) if shape else 0
    except ShapeError:
        return None
    return list(shape[axis:] if param.num_axes < 0 else shape[axis : axis + param.num_axes])


def _scale(layer, ins) -> list[Expected]:
    param = layer.scale_param
    if len(ins) > 1:  # the scale is the second bottom; only a bias is learned
        return [ins[1]] if param.bias_term else []
    blob = _scale_shape(param, ins[0])
    return [blob, blob] if param.bias_term else [blob]


def expected_blobs(layer, ins: list) -> list[Expected]:
    """The weight blobs `layer` needs ([] for a layer without weights), given its input shapes."""
    shape = ins[0] if ins else None
    kind = layer.type
    if kind in ("Convolution", "Deconvolution"):
        return _convolution(layer, shape, kind == "Deconvolution")
    if kind == "InnerProduct":
        return _inner_product(layer, shape)
    if kind == "BatchNorm":
        return [[_channels(shape)], [_channels(shape)], [1]]
    if kind == "Scale":
        return _scale(layer, ins)
    if kind == "Bias":
        return [_scale_shape(layer.bias_param, shape)] if len(ins) == 1 else []
    if kind == "PReLU":
        return [[] if layer.prelu_param.channel_shared else [_channels(shape)]]
    if kind == "Normalize":
        return [[] if layer.norm_param.channel_shared else [_channels(shape)]]
    if kind == "Embed":
        param = layer.embed_param
        weights = [param.input_dim, param.num_output]
        return [weights] + ([[param.num_output]] if param.bias_term else [])
    return []


def blob_dims(blob) -> tuple[list[int], bool]:
    """The dimensions a blob records, and whether they are Caffe's legacy (num, channels, height,
    width) fields rather than a shape."""
    if blob.HasField("shape"):
        return list(blob.shape.dim), False
    return [blob.num, blob.channels, blob.height, blob.width], True


def fits(expected: Expected, blob) -> bool:
    """Caffe's ShapeEquals: a shape matches exactly; legacy fields match the shape padded to 4-D
    with leading 1s. A scalar ([]) also matches a one-value [1]; None dimensions match anything."""
    if expected is None:
        return True
    dims, legacy = blob_dims(blob)
    if legacy:
        if len(expected) > 4:
            return False
        expected = [1] * (4 - len(expected)) + list(expected)
    elif expected == [] and dims == [1]:
        return True
    return len(dims) == len(expected) and all(
        e is None or e == d for e, d in zip(expected, dims, strict=False)
    )


def show(expected: Expected) -> str:
    if expected is None:
        return "[?]"
    return "[" + ",".join("?" if d is None else str(d) for d in expected) + "]"


def found_dims(blob) -> str:
    dims, legacy = blob_dims(blob)
    return show(dims) + (" (legacy num/channels/height/width)" if legacy else "")


def blob_problems(layer, ins: list, blobs, model_name: str) -> list[str]:
    """What is wrong with the blobs a .caffemodel gives `layer`: count, then each shape."""
    expected = expected_blobs(layer, ins)
    if len(blobs) != len(expected):
        return [
            f"Layer '{layer.name}' ({layer.type}) needs {len(expected)} weight blobs "
            f"({', '.join(map(show, expected))}) but {model_name} holds {len(blobs)}"
            + (f" ({', '.join(found_dims(b) for b in blobs)})" if len(blobs) else "")
            + ": the two files do not belong together."
        ]
    return [
        f"Weight blob {index} of layer '{layer.name}' ({layer.type}) should have the shape "
        f"{show(want)} but {model_name} holds {found_dims(blob)}: the two files do not belong "
        "together."
        for index, (want, blob) in enumerate(zip(expected, blobs, strict=True))
        if not fits(want, blob)
    ]
