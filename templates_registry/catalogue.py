"""Built-in conversion templates: one per ModelArts template (spec section 2.1).

Plain Python on purpose: this module is imported by a data migration and by a
management command, so it must not import Django or anything from the project.

``BUILTIN_TEMPLATES`` lists the 13 templates in the spec's order, plus ``onnx-to-tensorrt`` (ONNX is
what most GPU users have today) after the other TensorRT templates, then ``caffe-to-tflite``,
``caffe-to-tensorrt`` and ``caffe-to-onnx`` (issue 18). Each template
carries its option schema (spec sections 2.2-2.5, plus ``soc_version`` for the
Ascend templates because ATC needs it). Option patterns are Python regular
expressions that the *whole* value must match (``re.fullmatch``); an empty
pattern means "no pattern".
"""

from templates_registry.catalogue_caffe import ssd_detection_output
from templates_registry.catalogue_gpu import gpu_options
from templates_registry.catalogue_options import (
    group_a,
    group_b,
    group_d,
    input_shape,
    precision_and_batch,
    soc_version,
)
from templates_registry.catalogue_quant import keep_float_layers
from templates_registry.catalogue_verify import verified_options


def _template(
    slug,
    name_en,
    name_zh,
    description_en,
    description_zh,
    chip,
    framework,
    model_format,
    options,
    produces=None,
):
    """`produces`: (output format, converter key) where they are not the chip's usual ones."""
    output_format, converter = (
        produces
        or {
            "ascend": ("om", "ascend"),
            "arm": ("tflite", "tflite"),
            "gpu": ("engine", "tensorrt"),
        }[chip]
    )
    return {
        "slug": slug,
        "name_en": name_en,
        "name_zh": name_zh,
        "description_en": description_en,
        "description_zh": description_zh,
        "chip": chip,
        "framework": framework,
        "model_format": model_format,
        "output_format": output_format,
        "converter": converter,
        "queue": "cpu",
        "options": options,
    }


# Input-folder summaries (spec 3.1), reused in the descriptions.
_IN_FROZEN_ARM_EN = "a model/ folder holding one frozen_graph .pb plus a calibration_data/ folder of pre-processed .npy inputs"
_IN_FROZEN_ARM_ZH = "model/ 目录（仅含一个 frozen_graph .pb 文件）和 calibration_data/ 目录（预处理好的 .npy 输入数据）"
_IN_SAVED_ARM_EN = "a model/ folder holding saved_model.pb and variables/ plus a calibration_data/ folder of pre-processed .npy inputs"
_IN_SAVED_ARM_ZH = "model/ 目录（含 saved_model.pb 和 variables/）和 calibration_data/ 目录（预处理好的 .npy 输入数据）"
_IN_FROZEN_ASC_EN = "a folder with one frozen_graph .pb, an optional insert_op_conf.cfg and an optional plugin/ folder of custom operators"
_IN_FROZEN_ASC_ZH = (
    "一个 frozen_graph .pb 文件，可选 insert_op_conf.cfg 和可选的自定义算子目录 plugin/"
)
_IN_SAVED_ASC_EN = (
    "a folder with saved_model.pb and variables/ (variables.index, variables.data-*), "
    "an optional insert_op_conf.cfg and an optional plugin/ folder of custom operators"
)
_IN_SAVED_ASC_ZH = "saved_model.pb 与 variables/ 目录（variables.index、variables.data-*），可选 insert_op_conf.cfg 和可选的自定义算子目录 plugin/"

_OUT_TFLITE_EN = "Produces model/<name>.tflite and model/config.json for ARM devices."
_OUT_TFLITE_ZH = "输出 model/<name>.tflite 和 model/config.json，用于 ARM 设备。"
_OUT_TRT_EN = (
    "Converts the graph to ONNX and builds a real TensorRT engine for NVIDIA GPUs: model/<name>.engine and "
    "model/<name>.onnx (the original ModelArts template produced a TensorRT-optimised .pb)."
)
_OUT_TRT_ZH = (
    "先将模型转为 ONNX，再为 NVIDIA GPU 构建真正的 TensorRT 引擎，输出 model/<name>.engine 和 model/<name>.onnx"
    "（原 ModelArts 模板输出的是经 TensorRT 优化的 .pb）。"
)


