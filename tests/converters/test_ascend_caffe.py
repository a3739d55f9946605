"""Caffe preflight on real Caffe models written with the console's own schema."""

import pytest
from google.protobuf import text_format

from conversions.converters.ascend.caffe import CaffeError, check_caffe
from conversions.converters.ascend.caffe_schema import message, parse_caffemodel, parse_prototxt
from conversions.converters.base import ConversionError
from tests.ascendkit import CaffeNet, lenet, resnet_block, ssd_head


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


def test_a_type_mismatch_whose_weights_do_not_fit_is_refused_by_the_shape_check(tmp_path):
    prototxt, _ = lenet().write(tmp_path / "a")
    other = lenet()
    del other.net.layer[5].blobs[:]
    other.net.layer[5].type = "Convolution"  # ip1, now with convolution weights
    other.net.layer[5].blobs.extend(
        CaffeNet("x").layer("c", "Convolution", blobs=[(500, 50, 4, 4), (500,)]).blobs
    )
    _, caffemodel = other.write(tmp_path / "b")
    assert problems_of(prototxt, caffemodel) == [
        "Weight blob 0 of layer 'ip1' (InnerProduct) should have the shape [500,800] but "
        "net.caffemodel holds [500,50,4,4]: the two files do not belong together."
    ]


def test_a_type_mismatch_whose_weights_fit_is_accepted_and_said(tmp_path):
    prototxt, _ = lenet().write(tmp_path / "a")
    other = lenet()
    other.net.layer[5].type = "MyInnerProduct"
    _, caffemodel = other.write(tmp_path / "b")
    net = check_caffe(prototxt, caffemodel)
    assert len(net.warnings) == 1
    assert "'ip1' (InnerProduct here, MyInnerProduct there; weights fit)" in net.warnings[0]


def shipped_resnet() -> CaffeNet:
    """The weights file as a zoo ships it: `data` a MemoryData layer, the training layers still
    there, a layer the deploy file dropped (with its blobs), another net name, no entries for the
    layers without weights."""
    shipped = resnet_block()
    shipped.net.name = "ResNet-50-train"
    data = shipped.net.layer[0]
    data.type = "MemoryData"
    data.ClearField("input_param")
    data.top.append("label")
    data.memory_data_param.batch_size = 1
    for layer in list(shipped.net.layer):
        if layer.type in ("ReLU", "Eltwise", "Pooling"):
            shipped.net.layer.remove(layer)
    shipped.layer("fc_old", "InnerProduct", ["pool"], blobs=[(10, 16), (10,)])
    shipped.layer("loss", "SoftmaxWithLoss", ["fc_old", "label"])
    shipped.layer("accuracy", "Accuracy", ["fc_old", "label"])
    shipped.layer("silence", "Silence", ["label"], top=[])
    return shipped


def test_a_shipped_model_that_differs_where_atc_does_not_look_passes_with_one_line(tmp_path):
    prototxt, _ = resnet_block().write(tmp_path / "deploy")
    _, caffemodel = shipped_resnet().write(tmp_path / "shipped")
    net = check_caffe(prototxt, caffemodel)
    assert (net.inputs, net.outputs, net.weighted_layers) == (
        [("data", [1, 3, 32, 32])],
        ["pool"],
        9,
    )
    assert net.warnings == [
        "net.caffemodel differs from net.prototxt in ways ATC ignores (it takes the structure from "
        "the .prototxt and the weights by layer name): net name 'ResNet-50-train' (not "
        "'ResNetBlock'); 4 layers only in the weights file (fc_old, loss, accuracy, silence); "
        "layer types that differ where it does not matter: 'data' (Input here, MemoryData there); "
        "no entry for 4 layers without weights."
    ]


