"""TensorFlow to ONNX with tf2onnx, from the audited frozen GraphDef (tfsource.py).

SavedModels are frozen before export as they are for TFLite, so the op audit, the TensorFlow reference
run and tf2onnx all see one graph. tf2onnx keeps TensorFlow's tensor names ("input:0") and layout
(NHWC), so calibration files and verification inputs fit both models as they are.
"""

import logging
import time

from conversions.converters.base import ConversionError, Events
from conversions.converters.tfsource import TFModel

DEFAULT_OPSET = 17
OPSETS = range(13, 19)  # what tf2onnx 1.17 writes and both engine builders parse


class _ToEvents(logging.Handler):
    """tf2onnx's warnings and errors, as log lines in the task's log."""

    def __init__(self, events: Events):
        super().__init__(logging.WARNING)
        self.events = events

    def emit(self, record: logging.LogRecord) -> None:
        self.events.log(f"[tf2onnx] {record.getMessage()}", level="warning")


def tensorflow_to_onnx(model: TFModel, opset: int, events: Events):
    """The ONNX ModelProto of `model` at `opset`; ConversionError with tf2onnx's reason on failure."""
    if opset not in OPSETS:
        raise ConversionError(
            f"ONNX opset {opset} is not supported: choose {OPSETS.start} to {OPSETS.stop - 1}."
        )
    import tf2onnx

    events.log(f"Export to ONNX (opset {opset}) with tf2onnx {tf2onnx.__version__}")
    handler = _ToEvents(events)
    logger = logging.getLogger("tf2onnx")
    logger.addHandler(handler)
    started = time.monotonic()
    try:
        proto, _ = tf2onnx.convert.from_graph_def(
            model.graph_def,
            input_names=[s.name for s in model.inputs],
            output_names=list(model.outputs),
            opset=opset,
        )
    except Exception as exc:  # tf2onnx raises many types; its message names the op it could not map
        raise ConversionError(
            f"tf2onnx could not convert the graph to ONNX opset {opset}: {str(exc).strip()[-1200:]} "
            "A newer opset maps more TensorFlow operations; otherwise replace the operation in the model."
        ) from None
    finally:
        logger.removeHandler(handler)
    events.log(f"Exported {len(proto.graph.node)} ONNX nodes in {time.monotonic() - started:.2f} s")
    return proto
