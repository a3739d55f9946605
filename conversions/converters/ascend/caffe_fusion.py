"""Plan-time fusion for the NumPy reference forward pass (caffe_numpy): fewer passes over big blobs.

Caffe nets write BatchNorm, Scale and ReLU in place on a convolution's output (a ResNet's
conv -> BatchNorm -> Scale -> ReLU). Done one by one, every such layer reads and writes the whole
blob again. A plan folds them instead, where nothing can tell the difference:

- a BatchNorm, Scale or Bias that works per channel, in place on the blob a Convolution has just
  written, becomes part of that convolution's weights and bias (combined in float64, as ONNX
  Runtime and TensorRT fold them);
- a ReLU in place on the blob a Convolution or Eltwise has just written runs on that fresh array
  without a copy.

Only a layer that comes right after, on the same blob, is fused, so no layer can read the blob
in between; the blob holds the same values when the pass ends.
"""

import numpy as np

from conversions.converters.ascend.caffe_shapes import canonical_axis

Affine = tuple[np.ndarray, np.ndarray]  # per channel, float64: y = x * multiplier + shift


def batch_norm_affine(layer, params) -> Affine:
    """Caffe's BatchNorm as a per-channel multiply-add: (x - mean) / sqrt(variance + eps), the
    stored mean and variance divided by the moving-average factor."""
    mean, variance, factor = params
    scale = 0.0 if factor.reshape(-1)[0] == 0 else 1.0 / float(factor.reshape(-1)[0])
    multiplier = 1.0 / np.sqrt(variance.astype(np.float64) * scale + layer.batch_norm_param.eps)
    return multiplier, -mean.astype(np.float64) * scale * multiplier


def _channel_affine(step, channels: int) -> Affine | None:
    """A one-input BatchNorm, Scale or Bias as a per-channel multiply-add, or None."""
    layer, _, params, _ = step
    if len(layer.bottom) != 1:
        return None
    if layer.type == "BatchNorm":
        return batch_norm_affine(layer, params)
    param = {"Scale": layer.scale_param, "Bias": layer.bias_param}.get(layer.type)
    if param is None or canonical_axis(param.axis, 4) != 1 or params[0].shape != (channels,):
        return None
    values = params[0].astype(np.float64)
    if layer.type == "Bias":
        return np.ones(channels), values
    shift = params[1].astype(np.float64) if param.bias_term else np.zeros(channels)
    return values, shift


def _in_place_on(layer, blob: str) -> bool:
    return list(layer.bottom) == [blob] and list(layer.top) == [blob]


def _fold(params, affine: Affine) -> list[np.ndarray]:
    multiplier, shift = affine
    weights = params[0].astype(np.float64) * multiplier.reshape(-1, 1, 1, 1)
    bias = params[1].astype(np.float64) * multiplier if len(params) > 1 else 0.0
    return [weights.astype(np.float32), (bias + shift).astype(np.float32)]


def _then_relu(rule, slope: float):
    def fused(layer, ins, params, outs):
        (y,) = rule(layer, ins, params, outs)
        if slope == 0:
            return [np.maximum(y, 0, out=y)]
        return [np.multiply(y, np.float32(slope), out=y, where=y < 0)]

    return fused


def fuse(steps: list[tuple]) -> list[tuple]:
    """The (layer, rule, params, output shapes) steps of a plan with the fusions above."""
    fused, index = [], 0
    while index < len(steps):
        layer, rule, params, outputs = steps[index]
        index += 1
        if len(layer.top) != 1 or outputs[0] is None or len(outputs[0]) != 4:
            fused.append((layer, rule, params, outputs))
            continue
        blob, channels = layer.top[0], outputs[0][1]
        if layer.type == "Convolution":
            affine = None
            while index < len(steps) and _in_place_on(steps[index][0], blob):
                more = _channel_affine(steps[index], channels)
                if more is None:
                    break
                affine = (
                    more if affine is None else (affine[0] * more[0], affine[1] * more[0] + more[1])
                )
                index += 1
            if affine is not None:
                params = _fold(params, affine)
        if layer.type in ("Convolution", "Eltwise") and index < len(steps):
            relu = steps[index][0]
            if relu.type == "ReLU" and _in_place_on(relu, blob):
                rule = _then_relu(rule, relu.relu_param.negative_slope)
                index += 1
        fused.append((layer, rule, params, outputs))
    return fused
