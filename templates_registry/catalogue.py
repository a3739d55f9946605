"""Built-in conversion templates: one per ModelArts template (spec section 2.1).

Plain Python on purpose: this module is imported by a data migration and by a
management command, so it must not import Django or anything from the project.

``BUILTIN_TEMPLATES`` lists the 13 templates in the spec's order. Each template
carries its option schema (spec sections 2.2-2.5, plus ``soc_version`` for the
Ascend templates because ATC needs it). Option patterns are Python regular
expressions that the *whole* value must match (``re.fullmatch``); an empty
pattern means "no pattern".
"""

import re

# ---------------------------------------------------------------------------
# Shared limits and patterns
# ---------------------------------------------------------------------------

# Back-end limit on an advanced-option string (spec 2.5, error ModelArts.3060).
MAX_OPTION_LENGTH = 4000
# SignatureDef names and MetaGraph tags are short identifiers.
MAX_IDENTIFIER_LENGTH = 256

# A graph node / tensor name: letters, digits, "_", ".", "/", "-". It never
# contains the characters ModelArts.3060 forbids: ( | ) & $ ? < > nor Chinese.
_NODE = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
# A positive dimension (no "?", no -1, no 0, no leading zeros).
_DIM = r"[1-9][0-9]*"

# "input", "input:0", "in1:in2", "in1:0:in2:0". The spec joins several names
# with ":", which is also TF's output-index separator, so the pattern just
# accepts ":"-separated name/index segments and the converter resolves them.
TENSOR_NAMES_PATTERN = rf"{_NODE}(?::{_NODE})*"
# "images:1,224,224,3" or "a:1,3,8,8;b:1,10".
INPUT_SHAPE_PATTERN = rf"{_NODE}:{_DIM}(?:,{_DIM})*(?:;{_NODE}:{_DIM}(?:,{_DIM})*)*"
# "logits:0" or "node1:0;node1:1;node2:0".
OUT_NODES_PATTERN = rf"{_NODE}:[0-9]+(?:;{_NODE}:[0-9]+)*"
# A SignatureDef key such as "serving_default".
SIGNATURE_PATTERN = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
# One tag ("serve") or a comma-separated tag set ("serve,gpu").
TAG_PATTERN = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*(?:,[A-Za-z0-9_.][A-Za-z0-9_./-]*)*"

SOC_VERSIONS = ["Ascend310", "Ascend310P3", "Ascend310B1", "Ascend910", "Ascend910B"]

OPTION_FIELDS = (
    "key",
    "label_en",
    "label_zh",
    "type",
    "choices",
    "default",
    "required",
    "pattern",
    "min_value",
    "max_value",
    "max_length",
    "help_en",
    "help_zh",
)

TEMPLATE_FIELDS = (
    "slug",
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "chip",
    "framework",
    "model_format",
    "output_format",
    "converter",
    "queue",
    "options",
)

BUILTIN_SLUGS = [
    "caffe-to-ascend",
    "tensorflow-frozen-graph-to-tflite",
    "tensorflow-saved-model-to-tflite",
    "tensorflow-frozen-graph-to-tensorrt",
    "tensorflow-saved-model-to-tensorrt",
    "tensorflow-frozen-graph-to-ascend",
    "tf-frozengraph-to-ascend",
    "tf-savedmodel-to-ascend",
    "onnx-to-ascend-tbe",
    "tf-frozengraph-to-ascend-c32",
    "tf-savedmodel-to-ascend-c32",
    "tf-frozengraph-to-ascend-hilens",
    "tf-savedmodel-to-ascend-hilens",
]


# ---------------------------------------------------------------------------
# Option builders (each call returns a fresh dict, so templates never share
# mutable option objects)
# ---------------------------------------------------------------------------


