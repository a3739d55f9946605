"""A TensorFlow model as every converter needs it: an audited frozen GraphDef, its inputs and outputs.

Frozen graphs are parsed with protobuf and audited before anything is imported into TensorFlow;
SavedModels are audited, then frozen (savedmodel.py). Converters that start from TensorFlow (TFLite,
the ONNX route to TensorRT) read their model here, so both see the same graph the same way.

A task reads and parses its model once: the parsed GraphDef travels on the TFModel to the reference
run (`run`, one imported graph and one session for every call) and to the TFLite converter
(`tflite_converter`), which used to read the file again.
"""

from dataclasses import dataclass, field

import numpy as np

from conversions.converters import tfgraph
from conversions.converters.base import ConversionError, Events, Job
from conversions.converters.batching import Batches
from conversions.converters.layout import Layout
from conversions.converters.op_audit import check_graph_def
from conversions.converters.savedmodel import freeze_saved_model


@dataclass
class TFModel:
    graph_def: object
    inputs: list[tfgraph.TensorSpec]
    outputs: list[str]  # tensor names, "Identity:0"
    output_keys: list[str] | None = None  # a SavedModel signature's output names, same order
    _reference: object = field(default=None, init=False, repr=False)
    _batches: Batches | None = field(default=None, init=False, repr=False)

    def run(self, arrays: list[np.ndarray], names: list[str] | None = None) -> list[np.ndarray]:
        """The reference: one call of the frozen graph in TensorFlow on `arrays` (one per input,
        any batch size where the graph allows); the outputs `names` (all of them by default)."""
        return self._imported().run(arrays, names or self.outputs)

    def batches(self, events: Events | None) -> Batches:
        """How the reference runs its samples, the same for every call of the task."""
        if self._batches is None:
            self._batches = Batches("the original model", events, self._imported().refusal)
        return self._batches

    def close(self) -> None:
        """Free the reference's graph and session (the conversion needs the memory more)."""
        if self._reference is not None:
            self._reference.session.close()
            self._reference = None

    def _imported(self):
        if self._reference is None:
            self._reference = _Reference(self.graph_def, self.inputs)
        return self._reference


def load_tensorflow(layout: Layout, job: Job, events: Events) -> TFModel:
    """Read, audit and (for a SavedModel) freeze the model; inputs and outputs checked by name."""
    if job.model_format == "saved_model":
        events.log("Freeze the SavedModel before conversion")
        frozen = freeze_saved_model(
            layout.model, job.options.get("signature"), job.options.get("tag"), events
        )
        model = TFModel(frozen.graph_def, frozen.inputs, frozen.outputs, frozen.output_keys)
    else:
        graph_def = tfgraph.read_frozen_graph(layout.model)
        check_graph_def(graph_def, layout.model.name)
        inputs = placeholder_specs(graph_def, job.options.get("input_tensor_names", ""))
        outputs = tfgraph.resolve_names(
            graph_def,
            job.options.get("output_tensor_names", ""),
            "output",
            tfgraph.graph_outputs(graph_def),
        )
        model = TFModel(graph_def, inputs, outputs)
    events.log("Get inputs: " + ", ".join(f"{s.name} {s.shape} {s.dtype}" for s in model.inputs))
    for spec in model.inputs:
        if spec.shape and spec.shape[0] not in (None, 1):
            raise ConversionError(
                f"The input {spec.name} has shape {spec.shape}: its first dimension is read as the "
                "batch, which must be 1 or open (None) so that the original and the converted model "
                "can be run sample by sample. Export the model with a batch dimension of 1 or None "
                f"(for example [None, {', '.join(str(d) for d in spec.shape[1:])}]) and convert again."
            )
    keys = model.output_keys or [None] * len(model.outputs)
    events.log(
        "Get outputs: "
        + ", ".join(
            name if key is None else f"{name} ({key})"
            for name, key in zip(model.outputs, keys, strict=True)
        )
    )
    return model


