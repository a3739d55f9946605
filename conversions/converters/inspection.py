"""Model inspection: what a folder holds, and the options a user would have to type for it.

Runs in the converter child like a conversion (it parses untrusted protobufs and may try a TFLite
conversion). Nothing in the model is executed before the op audit has passed.
"""

from pathlib import Path

from conversions.converters import tfgraph
from conversions.converters.base import ConversionError
from conversions.converters.op_audit import OpAuditError, audit_graph_def

NOT_OPERATIONS = {"Const", "NoOp", "Placeholder", "PlaceholderV2", "Identity"}


def detect_format(root: Path) -> tuple[str, Path]:
    """(model format, model path) of an input folder laid out for any chip, or ConversionError."""
    root = Path(root)
    if not root.is_dir():
        raise ConversionError(f"The folder {root.name} does not exist.")
    for folder in (root / "model", root):
        if (folder / "saved_model.pb").is_file():
            return "saved_model", folder
        for suffix, kind in (
            (".pb", "frozen_graph"),
            (".onnx", "onnx"),
            (".caffemodel", "caffemodel"),
        ):
            found = sorted(folder.glob(f"*{suffix}"))
            if len(found) == 1:
                return kind, found[0]
            if len(found) > 1:
                names = ", ".join(p.name for p in found)
                raise ConversionError(
                    f"{folder.name}/ holds several {suffix} files ({names}): keep one."
                )
    raise ConversionError(
        "No model found: put a frozen graph (.pb), a SavedModel, an ONNX model or a Caffe model in "
        "a folder named model/ (ARM and GPU templates) or at the top of the input folder (Ascend)."
    )


def _spec_dict(spec: tfgraph.TensorSpec) -> dict:
    unknown = [i for i, d in enumerate(spec.shape) if d is None]
    return {**spec.as_dict(), "unknown_dims": unknown}


def _shape_text(spec: tfgraph.TensorSpec) -> str:
    dims = ",".join(str(1 if d is None else d) for d in spec.shape)
    return f"{spec.op}:{dims}"


def _op_census(graph_def) -> tuple[int, dict[str, int]]:
    counts: dict[str, int] = {}
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    for node in nodes:
        counts[node.op] = counts.get(node.op, 0) + 1
    operations = sum(n for op, n in counts.items() if op not in NOT_OPERATIONS)
    return operations, dict(sorted(counts.items()))


def _refused(graph_def) -> list[str]:
    try:
        return sorted(audit_graph_def(graph_def))
    except OpAuditError as exc:  # audit_graph_def reports, but be safe if it raises
        return sorted(exc.ops)


def inspect_frozen_graph(path: Path) -> dict:
    graph_def = tfgraph.read_frozen_graph(path)
    inputs = tfgraph.graph_inputs(graph_def)
    outputs = tfgraph.graph_outputs(graph_def)
    operations, op_types = _op_census(graph_def)
    return {
        "format": "frozen_graph",
        "model": path.name,
        "inputs": [_spec_dict(s) for s in inputs],
        "outputs": outputs,
        "op_count": operations,
        "op_types": op_types,
        "refused_ops": _refused(graph_def),
        "suggested_options": {
            "input_tensor_names": ":".join(s.op for s in inputs),
            "output_tensor_names": ":".join(o.rsplit(":", 1)[0] for o in outputs),
            "input_shape": ";".join(_shape_text(s) for s in inputs),
            "out_nodes": ";".join(outputs),
        },
        "_graph_def": graph_def,
    }


def inspect_saved_model(folder: Path) -> dict:
    from conversions.converters.savedmodel import choose, read_saved_model

    proto = read_saved_model(folder)
    tags, signature = choose(proto, None, None)
    meta = next(m for m in proto.meta_graphs if list(m.meta_info_def.tags) == tags)
    signature_def = meta.signature_def[signature]

    def specs(tensors) -> list[dict]:
        return [
            _spec_dict(
                tfgraph.TensorSpec(
                    f"{key} ({info.name})",
                    tfgraph.dims(info.tensor_shape),
                    tfgraph.dtype_name(info.dtype),
                )
            )
            for key, info in sorted(tensors.items())
        ]

    graph_def = meta.graph_def
    operations, op_types = _op_census(graph_def)
    return {
        "format": "saved_model",
        "model": folder.name + "/",
        "tag_sets": [",".join(m.meta_info_def.tags) for m in proto.meta_graphs],
        "signatures": sorted(k for k in meta.signature_def if not k.startswith("__")),
        "inputs": specs(signature_def.inputs),
        "outputs": [s["name"] for s in specs(signature_def.outputs)],
        "op_count": operations,
        "op_types": op_types,
        "refused_ops": _refused(graph_def),
        "suggested_options": {"signature": signature, "tag": ",".join(tags)},
    }


