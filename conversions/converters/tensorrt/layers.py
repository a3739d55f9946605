"""Per-layer error of an int8 Q/DQ ONNX model (the TensorRT int8 route), with ONNX Runtime's
quantization debugging helpers.

Every activation of a Q/DQ model passes a QuantizeLinear / DequantizeLinear pair: comparing the tensor
before and after the pair, in the Q/DQ model itself, gives the loss of that tensor's own int8 step on
top of what the layers before it lost, as TFLite's NumericVerify does. The layer is the node that
writes the tensor, named as ONNX Runtime's `nodes_to_exclude` takes it.
"""

from pathlib import Path

import numpy as np

from conversions.converters import quantlayers
from conversions.converters.tensorrt.precision import batches

QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}


def _shapes(model) -> dict[str, list]:
    import onnx

    typed = onnx.shape_inference.infer_shapes(model).graph
    shapes = {}
    for value in [*typed.value_info, *typed.output]:
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_value if d.dim_value > 0 else -1 for d in dims]
    return shapes


def _channel_sums(pre: np.ndarray, post: np.ndarray, shape: list) -> tuple:
    """Per-channel squared error and squared value; channels on axis 1 (ONNX is NCHW)."""
    if shape and shape.count(-1) <= 1 and len(shape) >= 2:
        try:
            pre, post = pre.reshape(shape), post.reshape(shape)
        except ValueError:
            pre, post = pre.reshape(1, -1), post.reshape(1, -1)
    else:
        pre, post = pre.reshape(1, -1), post.reshape(1, -1)
    pre, post = pre.astype(np.float64), post.astype(np.float64)
    axes = tuple(i for i in range(pre.ndim) if i != 1)
    return ((post - pre) ** 2).sum(axis=axes), (pre**2).sum(axis=axes)


def layer_errors(qdq_path: Path, names: list[str], sets, scratch: Path) -> list[dict]:
    """Every quantized activation's error on `sets` (see quantlayers.error), by writing node."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(batches(names, sets, 1))

        def get_next(self):
            return next(self.feeds, None)

    augmented = scratch / "int8-debug.onnx"
    modify_model_output_intermediate_tensors(str(qdq_path), str(augmented))
    matching = create_activation_matching(collect_activations(str(augmented), Reader()))
    model = onnx.load(str(qdq_path))
    shapes = _shapes(model)
    writers = {out: node for node in model.graph.node for out in node.output}
    layers = []
    for tensor, pair in matching.items():
        node = writers.get(tensor)
        if node is None or node.op_type in QDQ_OPS or not pair.get("pre_qdq"):
            continue  # a graph input, or a weight: not a layer's output
        noise = signal = 0.0
        for pre, post in zip(pair["pre_qdq"], pair["post_qdq"], strict=True):
            n, s = _channel_sums(pre, post, shapes.get(tensor, []))
            noise, signal = noise + n, signal + s
        layers.append(
            {
                "name": node.name or tensor,
                "op": node.op_type,
                "error": quantlayers.error(noise, signal),
            }
        )
    return layers


def float_shares(qdq_path: Path) -> dict:
    """Share of the compute nodes whose outputs are not quantized, and of the weights (initializers
    read by compute nodes or through a DequantizeLinear) stored in float."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(qdq_path)).graph
    quantized = {n.input[0] for n in graph.node if n.op_type == "QuantizeLinear"}
    compute = [n for n in graph.node if n.op_type not in QDQ_OPS]
    float_nodes = sum(1 for n in compute if not quantized.intersection(n.output))
    weights = {w.name: numpy_helper.to_array(w) for w in graph.initializer}
    dequantized = {n.input[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    read = {name for n in compute for name in n.input if name in weights} | (
        dequantized & set(weights)
    )
    sizes = {name: weights[name].size for name in read if weights[name].size > 1}
    total = sum(sizes.values())
    in_float = sum(size for name, size in sizes.items() if weights[name].dtype.kind == "f")
    return {
        "ops": float_nodes / len(compute) if compute else 0.0,
        "weights": in_float / total if total else 0.0,
    }


def node_names(model_path: Path) -> list[str]:
    """The names of the compute nodes of an ONNX model, in graph order (for keep_float_layers)."""
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return [n.name for n in graph.node if n.name and n.op_type not in QDQ_OPS]


# Ops that pass a tensor on without a weighted sum: a kept layer's output is followed through them.
PASS_THROUGH = {
    "Relu",
    "Clip",
    "LeakyRelu",
    "Transpose",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "MaxPool",
}


def with_readers(float32: Path, known: set[str]):
    """For 8bit-mixed: a function adding to a list of nodes the nodes that read their outputs in the
    float model (through activations and reshapes: ONNX does not fuse them as TFLite does), which
    would otherwise quantize those outputs again."""
    import onnx

    graph = onnx.load(str(float32), load_external_data=False).graph
    writer = {out: n.name for n in graph.node for out in n.output}
    op_type = {n.name: n.op_type for n in graph.node}
    readers: dict[str, list[str]] = {}
    for node in graph.node:
        for name in node.input:
            if name in writer:
                readers.setdefault(writer[name], []).append(node.name)

    def expand(kept: list[str]) -> list[str]:
        grown, queue = list(kept), list(kept)
        while queue:
            for reader in readers.get(queue.pop(), []):
                if reader in grown:
                    continue
                if reader in known:
                    grown.append(reader)
                if op_type.get(reader) in PASS_THROUGH:
                    queue.append(reader)
        return grown

    return expand
