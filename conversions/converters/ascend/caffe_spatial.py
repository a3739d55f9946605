"""Convolution, deconvolution, pooling and LRN of Caffe in NumPy, for the reference forward pass.

Each follows Caffe's CPU code in what it computes (padding, rounding of the output size, the
divisor of average pooling, LRN's window) but not in how: windows are NumPy strided views, the sums
of a (de)convolution one float32 matrix product per group (BLAS), pooling windows taken along
columns and then rows. Inputs are float32 N x C x H x W arrays.
"""

import numpy as np

from conversions.converters.ascend.caffe_shapes import ShapeError, conv_geometry, pooling_window


def _four_d(x: np.ndarray, what: str) -> None:
    if x.ndim != 4:
        raise ShapeError(f"the reference computes {what} on 4-D (N, C, H, W) blobs only")


def _output(y: np.ndarray, n: int, oh: int, ow: int) -> np.ndarray:
    """The (outputs, N * OH * OW) product as an N x outputs x OH x OW blob."""
    y = y.reshape(-1, n, oh, ow)
    return y[None, :, 0] if n == 1 else np.ascontiguousarray(y.transpose(1, 0, 2, 3))


def convolution_rule(layer, shape: list[int]):
    """Caffe's convolution of inputs of `shape`, its geometry worked out once (at plan time): a
    rule (layer, [x], blobs, outs) -> [y], one matrix product per group over the im2col columns.
    A second blob is the bias (a plan may have folded a BatchNorm or Scale into both blobs)."""
    if len(shape) != 4:
        raise ShapeError("the reference computes convolutions on 4-D (N, C, H, W) blobs only")
    param = layer.convolution_param
    g = conv_geometry(param, list(shape))
    (ph, pw), (sh, sw), (dh, dw), (kh, kw) = g.pad, g.stride, g.dilation, g.kernel
    n, c, h, w = shape
    oh, ow = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    group, padded_shape = param.group, (n, c, h + 2 * ph, w + 2 * pw)
    # im2col: (C * KH * KW) x (N * OH * OW), one copy of a strided view of the padded input
    sx = np.dtype(np.float32).itemsize
    sy, sc = sx * padded_shape[3], sx * padded_shape[3] * padded_shape[2]
    windows = ((c, kh, kw, n, oh, ow), (sc, sy * dh, sx * dw, sc * c, sy * sh, sx * sw))
    direct = (kh, kw, sh, sw, n) == (1, 1, 1, 1, 1)  # a 1x1 convolution reads the input as it is
    augmented = []  # (the weights blob, its matrix with the bias as a last column): made once

    def matrix(blobs):
        if not augmented or augmented[0] is not blobs[0]:
            weights = blobs[0].reshape(blobs[0].shape[0], -1)
            augmented[:] = [blobs[0], np.hstack([weights, blobs[1].reshape(-1, 1)])]
        return augmented[1]

    def run(layer, ins, blobs, outs):
        x = ins[0]
        if ph or pw:
            padded = np.zeros(padded_shape, np.float32)
            padded[:, :, ph : ph + h, pw : pw + w] = x
        else:
            padded = np.ascontiguousarray(x, np.float32)
        rows, columns = c * kh * kw, n * oh * ow
        if direct:
            cols = padded.reshape(c, h * w)
        elif group == 1 and len(blobs) > 1:  # a row of ones: the bias is summed with the rest
            cols = np.empty((rows + 1, columns), np.float32)
            cols[rows] = 1.0
            view = np.ndarray(windows[0], np.float32, padded, 0, windows[1])
            np.copyto(cols[:rows].reshape(windows[0]), view)
            return [_output(matrix(blobs) @ cols, n, oh, ow)]
        else:
            cols = np.ndarray(windows[0], np.float32, padded, 0, windows[1]).reshape(rows, columns)
        weights = blobs[0].reshape(blobs[0].shape[0], -1)
        if group == 1:
            y = weights @ cols
        else:  # (out_group, C/group * KH * KW) @ (C/group * KH * KW, N * OH * OW) per group
            y = np.empty((weights.shape[0], columns), np.float32)
            per_group, outputs = rows // group, weights.shape[0] // group
            for i in range(group):
                part = slice(i * outputs, (i + 1) * outputs)
                np.matmul(weights[part], cols[i * per_group : (i + 1) * per_group], out=y[part])
        if len(blobs) > 1:
            y += blobs[1].reshape(-1, 1)
        return [_output(y, n, oh, ow)]

    return run


