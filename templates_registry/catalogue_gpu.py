"""Options of the GPU (TensorRT) templates: target GPUs, engine builder, ONNX opset.

Plain Python, like catalogue.py. The values mirror conversions/converters/tensorrt/builders.py and
export.py, which the catalogue must not import (it is loaded by migrations).
"""

from templates_registry.catalogue_options import _option

COMPUTE_CAPABILITIES = ["SM75", "SM80", "SM86", "SM89", "SM120", "SM121"]
DEFAULT_CAPABILITIES = "SM80,SM86,SM89,SM120"
ENGINE_BUILDERS = ["auto", "tensorrt-rtx", "tensorrt"]


def _target_gpus():
    return _option(
        "target_gpus",
        "Target GPUs",
        "目标 GPU",
        "multichoice",
        help_en=(
            "Compute capabilities TensorRT-RTX builds the engine for, separated by commas: SM75 (Turing: "
            "T4, RTX 20), SM80 (A100), SM86 (A10, RTX 30), SM89 (L4, RTX 40), SM120 (RTX 50), SM121 "
            "(DGX Spark). On SM75, models with dense layers build only in 16bit. Standard TensorRT "
            "ignores this and builds for the GPU of the worker it runs on."
        ),
        help_zh=(
            "TensorRT-RTX 引擎面向的计算能力，多个用逗号分隔：SM75（Turing：T4、RTX 20）、SM80（A100）、"
            "SM86（A10、RTX 30）、SM89（L4、RTX 40）、SM120（RTX 50）、SM121（DGX Spark）。"
            "SM75 上含全连接层的模型只能构建 16bit 引擎。标准 TensorRT 忽略此项，为所在 worker 的 GPU 构建。"
        ),
        choices=COMPUTE_CAPABILITIES,
        default=DEFAULT_CAPABILITIES,
    )


def _engine_builder():
    return _option(
        "engine_builder",
        "Engine Builder",
        "引擎构建工具",
        "choice",
        help_en=(
            "auto: TensorRT-RTX when the worker has it, else standard TensorRT on a GPU worker. "
            "tensorrt-rtx builds ahead of time on any worker for the target GPUs. tensorrt (standard "
            "TensorRT, for data-center GPUs such as H100) needs a GPU to build: these tasks go to the "
            "gpu queue."
        ),
        help_zh=(
            "auto：worker 装有 TensorRT-RTX 时使用它，否则在 GPU worker 上使用标准 TensorRT。"
            "tensorrt-rtx 可在任意 worker 上为目标 GPU 预先构建；tensorrt（标准 TensorRT，适用于 H100 "
            "等数据中心 GPU）构建时需要 GPU，此类任务进入 gpu 队列。"
        ),
        choices=ENGINE_BUILDERS,
        default="auto",
        required=True,
    )


def _opset():
    return _option(
        "opset",
        "ONNX Opset",
        "ONNX 算子集版本",
        "integer",
        help_en="ONNX opset of the TensorFlow to ONNX export (13 to 18); a newer opset maps more operations.",
        help_zh="TensorFlow 转 ONNX 时使用的 ONNX 算子集版本（13 到 18）；版本越新，可映射的算子越多。",
        default=17,
        min_value=13,
        max_value=18,
    )


def gpu_options(opset=True):
    """Appended to the precision options of every TensorRT template; `opset` only where TensorFlow
    is exported to ONNX."""
    return [_target_gpus(), _engine_builder(), *([_opset()] if opset else [])]
