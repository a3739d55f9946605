"""Caffe preflight on real Caffe models written with the console's own schema."""

import pytest

from conversions.converters.ascend.caffe import CaffeError, check_caffe
from conversions.converters.ascend.caffe_schema import message, parse_caffemodel, parse_prototxt
from conversions.converters.base import ConversionError
from tests.ascendkit import CaffeNet, lenet, resnet_block


def problems_of(prototxt, caffemodel) -> list[str]:
    with pytest.raises(CaffeError) as info:
        check_caffe(prototxt, caffemodel)
    return info.value.problems


def test_a_lenet_passes_with_its_inputs_outputs_and_weights(tmp_path):
    prototxt, caffemodel = lenet().write(tmp_path)
    net = check_caffe(prototxt, caffemodel)
    assert net.inputs == [("data", [1, 1, 28, 28])]
    assert net.outputs == ["prob"]
    assert (net.layers, net.weighted_layers) == (9, 4)
    assert net.warnings == []


def test_the_weights_read_back_bit_for_bit(tmp_path):
    built = lenet()
    _, caffemodel = built.write(tmp_path)
    read = parse_caffemodel(caffemodel)
    conv1 = next(layer for layer in read.layer if layer.name == "conv1")
    assert list(conv1.blobs[0].shape.dim) == [20, 1, 5, 5]
    assert list(conv1.blobs[0].data) == list(built.net.layer[1].blobs[0].data)
    assert len(conv1.blobs[0].data) == 500


def test_a_resnet_block_with_batchnorm_scale_and_eltwise_passes(tmp_path):
    prototxt, caffemodel = resnet_block().write(tmp_path)
    net = check_caffe(prototxt, caffemodel)
    assert net.inputs == [("data", [1, 3, 32, 32])]
    assert net.outputs == ["pool"]
    # 3 x (Convolution + BatchNorm + Scale) hold weights; ReLU, Eltwise and Pooling do not
    assert net.weighted_layers == 9
    text, _ = parse_prototxt(prototxt)
    assert [layer.type for layer in text.layer].count("Eltwise") == 1


def test_the_legacy_input_fields_are_read(tmp_path):
    net = lenet()
    del net.net.layer[0]
    net.net.input.append("data")
    net.net.input_dim.extend([1, 1, 28, 28])
    prototxt, caffemodel = net.write(tmp_path)
    assert check_caffe(prototxt, caffemodel).inputs == [("data", [1, 1, 28, 28])]


@pytest.mark.parametrize(
    "kind, field, param, expected",
    [
        (
            "Python",
            "python_param",
            'module: "os" layer: "system"',
            "it imports and runs Python code",
        ),
        ("HDF5Output", "hdf5_output_param", 'file_name: "/tmp/out.h5"', "it writes files"),
        ("Data", "data_param", 'source: "train_lmdb" batch_size: 64', "reads training data"),
    ],
)
def test_layers_that_run_code_write_files_or_read_data_are_refused(
    tmp_path, kind, field, param, expected
):
    net = lenet()
    net.layer("extra", kind, ["prob"], **{field: param})
    found = problems_of(*net.write(tmp_path))
    assert len(found) == 1
    assert found[0].startswith(f"Layer 'extra' is a {kind} layer") and expected in found[0]


def test_a_type_mismatch_between_the_files_is_refused(tmp_path):
    prototxt, _ = lenet().write(tmp_path / "a")
    other = lenet()
    other.net.layer[5].type = "Convolution"  # ip1
    _, caffemodel = other.write(tmp_path / "b")
    assert problems_of(prototxt, caffemodel) == [
        "Layer 'ip1' is a InnerProduct in net.prototxt but a Convolution in net.caffemodel: "
        "layer types must match exactly."
    ]


def test_a_name_that_differs_in_case_and_a_missing_weighted_layer_are_refused(tmp_path):
    prototxt, _ = lenet().write(tmp_path / "a")
    other = lenet()
    other.net.layer[1].name = "Conv1"
    del other.net.layer[3]  # conv2
    _, caffemodel = other.write(tmp_path / "b")
    assert problems_of(prototxt, caffemodel) == [
        "Layer 'conv1' of net.prototxt is called 'Conv1' in net.caffemodel: names must match "
        "exactly, including case.",
        "Layer 'conv2' (Convolution) has no weights in net.caffemodel: the two files do not "
        "belong to the same network.",
    ]


