"""A user's ONNX model (the onnx-to-tensorrt template): parsed, audited, described.

ONNX has no file or network operators, but a model can point its weights at external files by path,
and nodes of other domains reach custom-operator libraries and TensorRT plugins. So, before ONNX
Runtime or a builder sees the model: only the standard ONNX domain, external data only in files next
to the model (no absolute paths, no ..), and a structural check with onnx.checker.
"""

from pathlib import Path, PurePosixPath

from conversions.converters.base import ConversionError
from conversions.converters.tfgraph import TensorSpec

STANDARD_DOMAINS = ("", "ai.onnx")
MIN_OPSET = 9


def _graphs(graph):
    """A graph and every subgraph (If / Loop / Scan bodies) inside it."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("g"):
                yield from _graphs(attr.g)
            for sub in attr.graphs:
                yield from _graphs(sub)


def _initializers(model):
    for graph in _graphs(model.graph):
        yield from graph.initializer
        yield from (sparse.values for sparse in graph.sparse_initializer)


def _check_domains(model) -> None:
    nodes = [n for g in _graphs(model.graph) for n in g.node]
    nodes += [n for f in model.functions for n in f.node]
    local = {(f.domain, f.name) for f in model.functions}
    foreign = sorted(
        {
            f"{n.domain}::{n.op_type}"
            for n in nodes
            if n.domain not in STANDARD_DOMAINS and (n.domain, n.op_type) not in local
        }
    )
    if foreign:
        raise ConversionError(
            "The ONNX model uses operators outside the standard ONNX domain: "
            f"{', '.join(foreign[:10])}. Custom operators and plugins are not accepted; export the model "
            "with standard ONNX operators only."
        )


def _check_external_data(model, folder: Path) -> None:
    from onnx import TensorProto

    for tensor in _initializers(model):
        if tensor.data_location != TensorProto.EXTERNAL:
            continue
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        parts = PurePosixPath(location.replace("\\", "/"))
        if not location or parts.is_absolute() or ".." in parts.parts or ":" in location:
            raise ConversionError(
                f"The ONNX initializer {tensor.name} keeps its data at '{location}': external data must "
                "be a file next to the .onnx inside model/, named without folders above it."
            )
        if not (folder / parts).is_file():
            raise ConversionError(
                f"The ONNX initializer {tensor.name} keeps its data in model/{location}, which is not "
                "in the input folder: upload it next to the .onnx file."
            )


def read_onnx(path: Path):
    """Parse, audit and check an ONNX model; its external data (if any) loaded from model/."""
    import onnx
    from google.protobuf.message import DecodeError
    from onnx.external_data_helper import load_external_data_for_model

    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, OSError) as exc:
        raise ConversionError(
            f"{path.name} is not a valid ONNX model: the file is truncated or corrupt ({exc})."
        ) from None
    if not model.graph.node:
        raise ConversionError(f"{path.name} holds no ONNX graph nodes.")
    opset = opset_of(model)
    if opset is None or opset < MIN_OPSET:
        raise ConversionError(
            f"{path.name} uses ONNX opset {opset}: the engine builders need opset {MIN_OPSET} or later. "
            "Export it again with a newer opset."
        )
    _check_domains(model)
    _check_external_data(model, path.parent)
    load_external_data_for_model(model, str(path.parent))
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise ConversionError(
            f"{path.name} is not a valid ONNX model: {str(exc).strip()[:800]}"
        ) from None
    return model


def opset_of(model) -> int | None:
    return next((o.version for o in model.opset_import if o.domain in STANDARD_DOMAINS), None)


def _spec(value) -> TensorSpec:
    from onnx.helper import tensor_dtype_to_np_dtype

    kind = value.type.tensor_type
    shape = [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in kind.shape.dim
    ]
    return TensorSpec(value.name, shape, tensor_dtype_to_np_dtype(kind.elem_type).name)


def input_specs(model) -> list[TensorSpec]:
    """The graph inputs a caller feeds (initializers listed as inputs are weights, not inputs)."""
    weights = {t.name for t in model.graph.initializer}
    return [_spec(v) for v in model.graph.input if v.name not in weights]


def output_names(model) -> list[str]:
    return [v.name for v in model.graph.output]
