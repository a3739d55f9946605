"""Shape inference through Caffe networks (caffe_shapes), checked against sizes worked out by hand
from Caffe's formulas."""

import pytest

from conversions.converters.ascend.caffe_schema import message
from conversions.converters.ascend.caffe_shapes import infer_shapes
from conversions.converters.ascend.caffe_weights import expected_blobs, fits
from tests.ascendkit import CaffeNet


def shapes_of(net: CaffeNet, inputs: dict) -> tuple[dict, list[str]]:
    found, problems = infer_shapes(net.net, inputs)
    return {entry.layer.name: entry.outputs for entry in found}, problems


def one(kind, param_field, param, shape, bottoms=1, tops=None, **more):
    net = CaffeNet("t")
    names = [f"in{i}" for i in range(bottoms)]
    for name in names:
        net.input(name, shape)
    extra = {param_field: param} if param_field else {}
    net.layer("x", kind, names, top=tops, **extra, **more)
    found, problems = shapes_of(net, dict.fromkeys(names, shape))
    assert problems == []
    return found["x"]


@pytest.mark.parametrize(
    "param, size, expected",
    [
        # ResNet's pool1: ceil((112 - 3) / 2) + 1 = 56 (floor would give 55)
        ("pool: MAX kernel_size: 3 stride: 2", 112, 56),
        ("pool: MAX kernel_size: 3 stride: 2 round_mode: FLOOR", 112, 55),
        # ceil((7 + 2 - 3) / 2) + 1 = 4, and the last window starts inside: kept
        ("pool: MAX kernel_size: 3 stride: 2 pad: 1", 7, 4),
        # ceil((5 + 2 - 2) / 2) + 1 = 4, but window 3 would start at 6 >= 5 + 1: dropped
        ("pool: AVE kernel_size: 2 stride: 2 pad: 1", 5, 3),
        ("pool: AVE global_pooling: true", 9, 1),
    ],
)
def test_pooling_rounds_the_way_caffe_does(param, size, expected):
    assert one("Pooling", "pooling_param", param, [1, 8, size, size]) == [
        [1, 8, expected, expected]
    ]


def test_convolution_and_deconvolution_sizes():
    # dilation 2 makes a 3-tap kernel span 5: (10 + 2 - 5) // 2 + 1 = 4
    conv = "num_output: 6 kernel_size: 3 stride: 2 pad: 1 dilation: 2"
    assert one("Convolution", "convolution_param", conv, [1, 3, 10, 10]) == [[1, 6, 4, 4]]
    rect = "num_output: 6 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 stride_h: 1 stride_w: 2"
    assert one("Convolution", "convolution_param", rect, [1, 3, 10, 10]) == [[1, 6, 10, 5]]
    # 2 * (5 - 1) + 4 - 2 * 1 = 10
    deconv = "num_output: 8 kernel_size: 4 stride: 2 pad: 1"
    assert one("Deconvolution", "convolution_param", deconv, [1, 4, 5, 5]) == [[1, 8, 10, 10]]


def test_reshaping_layers():
    shape = [1, 4, 3, 5]
    assert one("InnerProduct", "inner_product_param", "num_output: 7", shape) == [[1, 7]]
    assert one("Flatten", None, None, shape) == [[1, 60]]
    assert one("Flatten", "flatten_param", "axis: 2", shape) == [[1, 4, 15]]
    assert one("Reshape", "reshape_param", "shape { dim: 0 dim: -1 dim: 5 }", shape) == [[1, 12, 5]]
    assert one("Permute", "permute_param", "order: 0 order: 2 order: 3 order: 1", shape) == [
        [1, 3, 5, 4]
    ]
    assert one("Concat", None, None, shape, bottoms=3) == [[1, 12, 3, 5]]
    assert one(
        "Slice", "slice_param", "slice_point: 1 slice_point: 3", shape, tops=list("abc")
    ) == [
        [1, 1, 3, 5],
        [1, 2, 3, 5],
        [1, 1, 3, 5],
    ]
    assert one("Eltwise", None, None, shape, bottoms=2) == [shape]


def test_crop_takes_the_sizes_of_its_second_input():
    net = CaffeNet("t")
    net.input("big", [1, 4, 9, 9])
    net.input("small", [1, 2, 5, 6])
    net.layer("crop", "Crop", ["big", "small"], crop_param="axis: 2 offset: 2")
    found, problems = shapes_of(net, {"big": [1, 4, 9, 9], "small": [1, 2, 5, 6]})
    assert (found["crop"], problems) == ([[1, 4, 5, 6]], [])


def test_prior_boxes_count_aspect_ratios_flips_and_max_sizes():
    # ratios 1, 2, 1/2 (the repeated 1.0 is dropped) x one min_size, plus one max_size: 4 priors
    param = "min_size: 30 max_size: 60 aspect_ratio: 1.0 aspect_ratio: 2 flip: true"
    assert one("PriorBox", "prior_box_param", param, [1, 16, 5, 5]) == [[1, 2, 5 * 5 * 4 * 4]]


