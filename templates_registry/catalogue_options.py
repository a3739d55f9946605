"""Option schemas of the built-in templates (spec sections 2.2-2.5), one builder per option.

Plain Python, like catalogue.py. Patterns are matched against the whole value (re.fullmatch).
"""

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
        choices = ["32bit", "16bit", "8bit", "8bit-dynamic", "16x8", "8bit-mixed"]
        help_en = (
            "32bit converts without quantization and works with any model (default); 16bit stores "
            "float16 weights; 8bit is full-integer quantization calibrated on calibration_data/*.npy; "
            "8bit-dynamic quantizes only the weights and needs no calibration; 16x8 calibrates int16 "
            "activations with int8 weights; 8bit-mixed is 8bit that keeps the layers losing the most "
            "in float until verification passes."
        )
        help_zh = (
            "32bit 为不量化的直接转换，适用于任何模型（默认）；16bit 以 float16 保存权重；"
            "8bit 为全整型量化，需要 calibration_data/*.npy 校准数据；8bit-dynamic 只量化权重，无需校准；"
            "16x8 为 int16 激活、int8 权重的校准量化；8bit-mixed 在 8bit 基础上把损失最大的层保留为浮点，"
            "直到精度校验通过。"
        )
    else:
        choices = ["32bit", "16bit", "8bit", "8bit-mixed"]
        help_en = (
            "Engine precision: 32bit builds an FP32 engine and works with any model (default); 16bit "
            "builds FP16 (exponentials, softmax and long reductions stay FP32); 8bit builds INT8 "
            "calibrated on calibration_data/*.npy; 8bit-mixed is 8bit that keeps the layers losing "
            "the most in float until verification passes. Each is checked against the original "
            "before the engine is built."
        )
        help_zh = (
            "引擎精度：32bit 生成 FP32 引擎，适用于任何模型（默认）；16bit 生成 FP16 引擎（指数、softmax "
            "和长归约保持 FP32）；8bit 生成 INT8 引擎，需要 calibration_data/*.npy 校准数据；"
            "8bit-mixed 在 8bit 基础上把损失最大的层保留为浮点，直到精度校验通过。"
            "构建引擎前会先与原模型比对精度。"
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


def _batch_size(target="tflite"):
    if target == "tflite":
        help_en = (
            "Number of calibration samples fed per batch during 8-bit calibration; "
            "must be a positive integer and is ignored for other precisions."
        )
        help_zh = "8bit 量化校准时每批输入的样本数，须为正整数；其他量化精度下不使用。"
    else:
        help_en = (
            "The largest batch the engine takes when the model's batch dimension is dynamic "
            "(optimization profile: min 1, opt and max this value), and the 8-bit calibration batch."
        )
        help_zh = "模型 batch 维度为动态时引擎支持的最大 batch（优化配置：最小 1，最优和最大为此值），也是 8bit 校准的批大小。"
    return _option(
        "batch_size",
        "Batch Size",
        "量化批大小",
        "integer",
        help_en=help_en,
        help_zh=help_zh,
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


def input_shape(required):
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


def soc_version():
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


def group_a(target):
    return [
        _input_tensor_names(),
        _output_tensor_names(),
        _quantization_precision(target),
        _batch_size(target),
    ]


def group_b(target):
    return [_signature(), _tag(), _quantization_precision(target), _batch_size(target)]


def precision_and_batch(target):
    """The options every template of a target shares, for sources without tensor names."""
    return [_quantization_precision(target), _batch_size(target)]


def group_d(input_format_default="NHWC", l2dynamic=False):
    options = [
        input_shape(required=False),
        _input_format(input_format_default),
        _out_nodes(),
        _net_format(),
        _fp16_high_prec(),
        _output_type(),
    ]
    if l2dynamic:
        options.append(_enable_l2dynamic())
    options.append(soc_version())
    return options
