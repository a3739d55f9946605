"""SavedModels: choose the tag set and signature, audit every graph, freeze to a GraphDef."""

from dataclasses import dataclass
from pathlib import Path

from conversions.converters.base import ConversionError, Events
from conversions.converters.op_audit import check_graph_def, check_saved_model
from conversions.converters.tfgraph import TensorSpec


@dataclass
class Frozen:
    graph_def: object
    inputs: list[TensorSpec]
    outputs: list[str]
    tags: list[str]
    signature: str


def read_saved_model(folder: Path):
    """Parse saved_model.pb with protobuf only; nothing is loaded or executed."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    try:
        proto.ParseFromString((Path(folder) / "saved_model.pb").read_bytes())
    except DecodeError as exc:
        raise ConversionError(
            f"saved_model.pb is truncated or corrupt ({exc}): export the SavedModel again."
        ) from None
    if not proto.meta_graphs:
        raise ConversionError("saved_model.pb holds no MetaGraph: it is not a SavedModel.")
    return proto


def choose(proto, signature: str | None, tag: str | None) -> tuple[list[str], str]:
    """The tag set and signature to convert: the given ones, else the first tag set and serving_default
    (or the first signature when there is no serving_default)."""
    tag_sets = [list(m.meta_info_def.tags) for m in proto.meta_graphs]
    if tag:
        wanted = sorted(t.strip() for t in tag.split(",") if t.strip())
        matches = [i for i, tags in enumerate(tag_sets) if sorted(tags) == wanted]
        if not matches:
            shown = "; ".join(",".join(tags) for tags in tag_sets)
            raise ConversionError(
                f"The SavedModel has no MetaGraph tagged {tag}. Its tag sets: {shown}."
            )
        index = matches[0]
    else:
        index = 0
    names = [k for k in proto.meta_graphs[index].signature_def if not k.startswith("__")]
    if not names:
        raise ConversionError(
            "The SavedModel has no signature to convert: export it with a serving signature."
        )
    if signature and signature not in names:
        raise ConversionError(
            f"The SavedModel has no signature {signature}. Its signatures: {', '.join(names)}."
        )
    # "The first" signature: TensorFlow's own default name when the model has it, since the order of
    # a protobuf map is not something the exporter chose.
    default = "serving_default" if "serving_default" in names else names[0]
    return tag_sets[index], signature or default


def freeze_saved_model(
    folder: Path, signature: str | None, tag: str | None, events: Events
) -> Frozen:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    proto = read_saved_model(folder)
    check_saved_model(proto, "the SavedModel")
    tags, signature = choose(proto, signature, tag)
    events.log(f"Use tag set {','.join(tags) or '(none)'} and signature {signature}")
    try:
        loaded = tf.saved_model.load(str(folder), tags=tags)
    except Exception as exc:  # TF raises several types for a damaged SavedModel
        raise ConversionError(
            f"The SavedModel cannot be loaded: {str(exc).strip()[-800:]}"
        ) from None
    function = loaded.signatures[signature]
    frozen = convert_variables_to_constants_v2(function)  # `loaded` must stay alive until here
    graph_def = frozen.graph.as_graph_def()
    check_graph_def(graph_def, "the frozen SavedModel")
    inputs = [
        TensorSpec(
            t.name,
            t.shape.as_list() if t.shape.rank is not None else [],
            t.dtype.as_numpy_dtype.__name__,
        )
        for t in frozen.inputs
        if t.dtype != tf.resource
    ]
    outputs = [t.name for t in frozen.outputs]
    del loaded
    return Frozen(graph_def, inputs, outputs, tags, signature)
