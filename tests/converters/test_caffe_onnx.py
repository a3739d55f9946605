"""Caffe to ONNX: a net of every supported layer type, generated with our schema, converted and run in
ONNX Runtime against the NumPy reference (caffe_numpy); pooling geometries where Caffe's rounding
differs from ONNX's; refusals by layer name."""

import numpy as np
import onnx
import pytest

from conversions.converters.ascend.caffe import CaffeError
from conversions.converters.caffe.onnx_export import read_caffe, reference, to_onnx
from conversions.converters.caffe.onnx_layers import RULES
from conversions.converters.tensorrt.precision import run_onnx
from conversions.converters.verify import compare_outputs, random_inputs
from tests.ascendkit import CaffeNet


def positive(layer, *indices):
    """Make blobs of `layer` positive (a variance, a moving-average count)."""
    for index in indices:
        blob = layer.blobs[index]
        values = np.abs(np.asarray(blob.data, np.float32)) + 0.5
        blob.ClearField("data")
        blob.data.extend(values)


def every_layer() -> CaffeNet:
    net = CaffeNet("every", seed=11)
    net.input("data", [1, 3, 12, 12])
    net.layer(
        "conv1", "Convolution", ["data"], blobs=[(8, 3, 3, 3), (8,)],
        convolution_param="num_output: 8 kernel_size: 3 pad: 1",
    )  # fmt: skip
    bn = net.layer("bn1", "BatchNorm", ["conv1"], ["conv1"], blobs=[(8,), (8,), (1,)])
    positive(bn, 1, 2)
    net.layer("sc1", "Scale", ["conv1"], ["conv1"], [(8,), (8,)], scale_param="bias_term: true")
    net.layer("relu1", "ReLU", ["conv1"], ["conv1"], relu_param="negative_slope: 0.1")
    net.layer("pool1", "Pooling", ["conv1"], pooling_param="pool: MAX kernel_size: 3 stride: 2")
    net.layer("lrn1", "LRN", ["pool1"], lrn_param="local_size: 3 alpha: 0.5 beta: 0.75 k: 2")
    net.layer(
        "lrn2", "LRN", ["lrn1"],
        lrn_param="local_size: 3 alpha: 0.5 beta: 0.75 norm_region: WITHIN_CHANNEL",
    )  # fmt: skip
    net.layer("prelu", "PReLU", ["lrn2"], blobs=[(8,)])
    net.layer("split", "Split", ["prelu"], ["a", "b"])
    net.layer(
        "conv2", "Convolution", ["a"], blobs=[(8, 4, 3, 3), (8,)],
        convolution_param="num_output: 8 kernel_size: 3 pad: 2 dilation: 2 group: 2",
    )  # fmt: skip
    net.layer("sig", "Sigmoid", ["conv2"], ["conv2"])
    net.layer("tanh", "TanH", ["b"])
    net.layer("sum", "Eltwise", ["conv2", "tanh"], eltwise_param="coeff: 1 coeff: -0.5")
    net.layer("prod", "Eltwise", ["conv2", "tanh", "sum"], eltwise_param="operation: PROD")
    net.layer("max", "Eltwise", ["sum", "prod"], eltwise_param="operation: MAX")
    net.layer("cat", "Concat", ["max", "prod"], concat_param="axis: 1")
    net.layer(
        "deconv", "Deconvolution", ["cat"], blobs=[(16, 4, 3, 3), (4,)],
        convolution_param="num_output: 4 kernel_size: 3 stride: 2 pad: 1",
    )  # fmt: skip
    net.layer("crop", "Crop", ["deconv", "pool1"], crop_param="axis: 2 offset: 1 offset: 2")
    net.layer("ave", "Pooling", ["crop"], pooling_param="pool: AVE kernel_size: 3 stride: 2")
    net.layer("permute", "Permute", ["ave"], permute_param="order: 0 order: 2 order: 3 order: 1")
    net.layer("flat", "Flatten", ["permute"])
    net.layer(
        "fc",
        "InnerProduct",
        ["flat"],
        blobs=[(10, 36), (10,)],
        inner_product_param="num_output: 10",
    )
    net.layer("drop", "Dropout", ["fc"], ["fc"])
    net.layer("shape", "Reshape", ["fc"], reshape_param="shape { dim: 0 dim: 2 dim: -1 }")
    net.layer("prob", "Softmax", ["shape"], softmax_param="axis: 2")
    net.layer("gpool", "Pooling", ["cat"], pooling_param="pool: AVE global_pooling: true")
    net.layer("gflat", "Flatten", ["gpool"])
    net.layer("slice", "Slice", ["gflat"], ["s1", "s2"], slice_param="slice_point: 6")
    net.layer("abs", "AbsVal", ["s1"])
    net.layer("bias", "Bias", ["s2"], blobs=[(10,)])
    net.layer("power", "Power", ["bias"], power_param="power: 2 scale: 0.5 shift: 1")
    net.layer("elu", "ELU", ["power"], elu_param="alpha: 0.7")
    net.layer("side", "Concat", ["abs", "elu"])
    return net


