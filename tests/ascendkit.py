"""Helpers for the Ascend tests: real Caffe models built with the console's own schema, the ATC
stand-in installed as an executable, and small ONNX models."""

import stat
import sys
from pathlib import Path

import numpy as np
from google.protobuf import text_format

from conversions.converters.ascend.caffe_schema import message

STAND_IN = Path(__file__).resolve().parent / "converters" / "atc_stand_in.py"
AIPP = "aipp_op {\n  aipp_mode: static\n  input_format: RGB888_U8\n  csc_switch: false\n}\n"


def install_atc_stand_in(folder: Path, version: str = "7.0.0") -> Path:
    """Copy the ATC STAND-IN to folder/bin/atc (run by this Python) with a CANN-style version.info."""
    bin_dir = Path(folder) / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    atc = bin_dir / "atc"
    atc.write_text(f"#!{sys.executable}\n" + STAND_IN.read_text())
    atc.chmod(atc.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    (Path(folder) / "version.info").write_text(f"Version={version}\n")
    return atc


# -- Caffe -------------------------------------------------------------------------------------


class CaffeNet:
    """Builds a NetParameter layer by layer, with seeded random weights of the right shapes."""

    def __init__(self, name: str, seed: int = 0):
        self.net = message("NetParameter")
        self.net.name = name
        self.rng = np.random.default_rng(seed)

    def layer(self, name, kind, bottom=(), top=None, blobs=(), **params):
        layer = self.net.layer.add(name=name, type=kind)
        layer.bottom.extend(bottom)
        layer.top.extend([name] if top is None else top)
        for shape in blobs:
            blob = layer.blobs.add()
            blob.shape.dim.extend(shape)
            blob.data.extend(self.rng.standard_normal(int(np.prod(shape))).astype(np.float32))
        for field, values in params.items():
            text_format.Parse(values, getattr(layer, field))
        return layer

    def input(self, name, dims):
        shape = " ".join(f"dim: {d}" for d in dims)
        return self.layer(name, "Input", input_param=f"shape {{ {shape} }}")

    def write(self, folder: Path, stem: str = "net") -> tuple[Path, Path]:
        """`stem.prototxt` (structure only, as a deploy file) and `stem.caffemodel` (with weights)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        deploy = message("NetParameter")
        deploy.CopyFrom(self.net)
        for layer in deploy.layer:
            del layer.blobs[:]
        prototxt, caffemodel = folder / f"{stem}.prototxt", folder / f"{stem}.caffemodel"
        prototxt.write_text(text_format.MessageToString(deploy))
        caffemodel.write_bytes(self.net.SerializeToString())
        return prototxt, caffemodel


def lenet(batch: int = 1) -> CaffeNet:
    """LeNet for 28x28 grey images: conv-pool-conv-pool-fc-relu-fc-softmax."""
    net = CaffeNet("LeNet")
    net.input("data", [batch, 1, 28, 28])
    conv = "num_output: {} kernel_size: 5 stride: 1"
    net.layer(
        "conv1",
        "Convolution",
        ["data"],
        blobs=[(20, 1, 5, 5), (20,)],
        convolution_param=conv.format(20),
    )
    net.layer("pool1", "Pooling", ["conv1"], pooling_param="pool: MAX kernel_size: 2 stride: 2")
    net.layer(
        "conv2",
        "Convolution",
        ["pool1"],
        blobs=[(50, 20, 5, 5), (50,)],
        convolution_param=conv.format(50),
    )
    net.layer("pool2", "Pooling", ["conv2"], pooling_param="pool: MAX kernel_size: 2 stride: 2")
    net.layer(
        "ip1",
        "InnerProduct",
        ["pool2"],
        blobs=[(500, 800), (500,)],
        inner_product_param="num_output: 500",
    )
    net.layer("relu1", "ReLU", ["ip1"], top=["ip1"])
    net.layer(
        "ip2",
        "InnerProduct",
        ["ip1"],
        blobs=[(10, 500), (10,)],
        inner_product_param="num_output: 10",
    )
    net.layer("prob", "Softmax", ["ip2"])
    return net


def resnet_block(channels: int = 16) -> CaffeNet:
    """One ResNet basic block in Caffe's style: Convolution + BatchNorm + Scale (in place), ReLU,
    a projection shortcut, and an Eltwise sum."""
    net = CaffeNet("ResNetBlock", seed=1)
    net.input("data", [1, 3, 32, 32])
    c = channels

    def conv_bn(name, bottom, cin, kernel, pad):
        net.layer(
            name,
            "Convolution",
            [bottom],
            blobs=[(c, cin, kernel, kernel)],
            convolution_param=f"num_output: {c} kernel_size: {kernel} pad: {pad} bias_term: false",
        )
        net.layer(
            f"bn_{name}",
            "BatchNorm",
            [name],
            top=[name],
            blobs=[(c,), (c,), (1,)],
            batch_norm_param="use_global_stats: true",
        )
        net.layer(
            f"scale_{name}",
            "Scale",
            [name],
            top=[name],
            blobs=[(c,), (c,)],
            scale_param="bias_term: true",
        )

    conv_bn("res2a_branch1", "data", 3, 1, 0)
    conv_bn("res2a_branch2a", "data", 3, 3, 1)
    net.layer("res2a_branch2a_relu", "ReLU", ["res2a_branch2a"], top=["res2a_branch2a"])
    conv_bn("res2a_branch2b", "res2a_branch2a", c, 3, 1)
    net.layer(
        "res2a", "Eltwise", ["res2a_branch1", "res2a_branch2b"], eltwise_param="operation: SUM"
    )
    net.layer("res2a_relu", "ReLU", ["res2a"], top=["res2a"])
    net.layer("pool", "Pooling", ["res2a"], pooling_param="pool: AVE global_pooling: true")
    return net


# -- ONNX --------------------------------------------------------------------------------------


def onnx_conv(path: Path, opset: int = 13, batch: int | str = 1, name: str = "x") -> Path:
    """A one-convolution ONNX model (input `x` [batch,3,8,8], output `y`), written to `path`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    node = helper.make_node("Conv", [name, "w"], ["y"], name="conv", pads=[1, 1, 1, 1])
    relu = helper.make_node("Relu", ["y"], ["z"], name="relu")
    graph = helper.make_graph(
        [node, relu],
        "conv",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [batch, 4, 8, 8])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return Path(path)


def ssd_head(detection_output: str | None = None) -> CaffeNet:
    """A tiny SSD in the SSD fork's style: a Normalize'd feature map, box and class convolutions
    permuted and flattened, prior boxes, and the DetectionOutput layer ATC does not take as is."""
    net = CaffeNet("SSD", seed=2)
    net.input("data", [1, 3, 8, 8])
    conv = "num_output: {} kernel_size: 3 pad: 1"
    net.layer(
        "conv1",
        "Convolution",
        ["data"],
        blobs=[(8, 3, 3, 3), (8,)],
        convolution_param=conv.format(8),
    )
    net.layer(
        "conv1_norm",
        "Normalize",
        ["conv1"],
        blobs=[(8,)],
        norm_param="across_spatial: false channel_shared: false",
    )
    priors, classes = 4, 2
    for head, outputs in (("loc", priors * 4), ("conf", priors * classes)):
        net.layer(
            f"mbox_{head}",
            "Convolution",
            ["conv1_norm"],
            blobs=[(outputs, 8, 3, 3), (outputs,)],
            convolution_param=conv.format(outputs),
        )
        net.layer(
            f"mbox_{head}_perm",
            "Permute",
            [f"mbox_{head}"],
            permute_param="order: 0 order: 2 order: 3 order: 1",
        )
        net.layer(f"mbox_{head}_flat", "Flatten", [f"mbox_{head}_perm"])
    net.layer(
        "mbox_priorbox",
        "PriorBox",
        ["conv1_norm", "data"],
        prior_box_param="min_size: 4 max_size: 8 aspect_ratio: 2 flip: true variance: 0.1",
    )
    net.layer(
        "detection_out",
        "DetectionOutput",
        ["mbox_loc_flat", "mbox_conf_flat", "mbox_priorbox"],
        detection_output_param=detection_output
        or (
            "num_classes: 2 share_location: true background_label_id: 0 "
            "nms_param { nms_threshold: 0.45 top_k: 100 } code_type: CENTER_SIZE keep_top_k: 50 "
            "confidence_threshold: 0.01"
        ),
    )
    return net
