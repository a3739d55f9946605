"""Routine notices on a converter's stderr (TensorFlow's start-up above all): kept out of the log.

TensorFlow prints them on every import, before its own log level applies, and the converter imports
it twice (once per TensorFlow library): "All log messages before absl::InitializeLog()", oneDNN's
round-off notice, the CPU feature guard and its continuation line, and the CUDA plugin notices of a
machine without a GPU. They say nothing about the conversion and pushed its first lines out of view.
"""

import re

# absl/glog's prefix, "I0000 00:00:1796307264.507808   12933 port.cc:153] ", or TensorFlow's
# older "2024-01-31 10:00:00.000000: I tensorflow/core/util/port.cc:113] "
_PREFIX = re.compile(
    r"^(?:[IWEF]\d{4} [\d:.]+\s+\d+ |\d{4}-\d\d-\d\d [\d:.]+: [IWEF] \S*/)(?P<file>[\w.]+):\d+\] "
)
_NOTICE_FILES = frozenset(
    {
        "port.cc",  # oneDNN custom operations are on
        "cpu_feature_guard.cc",  # This TensorFlow binary is optimized to use ...
        "cudart_stub.cc",  # Could not find cuda drivers on your machine
        "cuda_dnn.cc",  # Unable to register cuDNN factory
        "cuda_fft.cc",
        "cuda_blas.cc",
        "cuda_executor.cc",
        "cuda_diagnostics.cc",
        "computation_placer.cc",
    }
)
_NOTICE_STARTS = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "To enable the following instructions:",  # the CPU feature guard's second line
    "TF-TRT Warning: Could not find TensorRT",
)


# The TFLite converter's and interpreter's routine notices, and joblib's (scikit-learn's) complaint
# that the sandbox denies it a process pool: said on every conversion, about nothing in it.
_ROUTINE = re.compile(
    r"tf_tfl_flatbuffer_helpers\.cc:\d+\] Ignored (output_format|drop_control_dependency)\.$"
    r"|^INFO: Created TensorFlow Lite XNNPACK delegate for CPU\.$"
    r"|joblib will operate in serial mode"
)


def is_startup_notice(line: str) -> bool:
    """True for a line of TensorFlow's start-up chatter (never for the converter's own lines)."""
    match = _PREFIX.match(line)
    if match and match.group("file") in _NOTICE_FILES:
        return True
    return line[match.end() if match else 0 :].startswith(_NOTICE_STARTS) or bool(
        _ROUTINE.search(line)
    )