def test_an_unknown_layer_makes_everything_downstream_unknown():
    net = CaffeNet("t")
    net.input("data", [1, 3, 8, 8])
    net.layer("odd", "MyFancyLayer", ["data"])
    net.layer("relu", "ReLU", ["odd"])
    net.layer("side", "ReLU", ["data"])
    found, problems = shapes_of(net, {"data": [1, 3, 8, 8]})
    assert found == {"data": [[1, 3, 8, 8]], "odd": [None], "relu": [None], "side": [[1, 3, 8, 8]]}
    assert problems == []


def test_shapes_caffe_refuses_are_problems_named_by_layer():
    net = CaffeNet("t")
    net.input("a", [1, 3, 8, 8])
    net.input("b", [1, 4, 8, 8])
    net.layer("sum", "Eltwise", ["a", "b"])
    net.layer("r", "Reshape", ["a"], reshape_param="shape { dim: 5 dim: -1 }")
    net.layer("after", "ReLU", ["sum"])
    found, problems = shapes_of(net, {"a": [1, 3, 8, 8], "b": [1, 4, 8, 8]})
    assert problems == [
        "Layer 'sum' (Eltwise): its inputs have different shapes: [1,3,8,8], [1,4,8,8]. Check the "
        "input shape and the layer's parameters in the .prototxt.",
        "Layer 'r' (Reshape): [1,3,8,8] cannot be reshaped to [5, -1]. Check the input shape and "
        "the layer's parameters in the .prototxt.",
    ]
    assert found["after"] == [None]


def test_a_two_input_scale_needs_a_second_input_that_fits_from_its_axis():
    net = CaffeNet("t")
    net.input("x", [1, 8, 6, 6])
    net.input("gate", [1, 8])
    net.input("pooled", [1, 8, 1, 1])
    net.layer("se", "Scale", ["x", "gate"], scale_param="axis: 0 num_axes: 1")
    net.layer("rows", "Scale", ["x", "pooled"], scale_param="axis: 1")
    net.layer("wrong", "Scale", ["x", "pooled"], scale_param="axis: 0")
    net.layer("shift", "Bias", ["x", "gate"], bias_param="axis: 1")
    found, problems = shapes_of(net, {"x": [1, 8, 6, 6], "gate": [1, 8], "pooled": [1, 8, 1, 1]})
    assert found["se"] == [[1, 8, 6, 6]]
    assert [p.split(":", 1)[0] for p in problems] == [
        "Layer 'rows' (Scale)", "Layer 'wrong' (Scale)", "Layer 'shift' (Bias)"
    ]  # fmt: skip
    assert problems[1] == (
        "Layer 'wrong' (Scale): its second input [1,8,1,1] must match the axes of its first "
        "[1,8,6,6] from axis 0 on. Check the input shape and the layer's parameters in the "
        ".prototxt."
    )


def test_the_blobs_each_weighted_layer_needs():
    net = CaffeNet("t")
    net.input("x", [1, 6, 5, 5])
    net.input("s", [6])
    net.layer(
        "dc", "Deconvolution", ["x"], convolution_param="num_output: 4 kernel_size: 2 group: 2"
    )
    net.layer("gc", "Convolution", ["x"], convolution_param="num_output: 4 kernel_size: 3 group: 2")
    net.layer("ip", "InnerProduct", ["x"], inner_product_param="num_output: 3 transpose: true")
    net.layer("pr", "PReLU", ["x"])
    net.layer("prs", "PReLU", ["x"], prelu_param="channel_shared: true")
    net.layer("sc2", "Scale", ["x", "s"], scale_param="axis: 1 bias_term: true")
    net.layer("sc", "Scale", ["x"], scale_param="num_axes: 2")
    net.layer("bias", "Bias", ["x"])
    net.layer("emb", "Embed", ["x"], embed_param="num_output: 8 input_dim: 100 bias_term: false")
    net.layer("relu", "ReLU", ["x"])
    found, _ = infer_shapes(net.net, {"x": [1, 6, 5, 5], "s": [6]})
    assert {e.layer.name: expected_blobs(e.layer, e.inputs) for e in found[2:]} == {
        "dc": [[6, 2, 2, 2], [4]],
        "gc": [[4, 3, 3, 3], [4]],
        "ip": [[150, 3], [3]],
        "pr": [[6]],
        "prs": [[]],
        "sc2": [[6]],
        "sc": [[6, 5]],
        "bias": [[6]],
        "emb": [[100, 8]],
        "relu": [],
    }
    scalar, one = message("BlobProto"), message("BlobProto")
    one.shape.dim.append(1)
    scalar.shape.SetInParent()
    assert fits([], scalar) and fits([], one) and not fits([6], one)