def test_a_weight_blob_of_the_wrong_shape_names_expected_and_found(tmp_path):
    prototxt, _ = lenet().write(tmp_path / "a")
    other = lenet()
    conv1 = other.net.layer[1]
    del conv1.blobs[:]
    conv1.blobs.extend(CaffeNet("x").layer("c", "Convolution", blobs=[(20, 3, 5, 5), (20,)]).blobs)
    other.net.layer[3].blobs[1].shape.dim[0] = 49  # conv2's bias, values cut to match
    del other.net.layer[3].blobs[1].data[49:]
    _, caffemodel = other.write(tmp_path / "b")
    assert problems_of(prototxt, caffemodel) == [
        "Weight blob 0 of layer 'conv1' (Convolution) should have the shape [20,1,5,5] but "
        "net.caffemodel holds [20,3,5,5]: the two files do not belong together.",
        "Weight blob 1 of layer 'conv2' (Convolution) should have the shape [50] but "
        "net.caffemodel holds [49]: the two files do not belong together.",
    ]


def test_a_wrong_number_of_blobs_is_refused(tmp_path):
    net = lenet()
    net.net.layer[1].convolution_param.bias_term = False  # the deploy file says: no bias
    prototxt, _ = net.write(tmp_path / "a")
    _, caffemodel = lenet().write(tmp_path / "b")
    assert problems_of(prototxt, caffemodel) == [
        "Layer 'conv1' (Convolution) needs 1 weight blobs ([20,1,5,5]) but net.caffemodel holds 2 "
        "([20,1,5,5], [20]): the two files do not belong together."
    ]


def test_legacy_blob_dimensions_are_compared_the_way_caffe_does(tmp_path):
    net = resnet_block()
    for layer in net.net.layer:
        for blob in layer.blobs:
            dims = list(blob.shape.dim)
            blob.ClearField("shape")
            blob.num, blob.channels, blob.height, blob.width = [1] * (4 - len(dims)) + dims
    assert check_caffe(*net.write(tmp_path)).weighted_layers == 9
    net.net.layer[2].blobs[0].width = 8  # bn_res2a_branch1's mean: 8 values for 16 channels
    del net.net.layer[2].blobs[0].data[8:]
    assert problems_of(*net.write(tmp_path)) == [
        "Weight blob 0 of layer 'bn_res2a_branch1' (BatchNorm) should have the shape [16] but "
        "net.caffemodel holds [1,1,1,8] (legacy num/channels/height/width): the two files do not "
        "belong together."
    ]


def test_after_a_layer_of_unknown_shape_only_counts_and_derivable_dims_are_checked(tmp_path):
    net = CaffeNet("custom")
    net.input("data", [1, 3, 8, 8])
    net.layer("odd", "MyFancyLayer", ["data"])
    net.layer(
        "fc", "InnerProduct", ["odd"], blobs=[(4, 77), (4,)], inner_product_param="num_output: 4"
    )
    prototxt, caffemodel = net.write(tmp_path)
    assert check_caffe(prototxt, caffemodel).weighted_layers == 1
    net.net.layer[2].blobs[1].shape.dim[0] = 3
    del net.net.layer[2].blobs[1].data[3:]
    assert problems_of(*net.write(tmp_path)) == [
        "Weight blob 1 of layer 'fc' (InnerProduct) should have the shape [4] but net.caffemodel "
        "holds [3]: the two files do not belong together."
    ]


def test_a_kernel_larger_than_the_input_is_refused(tmp_path):
    net = lenet()
    net.net.layer[0].input_param.shape[0].dim[2] = 3
    assert problems_of(*net.write(tmp_path))[0] == (
        "Layer 'conv1' (Convolution): its output would be [1,20,-1,24]: the kernel [5,5] does not "
        "fit the input [1,1,3,28]. Check the input shape and the layer's parameters in the "
        ".prototxt."
    )


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
        'name: "prob"', 'name: "prob"\n  roi_pooling_param { pooled_h: 7 }'
    )
    prototxt.write_text(text)
    net = check_caffe(prototxt, caffemodel)
    assert net.outputs == ["prob"]
    assert (
        "fields outside the standard Caffe schema (first: 'roi_pooling_param')" in net.warnings[0]
    )


def test_a_top_that_does_not_carry_the_layer_name_is_a_warning(tmp_path):
    net = CaffeNet("t")
    net.input("data", [1, 3, 4, 4])
    net.layer("relu", "ReLU", ["data"], top=["activated"])
    assert "writes blob 'activated'" in check_caffe(*net.write(tmp_path)).warnings[0]