def squeeze_excitation() -> CaffeNet:
    """A squeeze-and-excitation block as SENet's Caffe models write it: global pooling, two
    InnerProducts and a Sigmoid make one gate per channel, a two-input Scale (axis 0: the gate is
    N x C) multiplies the features by it; a second two-input Scale (axis 1, with a learned bias)
    takes the gate reshaped to C, and a two-input Bias adds the gate once more."""
    net = CaffeNet("se", seed=13)
    net.input("data", [1, 8, 6, 6])
    net.layer(
        "conv", "Convolution", ["data"], blobs=[(8, 8, 3, 3), (8,)],
        convolution_param="num_output: 8 kernel_size: 3 pad: 1",
    )  # fmt: skip
    net.layer("squeeze", "Pooling", ["conv"], pooling_param="pool: AVE global_pooling: true")
    net.layer(
        "reduce", "InnerProduct", ["squeeze"], blobs=[(2, 8), (2,)],
        inner_product_param="num_output: 2",
    )  # fmt: skip
    net.layer("reduce_relu", "ReLU", ["reduce"], ["reduce"])
    net.layer(
        "expand", "InnerProduct", ["reduce"], blobs=[(8, 2), (8,)],
        inner_product_param="num_output: 8",
    )  # fmt: skip
    net.layer("gate", "Sigmoid", ["expand"])
    net.layer("excite", "Scale", ["conv", "gate"], scale_param="axis: 0")
    net.layer("channels", "Reshape", ["gate"], reshape_param="shape { dim: -1 }")
    net.layer(
        "regate", "Scale", ["excite", "channels"], blobs=[(8,)],
        scale_param="axis: 1 bias_term: true",
    )  # fmt: skip
    net.layer("shift", "Bias", ["regate", "gate"], bias_param="axis: 0")
    return net


def parity(tmp_path, net: CaffeNet, samples: int = 3):
    model = read_caffe(*net.write(tmp_path))
    onnx_model = to_onnx(model)
    path = tmp_path / "net.onnx"
    onnx.save(onnx_model, str(path))
    sets = random_inputs(model.inputs, seed=4, samples=samples)
    expected = reference(model, sets)
    got = run_onnx(path, model.inputs, sets)
    return model, onnx_model, compare_outputs(model.outputs, expected, got, "32bit")


def test_a_net_of_every_supported_layer_matches_the_numpy_reference(tmp_path):
    net = every_layer()
    assert {layer.type for layer in net.net.layer} - {"Input"} == set(RULES)
    model, onnx_model, rows = parity(tmp_path, net)
    assert model.outputs == ["prob", "side"]
    assert [o.name for o in onnx_model.graph.output] == ["prob", "side"]
    assert [i.name for i in onnx_model.graph.input] == ["data"]
    assert onnx_model.opset_import[0].version == 13
    for row in rows:
        assert row["verdict"] == "pass", row
        assert row["max_abs_error"] <= 1e-4


@pytest.mark.parametrize("method", ["MAX", "AVE"])
@pytest.mark.parametrize(
    "size, kernel, stride, pad, rounding",
    [(7, 3, 2, 1, "CEIL"), (8, 3, 2, 1, "CEIL"), (6, 3, 2, 0, "CEIL"), (9, 2, 2, 0, "CEIL"),
     (8, 3, 2, 0, "FLOOR"), (5, 3, 1, 1, "CEIL")],
)  # fmt: skip
def test_pooling_rounds_and_divides_as_caffe_does(
    tmp_path, method, size, kernel, stride, pad, rounding
):
    net = CaffeNet("pool")
    net.input("data", [1, 2, size, size])
    param = (
        f"pool: {method} kernel_size: {kernel} stride: {stride} pad: {pad} round_mode: {rounding}"
    )
    net.layer("pool", "Pooling", ["data"], pooling_param=param)
    _, _, rows = parity(tmp_path, net)
    assert rows[0]["verdict"] == "pass", rows


def test_layers_outside_the_set_are_refused_by_name(tmp_path):
    net = CaffeNet("odd")
    net.input("data", [1, 4, 3, 3])
    net.layer("norm", "Normalize", ["data"], blobs=[(4,)])
    net.layer("mine", "MyFancyLayer", ["norm"])
    with pytest.raises(CaffeError) as info:
        read_caffe(*net.write(tmp_path))
    assert info.value.problems == [
        f"Layer '{name}' is a {kind} layer, which the Caffe conversion to ONNX, TFLite and TensorRT "
        f"does not support. Supported layer types: {', '.join(sorted(RULES))}."
        for name, kind in (("norm", "Normalize"), ("mine", "MyFancyLayer"))
    ]


def test_a_two_input_scale_gates_channels_as_the_reference_does(tmp_path):
    model, onnx_model, rows = parity(tmp_path, squeeze_excitation())
    assert model.outputs == ["shift"]
    assert rows[0]["verdict"] == "pass" and rows[0]["max_abs_error"] <= 1e-4, rows
    constants = {tensor.name for tensor in onnx_model.graph.initializer}
    assert "regate/bias" in constants  # the learned bias; the factors are the gate itself
    assert not {"excite/factor", "regate/factor"} & constants