def _option(
    key,
    label_en,
    label_zh,
    type,
    help_en,
    help_zh,
    choices=None,
    default=None,
    required=False,
    pattern="",
    min_value=None,
    max_value=None,
    max_length=None,
):
    return {
        "key": key,
        "label_en": label_en,
        "label_zh": label_zh,
        "type": type,
        "choices": list(choices or []),
        "default": default,
        "required": required,
        "pattern": pattern,
        "min_value": min_value,
        "max_value": max_value,
        "max_length": max_length,
        "help_en": help_en,
        "help_zh": help_zh,
    }


# -- group A (frozen_graph -> TFLite / TensorRT) -----------------------------


def _input_tensor_names():
    return _option(
        "input_tensor_names",
        "Input Tensor Name",
        "模型输入tensor名称",
        "string",
        help_en=(
            "Names of the model's input tensors, several joined by ':' "
            "(e.g. input1:input2; an output index such as input:0 is also accepted)."
        ),
        help_zh="模型输入tensor的名称，多个名称用“:”连接（如 input1:input2；也可写成 input:0 这样带输出序号的形式）。",
        required=True,
        pattern=TENSOR_NAMES_PATTERN,
        max_length=MAX_OPTION_LENGTH,
    )


def _output_tensor_names():
    return _option(
        "output_tensor_names",
        "Output Tensor Name",
        "模型输出tensor名称",
        "string",
        help_en="Names of the model's output tensors, several joined by ':' (e.g. output1:output2).",
        help_zh="模型输出tensor的名称，多个名称用“:”连接（如 output1:output2）。",
        required=True,
        pattern=TENSOR_NAMES_PATTERN,
        max_length=MAX_OPTION_LENGTH,
    )


def _quantization_precision(target):
    if target == "tflite":
        choices = ["32bit", "16bit", "8bit", "8bit-dynamic"]
        help_en = (
            "32bit converts without quantization and works with any model (default); 16bit stores "
            "float16 weights; 8bit is full-integer quantization calibrated on calibration_data/*.npy; "
            "8bit-dynamic quantizes only the weights and needs no calibration."
        )
        help_zh = (
            "32bit 为不量化的直接转换，适用于任何模型（默认）；16bit 以 float16 保存权重；"
            "8bit 为全整型量化，需要 calibration_data/*.npy 校准数据；8bit-dynamic 只量化权重，无需校准。"
        )
    else:
        choices = ["32bit", "16bit", "8bit"]
        help_en = (
            "Engine precision: 32bit builds an FP32 engine and works with any model (default); 16bit "
            "builds FP16; 8bit builds INT8 calibrated on calibration_data/*.npy."
        )
        help_zh = (
            "引擎精度：32bit 生成 FP32 引擎，适用于任何模型（默认）；16bit 生成 FP16 引擎；"
            "8bit 生成 INT8 引擎，需要 calibration_data/*.npy 校准数据。"
        )
    return _option(
        "quantization_precision",
        "Quantization Precision",
        "量化精度",
        "choice",
        help_en=help_en,
        help_zh=help_zh,
        choices=choices,
        default="32bit",
        required=True,
    )


def _batch_size():
    return _option(
        "batch_size",
        "Batch Size",
        "量化批大小",
        "integer",
        help_en=(
            "Number of calibration samples fed per batch during 8-bit calibration; "
            "must be a positive integer and is ignored for other precisions."
        ),
        help_zh="8bit 量化校准时每批输入的样本数，须为正整数；其他量化精度下不使用。",
        default=1,
        required=True,
        min_value=1,
        max_value=1024,
    )


# -- group B (saved_model -> TFLite / TensorRT) ------------------------------


def _signature():
    return _option(
        "signature",
        "Model Signature",
        "模型签名",
        "string",
        help_en="SignatureDef of the SavedModel to convert (e.g. serving_default); leave empty to use the first signature.",
        help_zh="要转换的 SavedModel 签名（如 serving_default）；留空则使用第一个签名。",
        pattern=SIGNATURE_PATTERN,
        max_length=MAX_IDENTIFIER_LENGTH,
    )