_IN_CAFFE_EN = (
    "a model/ folder holding one deploy .prototxt and one .caffemodel (layers: Convolution, "
    "Deconvolution, InnerProduct, Pooling, BatchNorm, Scale, Bias, ReLU, PReLU, ELU, Sigmoid, TanH, "
    "AbsVal, Power, Dropout, Softmax, Eltwise, Concat, Split, Slice, Flatten, Reshape, Crop, "
    "Permute, LRN)"
)
_IN_CAFFE_ZH = (
    "model/ 目录（含一个部署用 .prototxt 和一个 .caffemodel；支持的层：Convolution、Deconvolution、"
    "InnerProduct、Pooling、BatchNorm、Scale、Bias、ReLU、PReLU、ELU、Sigmoid、TanH、AbsVal、Power、"
    "Dropout、Softmax、Eltwise、Concat、Split、Slice、Flatten、Reshape、Crop、Permute、LRN）"
)
_VERIFIED_CAFFE_EN = "Verified against a NumPy reference run of the original Caffe model."
_VERIFIED_CAFFE_ZH = "以原 Caffe 模型的 NumPy 参考推理结果进行校验。"

# Caffe for ARM and GPUs (issue 18). ONNX is what GPU runtimes (TensorRT, ONNX Runtime) read, so
# caffe-to-onnx is a GPU template too: its own output format and converter key, no new chip.
CAFFE_TEMPLATES = [
    _template(
        "caffe-to-tflite",
        "Caffe to TFLite",
        "Caffe转TFLite",
        (
            f"Converts a Caffe model ({_IN_CAFFE_EN}, plus a calibration_data/ folder of "
            f"pre-processed .npy inputs for the calibrated precisions) to TFLite; the model keeps "
            f"Caffe's N x C x H x W inputs. {_OUT_TFLITE_EN} {_VERIFIED_CAFFE_EN}"
        ),
        (
            f"将 Caffe 模型（{_IN_CAFFE_ZH}；需校准的精度另需 calibration_data/ 目录的预处理 .npy 输入"
            f"数据）转换为 TFLite，模型保持 Caffe 的 N x C x H x W 输入布局。{_OUT_TFLITE_ZH}"
            f"{_VERIFIED_CAFFE_ZH}"
        ),
        "arm",
        "caffe",
        "caffemodel",
        precision_and_batch("tflite") + [keep_float_layers()] + verified_options(),
    ),
    _template(
        "caffe-to-tensorrt",
        "Caffe to TensorRT",
        "Caffe转TensorRT",
        (
            f"Converts a Caffe model ({_IN_CAFFE_EN}, plus a calibration_data/ folder of "
            f"pre-processed .npy inputs for 8bit) to ONNX and builds a TensorRT engine for NVIDIA "
            f"GPUs: model/<name>.engine and model/<name>.onnx. {_VERIFIED_CAFFE_EN}"
        ),
        (
            f"将 Caffe 模型（{_IN_CAFFE_ZH}；8bit 时另需 calibration_data/ 目录的预处理 .npy 输入数据）"
            f"转为 ONNX，并构建 NVIDIA GPU 的 TensorRT 引擎，输出 model/<name>.engine 和 "
            f"model/<name>.onnx。{_VERIFIED_CAFFE_ZH}"
        ),
        "gpu",
        "caffe",
        "caffemodel",
        precision_and_batch("tensorrt")
        + [keep_float_layers()]
        + gpu_options(opset=False)
        + verified_options(),
    ),
    _template(
        "caffe-to-onnx",
        "Caffe to ONNX",
        "Caffe转ONNX",
        (
            f"Converts a Caffe model ({_IN_CAFFE_EN}) to ONNX (opset 13, float32) for TensorRT, "
            f"ONNX Runtime and other ONNX runtimes: model/<name>.onnx. {_VERIFIED_CAFFE_EN}"
        ),
        (
            f"将 Caffe 模型（{_IN_CAFFE_ZH}）转换为 ONNX（opset 13，float32），供 TensorRT、ONNX "
            f"Runtime 等推理框架使用，输出 model/<name>.onnx。{_VERIFIED_CAFFE_ZH}"
        ),
        "gpu",
        "caffe",
        "caffemodel",
        [],
        produces=("onnx", "onnx"),
    ),
]