def placeholder_specs(graph_def, text: str) -> list[tfgraph.TensorSpec]:
    """The placeholders named in `text` (the spec's `a:b` form), in that order."""
    placeholders = tfgraph.graph_inputs(graph_def)
    names = tfgraph.resolve_names(graph_def, text, "input", [s.name for s in placeholders])
    by_name = {s.name: s for s in placeholders}
    specs = []
    for name in names:
        if name not in by_name:
            raise ConversionError(
                f"The input tensor {name} is not a placeholder. The graph's inputs are: "
                + ", ".join(by_name)
            )
        specs.append(by_name[name])
    return specs


def run_graph(model: TFModel, sets, events: Events | None = None, names=None) -> list[np.ndarray]:
    """The reference on every input set (in batches where the graph takes them); outputs stacked."""
    names = names or model.outputs
    return model.batches(events).run(lambda arrays: model.run(arrays, names), sets)


class _Reference:
    """The frozen graph imported once, with its batch dimension opened where it was fixed at 1 (a
    Keras model frozen for batch 1), and one session for every run."""

    def __init__(self, graph_def, inputs: list[tfgraph.TensorSpec]):
        import tensorflow as tf

        self.refusal = None
        fixed = [s for s in inputs if s.shape and s.shape[0] == 1]
        self.graph, self.feeds = tf.Graph(), {s.name: s.name for s in inputs}
        with self.graph.as_default():
            opened = {}
            for index, spec in enumerate(fixed):
                shape = [None, *spec.shape[1:]]
                opened[spec.name] = tf.compat.v1.placeholder(
                    spec.dtype, shape, f"verification_batch_input_{index}"
                )
            try:
                tf.graph_util.import_graph_def(graph_def, input_map=opened, name="")
                self.feeds.update({name: tensor.name for name, tensor in opened.items()})
            except ValueError as exc:  # a shape that holds only for batch 1
                self.refusal = (
                    f"the graph is built for batch 1 ({' '.join(str(exc).split())[:160]})"
                )
                self.graph = tf.Graph()
                with self.graph.as_default():
                    tf.graph_util.import_graph_def(graph_def, name="")
        if any(not s.shape or s.shape[0] not in (None, 1) for s in inputs):
            self.refusal = "its inputs have no open batch dimension"
        self.session = tf.compat.v1.Session(graph=self.graph)
        self.inputs = inputs

    def run(self, arrays, names: list[str]) -> list[np.ndarray]:
        feed = {self.feeds[s.name]: a for s, a in zip(self.inputs, arrays, strict=True)}
        return self.session.run(list(names), feed)


def tflite_converter(tf, model: TFModel):
    """TFLiteConverter.from_frozen_graph on the parsed GraphDef: what it does once it has read the
    file (import into a graph of the converter's own, fix an open batch dimension at 1), without
    writing the GraphDef out and reading it again (tests/converters/test_verification_batches.py
    checks that both give the same bytes)."""
    from tensorflow.lite.python import conversion_metadata_schema_py_generated as metadata
    from tensorflow.lite.python.lite import TFLiteConverterBase
    from tensorflow.lite.python.util import get_tensors_from_tensor_names, set_tensor_shapes

    # recorded in the model's conversion metadata, as from_frozen_graph records it
    TFLiteConverterBase._set_original_model_type(metadata.ModelType.TF_GRAPH_DEF)
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        tf.graph_util.import_graph_def(model.graph_def, name="")
        inputs = get_tensors_from_tensor_names(session.graph, [s.op for s in model.inputs])
        outputs = get_tensors_from_tensor_names(
            session.graph, [n.removesuffix(":0") for n in model.outputs]
        )
        set_tensor_shapes(
            inputs, {s.op: [1 if d is None else d for d in s.shape] for s in model.inputs}
        )
        return tf.compat.v1.lite.TFLiteConverter(session.graph_def, inputs, outputs)