def _tag():
    return _option(
        "tag",
        "Model Input Label",
        "传入模型标签",
        "string",
        help_en="Tag set of the MetaGraph to load (e.g. serve, or serve,gpu); leave empty to use the first tag.",
        help_zh="要加载的 MetaGraph 标签（如 serve，多个标签用逗号分隔）；留空则使用第一个标签。",
        pattern=TAG_PATTERN,
        max_length=MAX_IDENTIFIER_LENGTH,
    )


# -- groups C and D (Ascend) --------------------------------------------------


def _input_shape(required):
    if required:
        help_en = (
            "Static shape of the input, name:N,H,W,C in NHWC order (e.g. images:1,224,224,3); the name must "
            "be a node of the original graph, a dynamic '?' must be replaced by a number, and the batch must be 1."
        )
        help_zh = (
            "输入的静态形状，格式为 name:N,H,W,C（NHWC 顺序，如 images:1,224,224,3）；name 须为原图中的节点，"
            "动态维度“?”须替换为具体数值，batch 必须为 1。"
        )
    else:
        help_en = (
            "Input shapes as name1:n,c,h,w;name2:n,c,h,w (e.g. images:1,224,224,3); needed when an input is "
            "dynamic, where each '?' must be replaced by a number and the batch must be 1. The detected inputs "
            "are printed in the log."
        )
        help_zh = (
            "输入形状，格式为 name1:n,c,h,w;name2:n,c,h,w（如 images:1,224,224,3）；模型有动态输入时必填，"
            "“?”须替换为具体数值，batch 必须为 1。检测到的输入会打印在日志中。"
        )
    return _option(
        "input_shape",
        "Input Tensor Shape",
        "输入张量形状",
        "string",
        help_en=help_en,
        help_zh=help_zh,
        required=required,
        pattern=INPUT_SHAPE_PATTERN,
        max_length=MAX_OPTION_LENGTH,
    )


def _input_format(default="NHWC"):
    return _option(
        "input_format",
        "Input Data Format",
        "输入数据格式",
        "choice",
        help_en=(
            "Layout of the model's input data. TensorFlow models are usually NHWC; choose NCHW when the "
            "model really is NCHW (ONNX models normally are)."
        ),
        help_zh="模型输入数据的排布格式。TensorFlow 模型通常为 NHWC，模型确为 NCHW 时选择 NCHW（ONNX 模型一般为 NCHW）。",
        choices=["NCHW", "NHWC"],
        default=default,
    )


def _out_nodes():
    return _option(
        "out_nodes",
        "Output Nodes",
        "转换输出节点",
        "string",
        help_en=(
            "Outputs to keep, as node:index pairs separated by ';' (e.g. node1:0;node1:1;node2:0); "
            "leave empty to use the last layer's outputs. Can expose an intermediate layer."
        ),
        help_zh="指定输出节点，格式为 节点名:输出序号，多个用“;”分隔（如 node1:0;node1:1;node2:0）；留空则使用最后一层的输出，也可指定中间层。",
        pattern=OUT_NODES_PATTERN,
        max_length=MAX_OPTION_LENGTH,
    )


def _net_format():
    return _option(
        "net_format",
        "Preferred Data Format",
        "优选数据格式",
        "choice",
        help_en=(
            "Preferred layout for operators that accept both: ND (N <= 4, generic layout) or 5D "
            "(Huawei's 5-D layout). Has no effect on other operators."
        ),
        help_zh="对同时支持两种格式的算子指定优选格式：ND（N≤4，通用格式）或 5D（华为 5 维格式）；对其他算子不生效。",
        choices=["ND", "5D"],
        default="5D",
    )


