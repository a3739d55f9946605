"""A Caffe model (.prototxt + .caffemodel) as an ONNX model, and its NumPy reference outputs.

`read_caffe` checks the pair the way the Ascend preflight does (structure from the .prototxt, weights
by layer name from the .caffemodel) after refusing, by name, every layer the export has no rule for.
`to_onnx` builds the graph with onnx.helper (opset 13) from the layer rules of onnx_layers and checks
it with onnx.checker. `reference` runs the original through the NumPy forward pass (caffe_numpy).

Caffe writes blobs in place (a ReLU whose top is its bottom); ONNX tensors are written once, so each
write gets its own tensor and the last write of a blob carries the blob's name: the ONNX inputs and
outputs are named as the Caffe blobs are.

Django-free; onnx is imported only when a model is built.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from conversions.converters.ascend.caffe import CaffeError, check_caffe
from conversions.converters.ascend.caffe_numpy import load_weights, prepare, shaped_blobs
from conversions.converters.ascend.caffe_schema import parse_caffemodel, parse_prototxt
from conversions.converters.ascend.caffe_shapes import ShapeError, infer_shapes
from conversions.converters.base import ConversionError
from conversions.converters.caffe.onnx_layers import RULES, Builder
from conversions.converters.tfgraph import TensorSpec

OPSET = 13


@dataclass
class CaffeModel:
    """A checked Caffe model: its structure, weights by layer name, inputs and outputs."""

    net: object  # caffe.NetParameter from the .prototxt
    weights: dict[str, list[np.ndarray]]
    inputs: list[TensorSpec]
    outputs: list[str]
    warnings: list[str] = field(default_factory=list)

    def input_shapes(self) -> dict[str, list[int]]:
        return {spec.name: list(spec.shape) for spec in self.inputs}


def unsupported_layers(net) -> list[str]:
    """One problem per layer the export has no rule for, naming the layer, its type and the set."""
    supported = ", ".join(sorted(RULES))
    return [
        f"Layer '{layer.name}' is a {layer.type} layer, which the Caffe conversion to ONNX, TFLite "
        f"and TensorRT does not support. Supported layer types: {supported}."
        for layer in net.layer
        if layer.type != "Input" and layer.type not in RULES
    ]


def read_caffe(prototxt: Path, caffemodel: Path) -> CaffeModel:
    """Read and check the pair; ConversionError listing every problem."""
    net, _ = parse_prototxt(prototxt)
    refused = unsupported_layers(net)
    if refused:
        raise CaffeError(refused)
    checked = check_caffe(prototxt, caffemodel, ssd="refuse")
    weights = load_weights(parse_caffemodel(caffemodel))
    inputs = [TensorSpec(name, list(dims), "float32") for name, dims in checked.inputs]
    return CaffeModel(checked.rewritten or net, weights, inputs, checked.outputs, checked.warnings)


def to_onnx(model: CaffeModel, name: str = "caffe"):
    """The ONNX ModelProto of a checked Caffe model (opset 13, float32, static shapes)."""
    import onnx
    from onnx import helper

    net = model.net
    shapes, problems = infer_shapes(net, model.input_shapes())
    if problems:
        raise CaffeError(problems)
    last_write = {top: index for index, entry in enumerate(shapes) for top in entry.layer.top}
    builder = Builder()
    inputs = {spec.name for spec in model.inputs}
    builder.names.update(last_write, inputs)  # reserved for the inputs and the last writes
    tensors: dict[str, str] = {name: name for name in inputs}
    blob_shapes = dict(model.input_shapes())
    for index, entry in enumerate(shapes):
        layer = entry.layer
        if layer.type == "Input":
            continue
        blobs = shaped_blobs(layer, entry.inputs, model.weights.get(layer.name, []))
        ins = [tensors[bottom] for bottom in layer.bottom]
        try:
            outs = RULES[layer.type](builder, layer, ins, entry.inputs, blobs, entry.outputs)
        except ShapeError as exc:
            raise ConversionError(
                f"Layer '{layer.name}' ({layer.type}) cannot be converted to ONNX: {exc}."
            ) from None
        for top, out, shape in zip(layer.top, outs, entry.outputs, strict=True):
            if last_write[top] == index and top not in inputs:
                out = _rename(builder, out, top)
            tensors[top] = out
            blob_shapes[top] = shape
    graph = helper.make_graph(
        builder.nodes,
        name,
        [_value(spec.name, spec.shape) for spec in model.inputs],
        [_value(tensors[top], blob_shapes[top]) for top in model.outputs],
        builder.initializers,
    )
    onnx_model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="model-console-caffe"
    )
    onnx_model.ir_version = min(onnx_model.ir_version, 8)  # readable by older runtimes
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def _rename(builder: Builder, tensor: str, blob: str) -> str:
    """Give the last write of a blob the blob's own name (reserved for it) in the node's outputs."""
    for node in reversed(builder.nodes):
        for i, output in enumerate(node.output):
            if output == tensor:
                node.output[i] = blob
                return blob
    return tensor


def _value(name: str, shape):
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def reference(model: CaffeModel, sets: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The NumPy forward pass of the original on each input set, stacked per output (as run_onnx)."""
    results, plans = [], {}
    for arrays in sets:
        feed = {spec.name: a for spec, a in zip(model.inputs, arrays, strict=True)}
        shapes = {name: list(a.shape) for name, a in feed.items()}
        key = repr(sorted(shapes.items()))
        if key not in plans:  # planned once per input shape, not once per sample
            plans[key] = prepare(model.net, model.weights, shapes)
        blobs = plans[key].run(feed)
        results.append([blobs[name] for name in model.outputs])
    return [np.concatenate([r[i] for r in results]) for i in range(len(model.outputs))]
