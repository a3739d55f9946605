"""SavedModels: choose the tag set and signature, audit every graph, freeze to a GraphDef.

TensorFlow 2's loader rebuilds every Python object a SavedModel tracks. An optimizer saved with the
model (a Keras 2 or TF1 optimizer after training) cannot be rebuilt without its library, and the load
fails ("'_UserObject' object has no attribute 'add_slot'") although the signature never uses it. Such
a SavedModel is read with the TF1 loader instead: its MetaGraph and checkpoint only, no objects.
"""

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
    output_keys: list[str]  # the signature's name of each output, in the order of `outputs`


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
    from tensorflow.python.util import nest

    proto = read_saved_model(folder)
    check_saved_model(proto, "the SavedModel")
    tags, signature = choose(proto, signature, tag)
    events.log(f"Use tag set {','.join(tags) or '(none)'} and signature {signature}")
    try:
        loaded = tf.saved_model.load(str(folder), tags=tags)
        function = loaded.signatures[signature]
    except Exception as exc:  # TF raises several types for a damaged SavedModel
        reason = str(exc).strip()[-800:]
        events.log(
            f"TensorFlow 2 cannot restore the SavedModel's objects ({reason[-200:]}): read "
            f"signature {signature} with the TensorFlow 1 loader, which restores only the graph "
            "and its variables",
            level="warning",
        )
        try:
            loaded = function = _signature_from_graph(tf, folder, tags, signature)
        except Exception:  # the first reason is the one that explains the model
            raise ConversionError(f"The SavedModel cannot be loaded: {reason}") from None
    keys = [path for path, _ in nest.flatten_with_joined_string_paths(function.structured_outputs)]
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
    if len(keys) != len(outputs):  # a signature's outputs are flat; this is a safeguard
        keys = [name.rsplit(":", 1)[0] for name in outputs]
    del loaded
    return Frozen(graph_def, inputs, outputs, tags, signature, keys)


def _signature_from_graph(tf, folder: Path, tags: list[str], signature: str):
    """The signature as a function of constants, read by the TF1 loader (graph and checkpoint only).
    The loader runs the MetaGraph's restore and init ops, which the op audit has already passed."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_from_session_graph,
    )

    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        meta = tf.compat.v1.saved_model.loader.load(session, tags, str(folder))
        definition = meta.signature_def[signature]
        inputs = {key: info.name for key, info in definition.inputs.items()}
        outputs = {key: info.name for key, info in definition.outputs.items()}
        graph_def = convert_variables_to_constants_from_session_graph(
            session, graph.as_graph_def(), sorted({n.rsplit(":", 1)[0] for n in outputs.values()})
        )
    # Once the variables are constants, TensorFlow's optimizer folds them into the functions that
    # read them but keeps each function's argument shape hints, which TFLite then finds too long:
    # the hints are optional, so drop them.
    for function in graph_def.library.function:
        function.attr.pop("_input_shapes", None)

    def body():
        tf.compat.v1.import_graph_def(graph_def, name="")

    wrapped = tf.compat.v1.wrap_function(body, [])
    tensor = wrapped.graph.get_tensor_by_name
    with wrapped.graph.as_default():  # one named tensor per output, as TF2's loader gives them
        fetches = {key: tf.identity(tensor(name), name="Identity") for key, name in outputs.items()}
    return wrapped.prune(feeds=[tensor(inputs[key]) for key in sorted(inputs)], fetches=fetches)