def inspect_onnx(path: Path) -> dict:
    try:
        import onnx
    except ImportError:
        raise ConversionError(
            f"{path.name} is an ONNX model, and this worker cannot read ONNX (pip install onnx)."
        ) from None
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError and others for a damaged file
        raise ConversionError(f"{path.name} is not a valid ONNX model: {exc}") from None
    initializers = {i.name for i in model.graph.initializer}

    def spec(value) -> dict:
        tensor = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type).name
        return _spec_dict(tfgraph.TensorSpec(value.name, dims, dtype))

    inputs = [spec(v) for v in model.graph.input if v.name not in initializers]
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return {
        "format": "onnx",
        "model": path.name,
        "opset": max(
            (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0
        ),
        "inputs": inputs,
        "outputs": [v.name for v in model.graph.output],
        "op_count": len(model.graph.node),
        "op_types": dict(sorted(counts.items())),
        "refused_ops": [],
        "suggested_options": {
            "input_shape": ";".join(
                f"{i['name']}:" + ",".join(str(d or 1) for d in i["shape"]) for i in inputs
            ),
        },
    }


def inspect_caffe(weights: Path) -> dict:
    """A Caffe model: the .prototxt beside the .caffemodel, read with the Ascend preflight's schema."""
    from conversions.converters.ascend.caffe import check_caffe
    from conversions.converters.ascend.caffe_schema import parse_prototxt

    definitions = sorted(weights.parent.glob("*.prototxt"))
    if len(definitions) != 1:
        raise ConversionError(
            f"A Caffe model needs exactly one .prototxt beside {weights.name} "
            f"(found {len(definitions)})."
        )
    net = check_caffe(definitions[0], weights)
    counts: dict[str, int] = {}
    for layer in parse_prototxt(definitions[0])[0].layer:
        counts[layer.type] = counts.get(layer.type, 0) + 1
    return {
        "format": "caffemodel",
        "model": f"{definitions[0].name} + {weights.name}",
        "inputs": [
            _spec_dict(tfgraph.TensorSpec(name, list(dims), "float32")) for name, dims in net.inputs
        ],
        "outputs": net.outputs,
        "op_count": net.layers,
        "op_types": dict(sorted(counts.items())),
        "refused_ops": [],
        "warnings": net.warnings,
        "suggested_options": {},
    }


def tflite_refusals(path: Path, graph_def, inputs: list[dict], outputs: list[str]) -> list[str]:
    """Ops TFLite's builtin kernels do not take, found by a trial float conversion of a frozen graph."""
    import tensorflow as tf

    from conversions.converters.tflite import refused_ops

    converter = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(path),
        input_arrays=[i["name"].rsplit(":", 1)[0] for i in inputs],
        output_arrays=[o.rsplit(":", 1)[0] for o in outputs],
        input_shapes={i["name"].rsplit(":", 1)[0]: [d or 1 for d in i["shape"]] for i in inputs},
    )
    try:
        converter.convert()
    except Exception as exc:  # the converter raises several types; the op names are what matter
        return refused_ops(str(exc)) or ["(the trial conversion failed: " + str(exc)[-300:] + ")"]
    return []


def inspect_folder(root: Path, chip: str = "") -> dict:
    """Everything we can tell about the model in `root` without running it."""
    kind, path = detect_format(Path(root))
    if kind == "frozen_graph":
        report = inspect_frozen_graph(path)
        graph_def = report.pop("_graph_def")
        if chip == "arm" and not report["refused_ops"] and report["inputs"] and report["outputs"]:
            report["unsupported_ops"] = {
                "arm": tflite_refusals(path, graph_def, report["inputs"], report["outputs"])
            }
    elif kind == "saved_model":
        report = inspect_saved_model(path)
    elif kind == "onnx":
        report = inspect_onnx(path)
    else:
        report = inspect_caffe(path)
        if chip in ("arm", "gpu"):  # TFLite, ONNX and TensorRT take the layer set of caffe/
            from conversions.converters.caffe.onnx_layers import RULES

            outside = sorted(set(report["op_types"]) - set(RULES) - {"Input"})
            report["unsupported_ops"] = {chip: outside}
    report["unknown_dims"] = any(i["unknown_dims"] for i in report["inputs"])
    # where the model lies: ARM and GPU templates read model/, Ascend ones the top of the folder
    report["in_model_folder"] = (path if kind == "saved_model" else path.parent) == Path(
        root
    ) / "model"
    return report