def deconvolution(layer, x: np.ndarray, blobs: list[np.ndarray]) -> np.ndarray:
    """The transpose of a convolution: every input value spreads over a kernel-sized patch."""
    _four_d(x, "deconvolutions")
    param = layer.convolution_param
    g = conv_geometry(param, list(x.shape))
    (ph, pw), (sh, sw), (dh, dw) = g.pad, g.stride, g.dilation
    weights = blobs[0]  # C_in x (num_output / group) x kh x kw
    channels, out_group, kh, kw = weights.shape
    n, _, h, w = x.shape
    group = param.group
    in_group = channels // group
    full_h, full_w = sh * (h - 1) + dh * (kh - 1) + 1, sw * (w - 1) + dw * (kw - 1) + 1
    y = np.zeros((n, out_group * group, full_h, full_w), np.float64)
    for i in range(group):  # one matrix product, then col2im: each kernel position's patch added
        xs = x[:, i * in_group : (i + 1) * in_group].transpose(1, 0, 2, 3).reshape(in_group, -1)
        ws = weights[i * in_group : (i + 1) * in_group].reshape(in_group, -1)
        spread = (ws.T @ xs).reshape(out_group, kh, kw, n, h, w).transpose(3, 0, 1, 2, 4, 5)
        target = y[:, i * out_group : (i + 1) * out_group]
        for a in range(kh):
            for b in range(kw):
                rows = slice(a * dh, a * dh + sh * (h - 1) + 1, sh)
                columns = slice(b * dw, b * dw + sw * (w - 1) + 1, sw)
                target[:, :, rows, columns] += spread[:, :, a, b]
    y = y[:, :, ph : full_h - ph, pw : full_w - pw]
    if param.bias_term:
        y = y + blobs[1].reshape(1, -1, 1, 1)
    return np.ascontiguousarray(y, dtype=np.float32)


def _windows_1d(size: int, out: int, kernel: int, stride: int, pad: int) -> np.ndarray:
    """Per output index: Caffe's average-pooling divisor (the window clipped to size + pad)."""
    starts = np.arange(out) * stride - pad
    ends = np.minimum(starts + kernel, size + pad)
    return ends - starts


def _along_windows(a, axis: int, kernel: int, stride: int, pad: int, out: int, combine, fill):
    """`combine` (maximum or add) over `out` windows of `kernel` positions along `axis`, `stride`
    apart, the first starting `pad` before the blob; positions outside the blob count as `fill`.
    One pass per kernel position over the outputs whose window holds it: no padded copy."""
    size, parts = a.shape[axis], []
    for offset in range(kernel):
        first = max(0, -((offset - pad) // stride))  # the first window reaching into the blob
        last = min(out, (size - 1 - offset + pad) // stride + 1)
        if first < last:
            begin = first * stride + offset - pad
            source, target = [slice(None)] * a.ndim, [slice(None)] * a.ndim
            source[axis] = slice(begin, begin + stride * (last - first - 1) + 1, stride)
            target[axis] = slice(first, last)
            parts.append((tuple(target), a[tuple(source)], last - first == out))
    if len(parts) > 1 and parts[0][2] and parts[1][2]:  # both cover every window: no fill
        total = combine(parts[0][1], parts[1][1], dtype=np.float32 if fill else np.float64)
        parts = parts[2:]
    else:
        shape = list(a.shape)
        shape[axis] = out
        total = np.full(shape, fill, np.float32 if fill else np.float64)  # exact max, float64 sums
    for target, values, _ in parts:
        part = total[target]
        combine(part, values, out=part)
    return total


def pool(x: np.ndarray, method: int, out: tuple[int, int], kernel, stride, pad) -> np.ndarray:
    """MAX (0) or AVE (1) pooling with Caffe's padding and divisor, to an `out` H x W."""
    _four_d(x, "pooling")
    n, c, h, w = x.shape
    combine, fill = (np.maximum, -np.inf) if method == 0 else (np.add, 0.0)
    # separable: over the window's columns, then its rows (kernel[0] + kernel[1] passes)
    rows = _along_windows(x, 3, kernel[1], stride[1], pad[1], out[1], combine, fill)
    total = _along_windows(rows, 2, kernel[0], stride[0], pad[0], out[0], combine, fill)
    if method == 0:
        return total
    divisor = np.outer(
        _windows_1d(h, out[0], kernel[0], stride[0], pad[0]),
        _windows_1d(w, out[1], kernel[1], stride[1], pad[1]),
    )
    return (total / divisor).astype(np.float32)


def pooling(layer, x: np.ndarray, out_shape: list[int]) -> np.ndarray:
    param = layer.pooling_param
    if param.pool not in (0, 1):
        raise ShapeError("the reference computes MAX and AVE pooling only")
    if param.global_pooling:
        whole = np.max if param.pool == 0 else np.mean
        return whole(x, axis=(2, 3), keepdims=True).astype(np.float32)
    kernel, stride, pad = pooling_window(param)
    return pool(x, param.pool, tuple(out_shape[2:]), kernel, stride, pad)


def lrn(layer, x: np.ndarray) -> np.ndarray:
    param = layer.lrn_param
    size, alpha, beta = param.local_size, param.alpha, param.beta
    if size % 2 == 0:
        raise ShapeError("LRN's local_size must be odd")
    squares = x.astype(np.float64) ** 2
    half = (size - 1) // 2
    if param.norm_region == 0:  # ACROSS_CHANNELS: a window over neighbouring channels
        n, c = x.shape[:2]
        padded = np.zeros((n, c + 2 * half, *x.shape[2:]))
        padded[:, half : half + c] = squares
        window = padded[:, :c].copy()
        for start in range(1, size):
            window += padded[:, start : start + c]
        scale = param.k + alpha / size * window
    else:  # WITHIN_CHANNEL: an average over a size x size neighbourhood (Caffe: shift 1, no k)
        out = x.shape[2:]
        mean = pool(squares, 1, out, [size, size], [1, 1], [half, half])
        scale = 1.0 + alpha * mean.astype(np.float64)
    return (x / scale**beta).astype(np.float32)