def _fp16_high_prec():
    return _option(
        "fp16_high_prec",
        "Generate High-Precision Model",
        "生成高精度模型",
        "choice",
        help_en=(
            "0 builds a normal FP16 model (faster); 1 builds a high-precision FP16 model (more accurate), "
            "which only affects convolution, pooling and fully connected operators."
        ),
        help_zh="0 生成普通 FP16 模型（推理更快）；1 生成高精度 FP16 模型（精度更高），高精度仅作用于卷积、池化和全连接类算子。",
        choices=["0", "1"],
        default="0",
    )


def _output_type():
    return _option(
        "output_type",
        "Network Output Data Type",
        "网络输出数据类型",
        "choice",
        help_en="Data type of the network outputs: FP32 is recommended for classification and detection, UINT8 for image super-resolution.",
        help_zh="网络输出的数据类型：分类和检测网络推荐 FP32，图像超分辨率网络推荐 UINT8。",
        choices=["FP32", "UINT8"],
        default="FP32",
    )


def _enable_l2dynamic():
    return _option(
        "enable_l2dynamic",
        "L2 Dynamic Optimization",
        "L2动态优化",
        "choice",
        help_en="Turns L2 dynamic optimization on or off; switch it off to check whether it is hurting performance.",
        help_zh="L2 动态优化开关；可关闭以验证该优化是否影响性能。",
        choices=["true", "false"],
        default="true",
    )


def _soc_version():
    return _option(
        "soc_version",
        "SoC Version",
        "芯片型号",
        "choice",
        help_en=(
            "The Ascend chip the .om is built for: the chip name shown by `npu-smi info`, "
            "prefixed with 'Ascend' and with spaces removed (e.g. Ascend310)."
        ),
        help_zh="生成的 .om 所面向的昇腾芯片：取 `npu-smi info` 显示的芯片名，加上“Ascend”前缀并去掉空格（如 Ascend310）。",
        choices=SOC_VERSIONS,
        default="Ascend310",
        required=True,
    )


def _group_a(target):
    return [
        _input_tensor_names(),
        _output_tensor_names(),
        _quantization_precision(target),
        _batch_size(),
    ]


def _group_b(target):
    return [_signature(), _tag(), _quantization_precision(target), _batch_size()]


def _group_d(input_format_default="NHWC", l2dynamic=False):
    options = [
        _input_shape(required=False),
        _input_format(input_format_default),
        _out_nodes(),
        _net_format(),
        _fp16_high_prec(),
        _output_type(),
    ]
    if l2dynamic:
        options.append(_enable_l2dynamic())
    options.append(_soc_version())
    return options


def _template(
    slug, name_en, name_zh, description_en, description_zh, chip, framework, model_format, options
):
    output_format, converter = {
        "ascend": ("om", "ascend"),
        "arm": ("tflite", "tflite"),
        "gpu": ("engine", "tensorrt"),
    }[chip]
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
        [_soc_version()],
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
        _group_a("tflite"),
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
        _group_b("tflite"),
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
        _group_a("tensorrt"),
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
        _group_b("tensorrt"),
    ),
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
        [_input_shape(required=True), _soc_version()],
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
        _group_d(),
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
        _group_d(),
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
        _group_d(input_format_default="NCHW"),
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
        _group_d(l2dynamic=True),
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
        _group_d(l2dynamic=True),
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
        _group_d(),
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
        _group_d(),
    ),
]


# ---------------------------------------------------------------------------
# Self-check (called by tests / the management command, never at import time)
# ---------------------------------------------------------------------------

_ALLOWED = {
    "chip": {"ascend", "arm", "gpu"},
    "framework": {"caffe", "tensorflow", "onnx"},
    "model_format": {"caffemodel", "frozen_graph", "saved_model", "onnx"},
    "output_format": {"om", "tflite", "engine"},
    "converter": {"ascend", "tflite", "tensorrt"},
    "queue": {"cpu", "gpu"},
}