BUILTIN_TEMPLATES = [
    _template(
        "caffe-to-ascend",
        "Caffe to Ascend",
        "Caffe转Ascend",
        (
            "Converts a Caffe model (one .caffemodel and one .prototxt, with optional insert_op_conf.cfg and "
            "plugin/ of TE custom operators) into an Ascend <name>.om."
        ),
        "将 Caffe 模型（一个 .caffemodel 和一个 .prototxt，可选 insert_op_conf.cfg 及 TE 自定义算子目录 plugin/）转换为昇腾 <name>.om 模型。",
        "ascend",
        "caffe",
        "caffemodel",
        [soc_version(), ssd_detection_output()],
    ),
    _template(
        "tensorflow-frozen-graph-to-tflite",
        "TensorFlow frozen_graph to TFLite",
        "Tensorflow frozen_graph转TFLite",
        f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ARM_EN}) to TFLite. {_OUT_TFLITE_EN}",
        f"将 TensorFlow frozen_graph 模型（输入：{_IN_FROZEN_ARM_ZH}）转换为 TFLite。{_OUT_TFLITE_ZH}",
        "arm",
        "tensorflow",
        "frozen_graph",
        group_a("tflite") + [keep_float_layers()] + verified_options(),
    ),
    _template(
        "tensorflow-saved-model-to-tflite",
        "TensorFlow saved_model to TFLite",
        "Tensorflow saved_model转TFLite",
        f"Converts a TensorFlow SavedModel ({_IN_SAVED_ARM_EN}) to TFLite. {_OUT_TFLITE_EN}",
        f"将 TensorFlow saved_model 模型（输入：{_IN_SAVED_ARM_ZH}）转换为 TFLite。{_OUT_TFLITE_ZH}",
        "arm",
        "tensorflow",
        "saved_model",
        group_b("tflite") + [keep_float_layers()] + verified_options(),
    ),
    _template(
        "tensorflow-frozen-graph-to-tensorrt",
        "TensorFlow frozen_graph to TensorRT",
        "Tensorflow frozen_graph转TensorRT",
        f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ARM_EN}). {_OUT_TRT_EN}",
        f"转换 TensorFlow frozen_graph 模型（输入：{_IN_FROZEN_ARM_ZH}）。{_OUT_TRT_ZH}",
        "gpu",
        "tensorflow",
        "frozen_graph",
        group_a("tensorrt") + [keep_float_layers()] + gpu_options() + verified_options(),
    ),
    _template(
        "tensorflow-saved-model-to-tensorrt",
        "TensorFlow saved_model to TensorRT",
        "Tensorflow saved_model转TensorRT",
        f"Converts a TensorFlow SavedModel ({_IN_SAVED_ARM_EN}). {_OUT_TRT_EN}",
        f"转换 TensorFlow saved_model 模型（输入：{_IN_SAVED_ARM_ZH}）。{_OUT_TRT_ZH}",
        "gpu",
        "tensorflow",
        "saved_model",
        group_b("tensorrt") + [keep_float_layers()] + gpu_options() + verified_options(),
    ),
    _template(
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
        "gpu",
        "onnx",
        "onnx",
        precision_and_batch("tensorrt")
        + [keep_float_layers()]
        + gpu_options(opset=False)
        + verified_options(),
    ),
    *CAFFE_TEMPLATES,
    _template(
        "tensorflow-frozen-graph-to-ascend",
        "TensorFlow frozen_graph to Ascend",
        "Tensorflow frozen graph 转 Ascend",
        (
            f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ASC_EN}) into an Ascend <name>.om. "
            "The input shape must be given, with a batch of 1."
        ),
        f"将 TensorFlow frozen_graph 模型（{_IN_FROZEN_ASC_ZH}）转换为昇腾 <name>.om 模型，须指定输入张量形状且 batch 为 1。",
        "ascend",
        "tensorflow",
        "frozen_graph",
        [input_shape(required=True), soc_version()],
    ),
    _template(
        "tf-frozengraph-to-ascend",
        "TF-FrozenGraph-To-Ascend",
        "TF-FrozenGraph-To-Ascend",
        (
            f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ASC_EN}, TE operators) into an Ascend <name>.om. "
            "Recommended for HiLens Kit firmware older than 2.2.200.011."
        ),
        f"将 TensorFlow frozen_graph 模型（{_IN_FROZEN_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。HiLens Kit 固件低于 2.2.200.011 时推荐使用。",
        "ascend",
        "tensorflow",
        "frozen_graph",
        group_d(),
    ),
    _template(
        "tf-savedmodel-to-ascend",
        "TF-SavedModel-To-Ascend",
        "TF-SavedModel-To-Ascend",
        (
            f"Converts a TensorFlow SavedModel ({_IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om. "
            "Recommended for HiLens Kit firmware older than 2.2.200.011."
        ),
        f"将 TensorFlow saved_model 模型（{_IN_SAVED_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。HiLens Kit 固件低于 2.2.200.011 时推荐使用。",
        "ascend",
        "tensorflow",
        "saved_model",
        group_d(),
    ),
    _template(
        "onnx-to-ascend-tbe",
        "Onnx-To-Ascend-TBE",
        "Onnx-To-Ascend-TBE",
        (
            "Converts an ONNX model (a folder with one .onnx file, an optional insert_op_conf.cfg and an optional "
            "plugin/ folder of TBE custom operators; opset 9 or later) into an Ascend <name>.om."
        ),
        "将 ONNX 模型（一个 .onnx 文件，可选 insert_op_conf.cfg 和 TBE 自定义算子目录 plugin/；opset 需不低于 9）转换为昇腾 <name>.om 模型。",
        "ascend",
        "onnx",
        "onnx",
        group_d(input_format_default="NCHW"),
    ),
    _template(
        "tf-frozengraph-to-ascend-c32",
        "TF-FrozenGraph-To-Ascend-C32",
        "TF-FrozenGraph-To-Ascend-C32",
        (
            f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ASC_EN}, TBE operators) into an Ascend <name>.om "
            "with the C32 toolchain settings, including L2 dynamic optimization. Recommended for Ascend 310."
        ),
        f"使用 C32 工具链配置（含 L2 动态优化）将 TensorFlow frozen_graph 模型（{_IN_FROZEN_ASC_ZH}，支持 TBE 算子）转换为昇腾 <name>.om 模型。Ascend 310 推荐使用。",
        "ascend",
        "tensorflow",
        "frozen_graph",
        group_d(l2dynamic=True),
    ),
    _template(
        "tf-savedmodel-to-ascend-c32",
        "TF-SavedModel-To-Ascend-C32",
        "TF-SavedModel-To-Ascend-C32",
        (
            f"Converts a TensorFlow SavedModel ({_IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om "
            "with the C32 toolchain settings, including L2 dynamic optimization. Recommended for Ascend 310."
        ),
        f"使用 C32 工具链配置（含 L2 动态优化）将 TensorFlow saved_model 模型（{_IN_SAVED_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。Ascend 310 推荐使用。",
        "ascend",
        "tensorflow",
        "saved_model",
        group_d(l2dynamic=True),
    ),
    _template(
        "tf-frozengraph-to-ascend-hilens",
        "TF-FrozenGraph-To-Ascend-HiLens",
        "TF-FrozenGraph-To-Ascend-HiLens",
        (
            f"Converts a TensorFlow frozen graph ({_IN_FROZEN_ASC_EN}, TE operators) into an Ascend <name>.om "
            "that runs on HiLens Kit. Recommended for HiLens Kit firmware 2.2.200.011 or for debugging in HiLens Studio."
        ),
        f"将 TensorFlow frozen_graph 模型（{_IN_FROZEN_ASC_ZH}，支持 TE 算子）转换为可在 HiLens Kit 上运行的昇腾 <name>.om 模型。HiLens Kit 固件为 2.2.200.011 或在 HiLens Studio 中调试时推荐使用。",
        "ascend",
        "tensorflow",
        "frozen_graph",
        group_d(),
    ),
    _template(
        "tf-savedmodel-to-ascend-hilens",
        "TF-SavedModel-To-Ascend-HiLens",
        "TF-SavedModel-To-Ascend-HiLens",
        (
            f"Converts a TensorFlow SavedModel ({_IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om "
            "that runs on HiLens Kit. Recommended for HiLens Kit firmware 2.2.200.011 or for debugging in HiLens Studio."
        ),
        f"将 TensorFlow saved_model 模型（{_IN_SAVED_ASC_ZH}，支持 TE 算子）转换为可在 HiLens Kit 上运行的昇腾 <name>.om 模型。HiLens Kit 固件为 2.2.200.011 或在 HiLens Studio 中调试时推荐使用。",
        "ascend",
        "tensorflow",
        "saved_model",
        group_d(),
    ),
]
