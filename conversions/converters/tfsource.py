"""A TensorFlow model as every converter needs it: an audited frozen GraphDef, its inputs and outputs.

Frozen graphs are parsed with protobuf and audited before anything is imported into TensorFlow;
SavedModels are audited, then frozen (savedmodel.py). Converters that start from TensorFlow (TFLite,
the ONNX route to TensorRT) read their model here, so both see the same graph the same way.
"""

from dataclasses import dataclass

import numpy as np

from conversions.converters import tfgraph
from conversions.converters.base import ConversionError, Events, Job
from conversions.converters.layout import Layout
from conversions.converters.op_audit import check_graph_def
from conversions.converters.savedmodel import freeze_saved_model


@dataclass
class TFModel:
    graph_def: object
    inputs: list[tfgraph.TensorSpec]
    outputs: list[str]  # tensor names, "Identity:0"
    output_keys: list[str] | None = None  # a SavedModel signature's output names, same order


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


def run_graph(graph_def, inputs, outputs, sets) -> list[np.ndarray]:
    """The reference: run the frozen graph with TensorFlow on each input set; outputs stacked."""
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=graph) as session:
        results = [
            session.run(outputs, {s.name: a for s, a in zip(inputs, arrays, strict=True)})
            for arrays in sets
        ]
    return [np.concatenate([r[i] for r in results]) for i in range(len(outputs))]
