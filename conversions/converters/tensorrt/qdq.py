"""What an int8 Q/DQ graph must look like for TensorRT, before and after ONNX Runtime quantizes it.

Detectors exported from training frameworks add constants to their activations (anchors, strides,
offsets) and were often exported at opset 11. ONNX Runtime's quantizer quantizes any float input of
an operator it supports, constants included, and TensorRT refuses a quantized constant anywhere but
the weight of a weighted layer ("Quantized constant ... is only allowed before DQ"). So, before
quantizing: the opset is raised to the one per-channel int8 needs, and every node that reads a float
constant outside a weight slot stays float. After: the graph is checked for the rule itself.
"""

from conversions.converters.base import ConversionError, Events

INT8_OPSET = 13  # QuantizeLinear / DequantizeLinear with a per-channel axis
# Where a weighted operator takes its weight (quantized) and its bias (kept float by the quantizer).
WEIGHT_SLOTS = {"Conv": 1, "ConvTranspose": 1, "Gemm": 1, "MatMul": 1}
BIAS_SLOTS = {"Conv": 2, "ConvTranspose": 2, "Gemm": 2}
# Operators whose quantizer handles only their data input: their other inputs (Clip's bounds, Resize's
# scales, ...) stay float whatever they are, so reading a constant there needs no exclusion. Kept in
# step with onnxruntime.quantization.registry; the check after quantizing catches any drift.
DATA_INPUT_ONLY = frozenset(
    {
        "Clip", "Relu", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Resize",
        "MaxPool", "AveragePool", "Slice", "Split", "Gather", "GatherElements", "TopK",
    }
)  # fmt: skip


def prepare(model, events: Events) -> list[str]:
    """Make `model` (a float32 ModelProto, changed in place) ready for the quantizer; returns the names
    of the nodes to keep float because they read a constant that is not a weight."""
    from onnx import version_converter

    from conversions.converters.tensorrt.onnxsource import opset_of

    opset = opset_of(model) or 0
    if opset < INT8_OPSET:
        events.log(
            f"Upgrade the ONNX model from opset {opset} to {INT8_OPSET} for int8 "
            "(onnx.version_converter)"
        )
        try:
            upgraded = version_converter.convert_version(model, INT8_OPSET)
        except Exception as exc:  # the converter raises several types; it names the operator
            raise ConversionError(
                f"8bit needs ONNX opset {INT8_OPSET}, and this opset {opset} model cannot be "
                f"upgraded automatically: {str(exc).strip()[-600:]} Export it again at opset "
                f"{INT8_OPSET} or later."
            ) from None
        model.CopyFrom(upgraded)
    for index, node in enumerate(model.graph.node):
        if not node.name:  # the quantizer excludes nodes by name
            node.name = f"{node.op_type}_{index}"
    constants = float_constants(model)
    keep = [
        node.name
        for node in model.graph.node
        if any(
            name in constants and not _allowed(node.op_type, position)
            for position, name in enumerate(node.input)
        )
    ]
    if keep:
        shown = ", ".join(keep[:8]) + (f" and {len(keep) - 8} more" if len(keep) > 8 else "")
        events.log(
            f"Keep {len(keep)} node(s) float that read a constant outside a weight (TensorRT "
            f"quantizes only weights among constants): {shown}"
        )
    return keep


def float_constants(model) -> set[str]:
    """Names of the float tensors in the main graph that are constants: initializers and the outputs of
    Constant nodes."""
    from onnx import TensorProto

    floats = (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16)
    names = {t.name for t in model.graph.initializer if t.data_type in floats}
    for node in model.graph.node:
        if node.op_type == "Constant":
            value = next((a.t for a in node.attribute if a.name == "value"), None)
            if value is not None and value.data_type in floats:
                names.update(node.output)
    return names


def misplaced_constants(model) -> list[str]:
    """Quantized constants that reach anything but the weight of a weighted layer, as "tensor -> op":
    a QuantizeLinear of a constant, or a DequantizeLinear of an int8 initializer, whose dequantized
    value feeds another slot or operator. Empty for a graph TensorRT takes."""
    from onnx import TensorProto

    constants = {t.name for t in model.graph.initializer}
    constants |= {o for n in model.graph.node if n.op_type == "Constant" for o in n.output}
    int8 = {
        t.name
        for t in model.graph.initializer
        if t.data_type in (TensorProto.INT8, TensorProto.UINT8)
    }
    quantized = {
        n.output[0]: n.input[0]
        for n in model.graph.node
        if n.op_type == "QuantizeLinear" and n.input[0] in constants
    }
    dequantized = {
        n.output[0]: quantized.get(n.input[0], n.input[0])
        for n in model.graph.node
        if n.op_type == "DequantizeLinear" and (n.input[0] in quantized or n.input[0] in int8)
    }
    problems = []
    for node in model.graph.node:
        for position, name in enumerate(node.input):
            if name in quantized and node.op_type != "DequantizeLinear":
                problems.append(f"{quantized[name]} -> {_label(node)}")
            elif name in dequantized and WEIGHT_SLOTS.get(node.op_type) != position:
                problems.append(f"{dequantized[name]} -> {_label(node)}")
    return problems


def check(model) -> None:
    problems = misplaced_constants(model)
    if problems:
        raise ConversionError(
            "The int8 model quantizes constants that are not weights, which TensorRT refuses: "
            f"{'; '.join(problems[:5])}. Choose 16bit for this model."
        )


def _allowed(op_type: str, position: int) -> bool:
    """Whether a constant at this input of this operator is left as TensorRT wants it."""
    if op_type in DATA_INPUT_ONLY:
        return position > 0
    return position in (WEIGHT_SLOTS.get(op_type), BIAS_SLOTS.get(op_type))


def _label(node) -> str:
    return f"{node.op_type} {node.name}" if node.name else node.op_type
