"""Reading TensorFlow models with messages a user can act on. Imported only in the converter child."""

from dataclasses import dataclass
from pathlib import Path

from conversions.converters.base import ConversionError

VARIABLE_OPS = {"VariableV2", "Variable", "VarHandleOp", "ReadVariableOp", "AssignVariableOp"}


@dataclass
class TensorSpec:
    name: str  # "input:0"
    shape: list[int | None]
    dtype: str  # numpy dtype name

    @property
    def op(self) -> str:
        return self.name.rsplit(":", 1)[0]

    def as_dict(self) -> dict:
        return {"name": self.name, "shape": self.shape, "dtype": self.dtype}


def read_frozen_graph(path: Path):
    """Parse a frozen GraphDef with protobuf only (no import, nothing executed)."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.framework import graph_pb2
    from tensorflow.core.protobuf import saved_model_pb2

    data = Path(path).read_bytes()
    name = Path(path).name
    if not data:
        raise ConversionError(f"{name} is empty: export the frozen graph again.")
    graph_def = graph_pb2.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except DecodeError as exc:
        raise ConversionError(
            f"{name} is not a valid TensorFlow GraphDef: the file is truncated or corrupt ({exc}). "
            "Upload the complete file written by tf.io.write_graph(..., as_text=False)."
        ) from None
    if not graph_def.node:
        saved = saved_model_pb2.SavedModel()
        try:
            saved.ParseFromString(data)
            is_saved_model = bool(saved.meta_graphs)
        except DecodeError:
            is_saved_model = False
        if is_saved_model:
            raise ConversionError(
                f"{name} is a SavedModel's saved_model.pb, not a frozen graph: "
                "choose a saved_model template, or freeze the model first."
            )
        raise ConversionError(f"{name} holds no graph nodes: it is not a frozen TensorFlow graph.")
    names = {node.name for node in graph_def.node}
    missing = sorted(
        {
            ref.lstrip("^").split(":")[0]
            for node in graph_def.node
            for ref in node.input
            if ref.lstrip("^").split(":")[0] not in names
        }
    )
    if missing:
        raise ConversionError(
            f"{name} is incomplete: nodes refer to {', '.join(missing[:5])} which the file does not hold. "
            "The file is probably truncated: upload it again."
        )
    _refuse_variables(graph_def, name)
    return graph_def


def _refuse_variables(graph_def, name: str) -> None:
    """A graph that still reads variables (in the graph, in a function it calls, or through a variable
    handle fed as an input) is not frozen: its weights are not in the file."""
    from tensorflow.core.framework import types_pb2

    nodes = [*graph_def.node, *(n for f in graph_def.library.function for n in f.node_def)]
    found = sorted({node.op for node in nodes if node.op in VARIABLE_OPS})
    handles = [
        n.name
        for n in graph_def.node
        if n.op in ("Placeholder", "PlaceholderV2")
        and n.attr["dtype"].type == types_pb2.DT_RESOURCE
    ]
    if handles:
        found.append(f"variable handles fed as inputs: {', '.join(handles[:5])}")
    if found:
        raise ConversionError(
            f"{name} is not a frozen graph: it still holds variables ({'; '.join(found)}), so its "
            "weights are not in the file. Freeze it so the weights become constants: in TensorFlow 2, "
            "convert_variables_to_constants_v2(tf.function(model).get_concrete_function(spec)) and "
            "tf.io.write_graph(frozen.graph, folder, 'model.pb', as_text=False); in TensorFlow 1, "
            "tf.compat.v1.graph_util.convert_variables_to_constants(session, graph_def, outputs). "
            "Or upload the SavedModel and choose a saved_model template."
        )


def dims(shape) -> list[int | None]:
    """A TensorShapeProto as a list, None for an unknown dimension ([] for an unknown rank)."""
    if shape.unknown_rank:
        return []
    return [d.size if d.size >= 0 else None for d in shape.dim]


def dtype_name(enum: int) -> str:
    from tensorflow.python.framework import dtypes

    return dtypes.as_dtype(enum).as_numpy_dtype.__name__


def graph_inputs(graph_def) -> list[TensorSpec]:
    return [
        TensorSpec(f"{n.name}:0", dims(n.attr["shape"].shape), dtype_name(n.attr["dtype"].type))
        for n in graph_def.node
        if n.op in ("Placeholder", "PlaceholderV2")
    ]


def graph_outputs(graph_def) -> list[str]:
    """Candidate outputs: nodes nobody consumes that are not constants or no-ops."""
    consumed = {ref.lstrip("^").split(":")[0] for n in graph_def.node for ref in n.input}
    skip = {"Const", "NoOp", "Placeholder", "Assert"}
    return [f"{n.name}:0" for n in graph_def.node if n.name not in consumed and n.op not in skip]


def parse_tensor_names(text: str) -> list[str]:
    """The spec's `a:b` form, with or without output indexes: `in1:0:in2` -> [in1:0, in2:0]."""
    names: list[str] = []
    for part in (p.strip() for p in (text or "").split(":")):
        if not part:
            continue
        if part.isascii() and part.isdigit() and names and names[-1].endswith(":0"):
            names[-1] = f"{names[-1][:-2]}:{part}"
        else:
            names.append(f"{part}:0")
    return names


def resolve_names(graph_def, text: str, what: str, candidates: list[str]) -> list[str]:
    """Check that every tensor named in `text` exists; the message lists the real candidates."""
    names = parse_tensor_names(text)
    if not names:
        raise ConversionError(
            f"Give the {what} tensor names, e.g. {':'.join(c.split(':')[0] for c in candidates[:2])}."
        )
    nodes = {n.name for n in graph_def.node}
    unknown = [n for n in names if n.rsplit(":", 1)[0] not in nodes]
    if unknown:
        shown = ", ".join(c.split(":")[0] for c in candidates[:10]) or "none found"
        raise ConversionError(
            f"The {what} tensor {', '.join(unknown)} is not in the graph. "
            f"The graph's {what} candidates are: {shown}."
        )
    return names