def test_an_ssd_detection_output_gets_what_to_change_for_atc(tmp_path):
    found = problems_of(*ssd_head().write(tmp_path))
    assert found == [
        "Layer 'detection_out' is a DetectionOutput layer, which ATC takes only as Ascend's "
        "SSDDetectionOutput: set the option ssd_detection_output to rewrite (the console rewrites "
        "the .prototxt for ATC), or change the layer yourself as Ascend's \"Modifying SSD "
        'Prototxt" guide says: type "SSDDetectionOutput", the three bottoms in the order box '
        "deltas, scores, prior boxes, two tops (the box count, then the detections), and "
        "detection_output_param becomes ssddetectionoutput_param: nms_param.nms_threshold -> "
        "iou_threshold, nms_param.top_k -> top_k, nms_param.eta -> eta, and num_classes, "
        "share_location, background_label_id, code_type, variance_encoded_in_target, keep_top_k, "
        "confidence_threshold by name."
    ]


def test_an_ssd_detection_output_is_rewritten_for_atc_on_request(tmp_path):
    prototxt, caffemodel = ssd_head().write(tmp_path)
    net = check_caffe(prototxt, caffemodel, ssd="rewrite")
    assert net.weighted_layers == 4  # conv1, conv1_norm and the two heads
    assert net.outputs == ["detection_out_boxnum", "detection_out"]
    layer = net.rewritten.layer[-1]
    assert layer.type == "SSDDetectionOutput" and not layer.HasField("detection_output_param")
    assert list(layer.bottom) == ["mbox_loc_flat", "mbox_conf_flat", "mbox_priorbox"]
    assert list(layer.top) == ["detection_out_boxnum", "detection_out"]
    written = text_format.MessageToString(layer.ssddetectionoutput_param, as_one_line=True)
    assert written == (
        "num_classes: 2 share_location: true background_label_id: 0 iou_threshold: 0.45 "
        "top_k: 100 eta: 1.0 variance_encoded_in_target: false code_type: 2 keep_top_k: 50 "
        "confidence_threshold: 0.01"
    )
    assert net.changes == [
        "Layer 'detection_out' rewritten from DetectionOutput to SSDDetectionOutput for ATC: tops "
        "detection_out_boxnum (box count) and detection_out (detections, shape [N, keep_top_k "
        "rounded up to 128, 8]); iou_threshold 0.45, code_type 2, num_classes 2"
    ]


def test_caffe_defaults_are_written_out_and_atc_defaults_named(tmp_path):
    prototxt, caffemodel = ssd_head("num_classes: 21").write(tmp_path)
    net = check_caffe(prototxt, caffemodel, ssd="rewrite")
    param = net.rewritten.layer[-1].ssddetectionoutput_param
    # Caffe's defaults (CORNER, NMS 0.3) differ from ATC's (2, 0.45): they are written out
    assert (param.code_type, round(param.iou_threshold, 6), param.HasField("top_k")) == (
        1,
        0.3,
        False,
    )
    assert net.changes[0].endswith(
        "unset in the .prototxt, so ATC's defaults apply: top_k 400, keep_top_k 200, "
        "confidence_threshold 0.01"
    )


def test_an_ssd_detection_output_can_be_kept_for_a_custom_operator(tmp_path):
    net = check_caffe(*ssd_head().write(tmp_path), ssd="keep")
    assert net.rewritten is None
    assert "passed to ATC unchanged (ssd_detection_output=keep)" in net.warnings[0]


def test_a_rewrite_that_would_lose_unknown_fields_is_refused(tmp_path):
    prototxt, caffemodel = ssd_head().write(tmp_path)
    prototxt.write_text(
        prototxt.read_text().replace(
            'name: "conv1"\n', 'name: "conv1"\n  roi_pooling_param { pooled_h: 7 }\n', 1
        )
    )
    with pytest.raises(ConversionError) as info:
        check_caffe(prototxt, caffemodel, ssd="rewrite")
    assert str(info.value).startswith(
        "ssd_detection_output=rewrite cannot rewrite this .prototxt without losing what the "
        "standard schema does not know (net.prototxt uses fields outside the standard Caffe schema "
        "(first: 'roi_pooling_param')"
    )
