"""TensorFlow's start-up notices stay out of the task log; the converter's own lines stay in."""

import pytest

from conversions.startup_notices import is_startup_notice

NOTICES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796307264.507808   12933 port.cc:153] oneDNN custom operations are on. You may "
    "see slightly different numerical results due to floating-point round-off errors.",
    "I0000 00:00:1796307277.986027   13016 cpu_feature_guard.cc:227] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
    "E0000 00:00:1733.1 1 cuda_dnn.cc:8310] Unable to register cuDNN factory: Attempting to "
    "register factory for plugin cuDNN when one has already been registered",
    "2024-01-31 10:00:00.123456: I tensorflow/core/util/port.cc:113] oneDNN custom operations are on.",
    "2024-01-31 10:00:00.123456: I external/local_tsl/tsl/cuda/cudart_stub.cc:31] Could not find "
    "cuda drivers on your machine, GPU will not be used.",
    "2024-01-31 10:00:00.123456: W tensorflow/compiler/tf2tensorrt/utils/py_utils.cc:38] TF-TRT "
    "Warning: Could not find TensorRT",
    "W0000 00:00:1796307867.580084   25186 tf_tfl_flatbuffer_helpers.cc:364] Ignored output_format.",
    "W0000 00:00:1796307867.580184   25186 tf_tfl_flatbuffer_helpers.cc:367] Ignored "
    "drop_control_dependency.",
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    "/work/.venv/lib/python3.11/site-packages/joblib/_multiprocessing_helpers.py:44: UserWarning: "
    "[Errno 13] Permission denied.  joblib will operate in serial mode",
    '  warnings.warn("%s.  joblib will operate in serial mode" % (e,))',
]
KEPT = [
    "Stage: converting",
    "W0000 00:00:1796307277.1 13016 tf_tfl_flatbuffer_helpers.cc:365] Ignored input_shapes.",
    "E0000 00:00:1796307277.1 13016 graph_io.cc:40] Op Foo is not supported",
    "ERROR: To enable the following instructions is not a notice here",
    "Traceback (most recent call last):",
]


@pytest.mark.parametrize("line", NOTICES)
def test_start_up_notices_are_recognised(line):
    assert is_startup_notice(line)


@pytest.mark.parametrize("line", KEPT)
def test_the_converters_own_lines_are_kept(line):
    assert not is_startup_notice(line)
