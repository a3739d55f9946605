"""Engine precision, applied to the ONNX model so that both engine builders read it from the graph.

TensorRT-RTX and TensorRT 11 build strongly typed networks: there are no FP16 / INT8 builder flags, the
tensor types of the ONNX decide. So:
- 16bit: weights and activations in float16, inputs and outputs kept float32, and the numerically
  sensitive operators (exponentials, logarithms, softmax, long reductions) kept in float32.
- 8bit: int8 QuantizeLinear / DequantizeLinear pairs calibrated on calibration_data with ONNX Runtime's
  static quantization: symmetric, per-channel weights, biases left in float (the RTX parser refuses an
  int32 bias DequantizeLinear), and the same sensitive operators left in float (ONNX Runtime fixes a
  softmax output's int8 range to [0, 1], which rounds the small probabilities of many classes to 0).
  Constants other than weights (a detector's anchors and strides) stay float too, and a model below
  opset 13 is upgraded first (qdq.py).
Every variant is run in ONNX Runtime and compared with the original before an engine is built. ONNX
Runtime's CPU has few float16 kernels and runs a float16 graph in float32 (dropping the float16 round
trips), which would hide float16 rounding and overflow; so a 16bit variant is checked through an
emulation that rounds its weights and activations to float16 explicitly (float16_emulation).
"""

from pathlib import Path

import numpy as np

from conversions.converters.base import ConversionError, Events
from conversions.converters.batching import Batches

PRECISIONS = ("32bit", "16bit", "8bit", "8bit-mixed")
INT8 = ("8bit", "8bit-mixed")  # int8 Q/DQ: per-layer analysis, layers kept in float
FLOAT16_MAX = 65504.0
# Kept in float32 in a 16bit model and unquantized in an 8bit one: fp16 overflows in exp/pow, underflows in log, and loses precision
# when it accumulates many terms.
FLOAT32_OPS = [
    "Exp",
    "Log",
    "Pow",
    "Softmax",
    "LogSoftmax",
    "ReduceSum",
    "ReduceMean",
    "ReduceProd",
    "ReduceL2",
    "ReduceSumSquare",
    "ReduceLogSumExp",
    "LayerNormalization",
]


def to_float16(model):
    """A float16 copy of a float32 ModelProto, float32 at its inputs and outputs."""
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16

    return convert_float_to_float16(
        model, keep_io_types=True, op_block_list=DEFAULT_OP_BLOCK_LIST + FLOAT32_OPS
    )


def batches(names: list[str], samples: list[list[np.ndarray]], batch: int) -> list[dict]:
    """Feeds of `batch` samples each (the last may be smaller), keyed by input name."""
    return [
        {
            name: np.concatenate([s[i] for s in samples[start : start + batch]])
            for i, name in enumerate(names)
        }
        for start in range(0, len(samples), batch)
    ]


def to_int8(
    source: Path, target: Path, names, samples, batch: int, events: Events, keep_float=()
) -> None:
    """Write an int8 Q/DQ model of the float32 model at `source`, calibrated on `samples`; the nodes
    named in `keep_float` stay float."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.feeds = iter(batches(names, samples, batch))

        def get_next(self):
            return next(self.feeds, None)

    events.log(
        f"Calibrate int8 on {len(samples)} samples in batches of {batch} "
        "(symmetric, per-channel weights, float biases)"
    )
    import onnx

    from conversions.converters.tensorrt import qdq

    model = onnx.load(str(source))
    constant_readers = qdq.prepare(
        model, events
    )  # opset 13, named nodes, constants outside weights
    prepared = target.with_name(f"{target.stem}-input.onnx")
    onnx.save(model, str(prepared))
    sensitive = [n.name for n in model.graph.node if n.op_type in FLOAT32_OPS and n.name]
    try:
        quantize_static(
            str(prepared),
            str(target),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=sensitive + constant_readers + list(keep_float),
            extra_options={
                "ActivationSymmetric": True,
                "WeightSymmetric": True,
                "QuantizeBias": False,
            },
        )
    except Exception as exc:  # ONNX Runtime raises many types; the message is what helps
        raise ConversionError(
            f"ONNX Runtime could not calibrate the model for int8: {str(exc).strip()[-1000:]}"
        ) from None
    qdq.check(onnx.load(str(target)))


def run_onnx(path: Path, inputs, sets, batches: Batches | None = None) -> list[np.ndarray]:
    """Run an ONNX model in ONNX Runtime (CPU) on each input set; outputs stacked per output. With
    `batches`, the sets run in batches where the model's batch dimension is open (batching.py)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        fixed = [i.shape[0] for i in session.get_inputs() if i.shape and type(i.shape[0]) is int]
        if batches is None:
            batches = Batches("the ONNX model", None, "no batches asked for")
        elif fixed and not batches.refusal:
            batches.refusal = f"its batch dimension is fixed at {fixed[0]}"
        names = [s.name for s in inputs]

        def run(arrays):
            return session.run(None, dict(zip(names, arrays, strict=True)))

        return batches.run(run, sets)
    except Exception as exc:  # an ONNX Runtime failure on a user's model is the user's to read
        raise ConversionError(
            f"ONNX Runtime could not run {Path(path).name}: {str(exc).strip()[-1000:]}"
        ) from None


def float16_emulation(float32: Path, target: Path) -> None:
    """Write a float32 model that rounds like the 16bit variant, for ONNX Runtime's CPU to run: float16
    weights, and every activation outside the float32 operators rounded to float16 (beyond 65504 it
    becomes inf), each operator computing in float32 as TensorRT accumulates."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST

    model = onnx.load(str(float32))
    typed = onnx.shape_inference.infer_shapes(model).graph
    floats = {
        v.name
        for v in [*typed.value_info, *typed.output]
        if v.type.tensor_type.elem_type == TensorProto.FLOAT
    }
    keep = set(DEFAULT_OP_BLOCK_LIST + FLOAT32_OPS)
    half = [n for n in model.graph.node if n.op_type not in keep]
    half_inputs = {name for n in half for name in n.input}
    for index, weight in enumerate(model.graph.initializer):
        if weight.data_type == TensorProto.FLOAT and weight.name in half_inputs:
            rounded = np.clip(numpy_helper.to_array(weight), -FLOAT16_MAX, FLOAT16_MAX)
            rounded = rounded.astype(np.float16).astype(np.float32)
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(rounded, weight.name))
    nodes = []
    for node in model.graph.node:
        nodes.append(node)
        if node.op_type in keep and not half_inputs.intersection(node.output):
            continue
        for position, name in enumerate(node.output):
            if name in floats:
                node.output[position] = f"{name}/float32"
                nodes.append(
                    helper.make_node(
                        "Cast", [f"{name}/float32"], [f"{name}/float16"], to=TensorProto.FLOAT16
                    )
                )
                nodes.append(
                    helper.make_node("Cast", [f"{name}/float16"], [name], to=TensorProto.FLOAT)
                )
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    onnx.save(model, str(target))
