"""The TensorRT target: TensorFlow, ONNX and Caffe models to TensorRT engines for NVIDIA GPUs."""

from dataclasses import replace

from conversions.converters.targets import options, register, texts
from conversions.converters.targets.spec import Option, Target, Template, table
from conversions.converters.tensorrt import builders

TARGET_GPUS = Option(
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
    choices=builders.COMPUTE_CAPABILITIES,
    default=",".join(builders.DEFAULT_CAPABILITIES),
)

ENGINE_BUILDER = Option(
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
    choices=builders.CHOICES,
    default=builders.AUTO,
    required=True,
)

# The opsets of tensorrt/export.py (not imported here: it loads the TensorFlow side).
OPSET = Option(
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

OPTIONS = table(
    options.INPUT_TENSOR_NAMES,
    options.OUTPUT_TENSOR_NAMES,
    options.SIGNATURE,
    options.TAG,
    replace(
        options.QUANTIZATION_PRECISION,
        help_en=(
            "Engine precision: 32bit builds an FP32 engine and works with any model (default); 16bit "
            "builds FP16 (exponentials, softmax and long reductions stay FP32); 8bit builds INT8 "
            "calibrated on calibration_data/*.npy; 8bit-mixed is 8bit that keeps the layers losing "
            "the most in float until verification passes. Each is checked against the original "
            "before the engine is built."
        ),
        help_zh=(
            "引擎精度：32bit 生成 FP32 引擎，适用于任何模型（默认）；16bit 生成 FP16 引擎（指数、softmax "
            "和长归约保持 FP32）；8bit 生成 INT8 引擎，需要 calibration_data/*.npy 校准数据；"
            "8bit-mixed 在 8bit 基础上把损失最大的层保留为浮点，直到精度校验通过。"
            "构建引擎前会先与原模型比对精度。"
        ),
        choices=("32bit", "16bit", "8bit", "8bit-mixed"),
    ),
    replace(
        options.BATCH_SIZE,
        help_en=(
            "The largest batch the engine takes when the model's batch dimension is dynamic "
            "(optimization profile: min 1, opt and max this value), and the 8-bit calibration batch."
        ),
        help_zh="模型 batch 维度为动态时引擎支持的最大 batch（优化配置：最小 1，最优和最大为此值），也是 8bit 校准的批大小。",
    ),
    options.KEEP_FLOAT_LAYERS,
    TARGET_GPUS,
    ENGINE_BUILDER,
    OPSET,
    options.ACCURACY_TOLERANCE,
)

TENSORRT = register(
    Target(
        key="tensorrt",
        chip="gpu",
        output_format="engine",
        converter="conversions.converters.tensorrt.converter.TensorRTConverter",
        probe="conversions.converters.capabilities.probe_tensorrt",
        layout="model/<name>.engine and model/<name>.onnx",
        options=OPTIONS,
        # Engine builds take longer and more memory than a TFLite conversion of the same model.
        limits={"timeout_seconds": 1800, "memory_mb": 6144},
        queue_rule="conversions.converters.tensorrt.routing.queue_for",
        templates=(
            Template(
                "caffe-to-tensorrt",
                "Caffe to TensorRT",
                "Caffe转TensorRT",
                (
                    f"Converts a Caffe model ({texts.IN_CAFFE_EN}, plus a calibration_data/ folder of "
                    f"pre-processed .npy inputs for 8bit) to ONNX and builds a TensorRT engine for NVIDIA "
                    f"GPUs: model/<name>.engine and model/<name>.onnx. {texts.VERIFIED_CAFFE_EN}"
                ),
                (
                    f"将 Caffe 模型（{texts.IN_CAFFE_ZH}；8bit 时另需 calibration_data/ 目录的预处理 .npy 输入数据）"
                    f"转为 ONNX，并构建 NVIDIA GPU 的 TensorRT 引擎，输出 model/<name>.engine 和 "
                    f"model/<name>.onnx。{texts.VERIFIED_CAFFE_ZH}"
                ),
                "caffe",
                "caffemodel",
                options=(
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "target_gpus",
                    "engine_builder",
                    "accuracy_tolerance",
                ),
                position=8,
            ),
            Template(
                "tensorflow-frozen-graph-to-tensorrt",
                "TensorFlow frozen_graph to TensorRT",
                "Tensorflow frozen_graph转TensorRT",
                f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ARM_EN}). {texts.OUT_TRT_EN}",
                f"转换 TensorFlow frozen_graph 模型（输入：{texts.IN_FROZEN_ARM_ZH}）。{texts.OUT_TRT_ZH}",
                "tensorflow",
                "frozen_graph",
                options=(
                    "input_tensor_names",
                    "output_tensor_names",
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "target_gpus",
                    "engine_builder",
                    "opset",
                    "accuracy_tolerance",
                ),
                position=4,
            ),
            Template(
                "tensorflow-saved-model-to-tensorrt",
                "TensorFlow saved_model to TensorRT",
                "Tensorflow saved_model转TensorRT",
                f"Converts a TensorFlow SavedModel ({texts.IN_SAVED_ARM_EN}). {texts.OUT_TRT_EN}",
                f"转换 TensorFlow saved_model 模型（输入：{texts.IN_SAVED_ARM_ZH}）。{texts.OUT_TRT_ZH}",
                "tensorflow",
                "saved_model",
                options=(
                    "signature",
                    "tag",
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "target_gpus",
                    "engine_builder",
                    "opset",
                    "accuracy_tolerance",
                ),
                position=5,
            ),
            Template(
                "onnx-to-tensorrt",
                "ONNX to TensorRT",
                "ONNX转TensorRT",
                (
                    "Builds a TensorRT engine for NVIDIA GPUs from an ONNX model (a model/ folder holding one .onnx "
                    "file with standard ONNX operators, opset 9 or later, plus a calibration_data/ folder of "
                    "pre-processed .npy inputs for 8bit): model/<name>.engine and model/<name>.onnx."
                ),
                (
                    "将 ONNX 模型（model/ 目录中仅含一个使用标准 ONNX 算子、opset 不低于 9 的 .onnx 文件；8bit 时另需 "
                    "calibration_data/ 目录的预处理 .npy 输入数据）构建为 NVIDIA GPU 的 TensorRT 引擎，输出 "
                    "model/<name>.engine 和 model/<name>.onnx。"
                ),
                "onnx",
                "onnx",
                options=(
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "target_gpus",
                    "engine_builder",
                    "accuracy_tolerance",
                ),
                position=6,
            ),
        ),
    )
)
