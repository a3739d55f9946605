"""Options of every template whose conversion is verified (TFLite and TensorRT): the task metric.

Plain Python, like catalogue.py. The default mirrors conversions/converters/evaluation.py.
"""

from templates_registry.catalogue_options import _option

ACCURACY_TOLERANCE_PATTERN = r"[0-9]{1,2}(\.[0-9]{1,3})?|100"


def _accuracy_tolerance():
    return _option(
        "accuracy_tolerance",
        "Accuracy Tolerance (points)",
        "精度容差（百分点）",
        "string",
        help_en=(
            "Used when the input folder has evaluation_data/ (inputs.npy and labels.npy): the most "
            "top-1 accuracy, in percentage points, the converted model may lose against the original. "
            "A drop within it passes even when the cosine verification warns; a larger drop fails the task."
        ),
        help_zh=(
            "输入目录含 evaluation_data/（inputs.npy 与 labels.npy）时使用：转换后模型相对原模型允许损失的"
            " top-1 精度（百分点）。在容差内时即使余弦校验给出警告也通过；超出则任务失败。"
        ),
        default="1.0",
        pattern=ACCURACY_TOLERANCE_PATTERN,
        max_length=6,
    )


def verified_options():
    return [_accuracy_tolerance()]
