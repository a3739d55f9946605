"""Preflight of TensorFlow and ONNX models for ATC: read the model, check what ATC will need.

TensorFlow: the op audit (nothing outside the inference allow-list), every input given a static
shape, every name in input_shape and out_nodes a node of the graph. SavedModels are frozen first
(ATC's --framework=3 reads a frozen GraphDef only). ONNX: the checker passes and the opset is one
ATC reads. TensorFlow and ONNX are imported only here, in the converter child.
"""

from dataclasses import dataclass, field
from pathlib import Path

from conversions.converters import tfgraph
from conversions.converters.ascend.shapes import Dims, parse_input_shape, resolve_shapes
from conversions.converters.base import ConversionError, Events
from conversions.converters.op_audit import check_graph_def
from conversions.converters.savedmodel import freeze_saved_model

# ATC reads ONNX opsets 9 to 18 (CANN 7.0 and later; CANN 5 and 6 stop at 13).
ONNX_OPSETS = range(9, 19)
OLDER_CANN_MAX_OPSET = 13


@dataclass
class Model:
    """The model file ATC reads and what the preflight found in it."""

    path: Path
    inputs: list[tuple[str, list[int]]]  # static shapes, after input_shape
    dtypes: dict[str, str]
    outputs: list[str]
    notes: list[str] = field(default_factory=list)


class PreflightError(ConversionError):
    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"The {what} cannot be converted:\n- " + "\n- ".join(problems))


def _check_out_nodes(text: str, outputs_of: dict[str, int | None], what: str) -> list[str]:
    """Each node:index of out_nodes names a node with at least index+1 outputs (None: unknown)."""
    problems = []
    for part in filter(None, (text or "").split(";")):
        node, _, index = part.rpartition(":")
        if node not in outputs_of:
            problems.append(f"out_nodes names '{node}', which is not a node of the {what}.")
        elif outputs_of[node] is not None and int(index) >= outputs_of[node]:
            problems.append(
                f"out_nodes asks for output {index} of '{node}', which has {outputs_of[node]}."
            )
    return problems


def _placeholder_dims(graph_def) -> dict[str, Dims]:
    dims: dict[str, Dims] = {}
    for node in graph_def.node:
        if node.op in ("Placeholder", "PlaceholderV2"):
            shape = node.attr["shape"].shape
            dims[node.name] = None if shape.unknown_rank else tfgraph.dims(shape)
    return dims


def check_tensorflow(
    layout_model: Path, model_format: str, options: dict, scratch: Path, events: Events
) -> Model:
    """Audit and check a frozen graph or SavedModel; a SavedModel is frozen to scratch/model.pb."""
    if model_format == "saved_model":
        events.log("Freeze the SavedModel before conversion (ATC reads frozen graphs)")
        frozen = freeze_saved_model(layout_model, None, None, events)
        graph_def = frozen.graph_def
        path = scratch / "model.pb"
        path.write_bytes(graph_def.SerializeToString())
        outputs = [name.rsplit(":", 1)[0] for name in frozen.outputs]
    else:
        graph_def = tfgraph.read_frozen_graph(layout_model)
        check_graph_def(graph_def, layout_model.name)
        path = layout_model
        outputs = [name.rsplit(":", 1)[0] for name in tfgraph.graph_outputs(graph_def)]
    placeholders = _placeholder_dims(graph_def)
    dtypes = {spec.op: spec.dtype for spec in tfgraph.graph_inputs(graph_def)}
    events.log(
        "Get inputs: "
        + (
            ", ".join(f"{name} {dims} {dtypes.get(name)}" for name, dims in placeholders.items())
            or "none"
        )
    )
    events.log("Get outputs: " + (", ".join(outputs) or "none"))
    shapes, problems = resolve_shapes(
        list(placeholders.items()), parse_input_shape(options.get("input_shape", ""))
    )
    nodes: dict[str, int | None] = {node.name: None for node in graph_def.node}
    problems += _check_out_nodes(options.get("out_nodes", ""), nodes, "graph")
    if problems:
        raise PreflightError("TensorFlow model", problems)
    return Model(path, shapes, dtypes, outputs)


def check_onnx(path: Path, options: dict, events: Events) -> Model:
    """The checker passes, the opset is one ATC reads, every input gets a static shape."""
    import onnx
    from onnx import helper

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError, onnx its own types
        raise ConversionError(
            f"{path.name} is not a valid ONNX model: the file is truncated or corrupt ({str(exc)[:300]})."
        ) from None
    try:
        onnx.checker.check_model(str(path))
    except Exception as exc:  # onnx.checker.ValidationError and friends
        raise ConversionError(
            f"{path.name} fails the ONNX checker: {str(exc).strip()[:1000]}"
        ) from None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    problems: list[str] = []
    notes: list[str] = []
    if opset not in ONNX_OPSETS:
        problems.append(
            f"{path.name} uses ONNX opset {opset}; ATC reads opsets {ONNX_OPSETS.start} to "
            f"{ONNX_OPSETS.stop - 1}. Export the model again with an opset in that range."
        )
    elif opset > OLDER_CANN_MAX_OPSET:
        notes.append(
            f"opset {opset} needs CANN 7.0 or later (older ATC reads opsets up to {OLDER_CANN_MAX_OPSET})"
        )
    initializers = {init.name for init in model.graph.initializer}
    inputs: list[tuple[str, Dims]] = []
    dtypes: dict[str, str] = {}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims = None
        if tensor.HasField("shape"):
            dims = [
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in tensor.shape.dim
            ]
        inputs.append((value.name, dims))
        dtypes[value.name] = (
            helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
            if tensor.elem_type
            else "unknown"
        )
    outputs = [value.name for value in model.graph.output]
    events.log(f"ONNX opset {opset}, IR version {model.ir_version}")
    events.log("Get inputs: " + (", ".join(f"{n} {d} {dtypes[n]}" for n, d in inputs) or "none"))
    events.log("Get outputs: " + (", ".join(outputs) or "none"))
    shapes, shape_problems = resolve_shapes(
        inputs, parse_input_shape(options.get("input_shape", ""))
    )
    problems += shape_problems
    nodes: dict[str, int | None] = {
        node.name: len(node.output) for node in model.graph.node if node.name
    }
    problems += _check_out_nodes(options.get("out_nodes", ""), nodes, "ONNX graph")
    if problems:
        raise PreflightError("ONNX model", problems)
    return Model(path, shapes, dtypes, outputs, notes)