def _check_option(slug, opt):
    where = f"{slug}.{opt.get('key')}"
    assert set(opt) == set(OPTION_FIELDS), f"{where}: option fields {sorted(opt)}"
    assert isinstance(opt["key"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", opt["key"]), where
    for field in ("label_en", "label_zh", "help_en", "help_zh"):
        assert isinstance(opt[field], str) and opt[field].strip(), f"{where}: empty {field}"
    assert opt["type"] in ("string", "integer", "choice"), f"{where}: type {opt['type']!r}"
    assert isinstance(opt["required"], bool), f"{where}: required must be bool"
    assert isinstance(opt["choices"], list), f"{where}: choices must be a list"
    assert isinstance(opt["pattern"], str), f"{where}: pattern must be a str"
    compiled = re.compile(opt["pattern"]) if opt["pattern"] else None
    default = opt["default"]

    if opt["type"] == "choice":
        assert opt["choices"], f"{where}: choice option without choices"
        assert all(isinstance(c, str) for c in opt["choices"]), f"{where}: choices must be strings"
        assert len(set(opt["choices"])) == len(opt["choices"]), f"{where}: duplicate choices"
        assert default is None or default in opt["choices"], (
            f"{where}: default {default!r} not a choice"
        )
    else:
        assert opt["choices"] == [], f"{where}: choices only for choice options"

    if opt["type"] == "integer":
        assert opt["max_length"] is None, f"{where}: max_length only for strings"
        lo, hi = opt["min_value"], opt["max_value"]
        assert lo is None or isinstance(lo, int), where
        assert hi is None or isinstance(hi, int), where
        assert lo is None or hi is None or lo <= hi, f"{where}: min > max"
        if default is not None:
            assert isinstance(default, int) and not isinstance(default, bool), (
                f"{where}: default not int"
            )
            assert lo is None or default >= lo, f"{where}: default below min"
            assert hi is None or default <= hi, f"{where}: default above max"
    else:
        assert opt["min_value"] is None and opt["max_value"] is None, (
            f"{where}: min/max only for integers"
        )

    if opt["type"] == "string":
        ml = opt["max_length"]
        assert ml is None or (isinstance(ml, int) and ml > 0), f"{where}: bad max_length"
        if default is not None:
            assert isinstance(default, str), f"{where}: default not str"
            assert ml is None or len(default) <= ml, f"{where}: default too long"
    elif opt["type"] == "choice":
        assert opt["max_length"] is None, f"{where}: max_length only for strings"

    if compiled is not None and default is not None:
        assert compiled.fullmatch(str(default)), f"{where}: default {default!r} fails its pattern"


def check_catalogue(templates=None):
    """Assert the catalogue is internally consistent; return True."""
    templates = BUILTIN_TEMPLATES if templates is None else templates
    slugs = [t["slug"] for t in templates]
    assert len(slugs) == 13, f"expected 13 templates, got {len(slugs)}"
    assert len(set(slugs)) == len(slugs), "duplicate slugs"
    assert slugs == BUILTIN_SLUGS, f"slugs out of order: {slugs}"
    for t in templates:
        slug = t["slug"]
        assert set(t) == set(TEMPLATE_FIELDS), f"{slug}: template fields {sorted(t)}"
        for field in ("name_en", "name_zh", "description_en", "description_zh"):
            assert isinstance(t[field], str) and t[field].strip(), f"{slug}: empty {field}"
        for field, allowed in _ALLOWED.items():
            assert t[field] in allowed, f"{slug}: {field}={t[field]!r}"
        assert isinstance(t["options"], list), f"{slug}: options must be a list"
        keys = [o["key"] for o in t["options"]]
        assert len(set(keys)) == len(keys), f"{slug}: duplicate option keys {keys}"
        if t["chip"] == "ascend":
            assert "soc_version" in keys, f"{slug}: Ascend template without soc_version"
        for opt in t["options"]:
            _check_option(slug, opt)
    return True