def test_a_network_without_input_reports_the_missing_blob(tmp_path):
    net = lenet()
    del net.net.layer[0]
    found = problems_of(*net.write(tmp_path))
    assert found[0].startswith("The network declares no input: add an Input layer")
    assert "Layer 'conv1' reads blob 'data', which no input or earlier layer produces" in found[1]


def test_inputs_above_four_dimensions_or_batch_above_one_are_refused(tmp_path):
    net = lenet(batch=8)
    net.input("extra", [1, 2, 3, 4, 5])
    found = problems_of(*net.write(tmp_path))
    assert found == [
        "Input 'data' has batch 8 [8,1,28,28]: the batch must be 1; set it to 1 in the "
        ".prototxt's input shape.",
        "Input 'extra' has 5 dimensions [1,2,3,4,5]: ATC takes inputs of at most 4 dimensions.",
    ]


def test_an_input_without_a_shape_is_refused(tmp_path):
    net = lenet()
    net.net.layer[0].ClearField("input_param")
    assert "Input 'data' has no shape" in problems_of(*net.write(tmp_path))[0]


@pytest.mark.parametrize("cut", [7, 1000, 200_000])
def test_a_truncated_caffemodel_is_refused(tmp_path, cut):
    prototxt, caffemodel = lenet().write(tmp_path)
    data = caffemodel.read_bytes()
    caffemodel.write_bytes(data[: len(data) - cut])
    with pytest.raises(ConversionError) as info:
        check_caffe(prototxt, caffemodel)
    assert "truncated or corrupt" in str(info.value)


def test_a_blob_with_fewer_values_than_its_shape_is_refused(tmp_path):
    net = lenet()
    del net.net.layer[1].blobs[1].data[5:]
    found = problems_of(*net.write(tmp_path))
    assert found == [
        "Weight blob 1 of layer 'conv1' in net.caffemodel holds 5 values for shape [20] "
        "(20 expected): the file is truncated or corrupt."
    ]


def test_text_that_is_not_a_network_is_refused_with_its_line(tmp_path):
    prototxt, caffemodel = lenet().write(tmp_path)
    prototxt.write_text('name: "x"\nlayer { name: "a" type: }\n')
    with pytest.raises(ConversionError) as info:
        check_caffe(prototxt, caffemodel)
    assert str(info.value).startswith("net.prototxt is not a valid Caffe network definition: 2:")


def test_the_files_swapped_are_refused(tmp_path):
    prototxt, caffemodel = lenet().write(tmp_path)
    with pytest.raises(ConversionError) as info:
        check_caffe(caffemodel, prototxt)
    assert "not a text file" in str(info.value)


def test_the_pre_2015_format_asks_for_an_upgrade(tmp_path):
    prototxt, caffemodel = lenet().write(tmp_path)
    prototxt.write_text('name: "old"\nlayers { name: "conv1" }\n')
    with pytest.raises(ConversionError) as info:
        check_caffe(prototxt, caffemodel)
    assert "pre-2015 'layers' format" in str(info.value) and "upgrade_net_proto_text" in str(
        info.value
    )
    old = message("NetParameter")
    old.layers.add(name="conv1")
    caffemodel.write_bytes(old.SerializeToString())
    with pytest.raises(ConversionError) as info:
        parse_caffemodel(caffemodel)
    assert "upgrade_net_proto_binary" in str(info.value)


def test_fields_of_a_fork_are_skipped_with_a_warning(tmp_path):
    prototxt, caffemodel = lenet().write(tmp_path)
    text = prototxt.read_text().replace(
        'name: "prob"', 'name: "prob"\n  prior_box_param { min_size: 30.0 }'
    )
    prototxt.write_text(text)
    net = check_caffe(prototxt, caffemodel)
    assert net.outputs == ["prob"]
    assert "fields outside the standard Caffe schema (first: 'prior_box_param')" in net.warnings[0]


def test_a_top_that_does_not_carry_the_layer_name_is_a_warning(tmp_path):
    net = CaffeNet("t")
    net.input("data", [1, 3, 4, 4])
    net.layer("relu", "ReLU", ["data"], top=["activated"])
    assert "writes blob 'activated'" in check_caffe(*net.write(tmp_path)).warnings[0]
