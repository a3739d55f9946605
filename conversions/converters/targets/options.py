"""The options several targets share (spec sections 2.2-2.5), declared once by key.

Each is the TFLite form; a target that words one differently replaces it (dataclasses.replace) in its
own table. Patterns are matched against the whole value (re.fullmatch).
"""

from conversions.converters.targets.spec import Option

# Back-end limit on an advanced-option string (spec 2.5, error ModelArts.3060).
MAX_OPTION_LENGTH = 4000
# SignatureDef names and MetaGraph tags are short identifiers.
MAX_IDENTIFIER_LENGTH = 256

# A graph node / tensor name: letters, digits, "_", ".", "/", "-". It never
# contains the characters ModelArts.3060 forbids: ( | ) & $ ? < > nor Chinese.
NODE = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
# A positive dimension (no "?", no -1, no 0, no leading zeros).
DIM = r"[1-9][0-9]*"

# "input", "input:0", "in1:in2", "in1:0:in2:0". The spec joins several names
# with ":", which is also TF's output-index separator, so the pattern just
# accepts ":"-separated name/index segments and the converter resolves them.
TENSOR_NAMES_PATTERN = rf"{NODE}(?::{NODE})*"
# A SignatureDef key such as "serving_default".
SIGNATURE_PATTERN = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*"
# One tag ("serve") or a comma-separated tag set ("serve,gpu").
TAG_PATTERN = r"[A-Za-z0-9_.][A-Za-z0-9_./-]*(?:,[A-Za-z0-9_.][A-Za-z0-9_./-]*)*"
# Layer names as TFLite writes them ("model/conv/Relu;model/conv/BiasAdd") or fnmatch patterns with
# "*" and "[...]", joined by ",". "?" is left out: the spec forbids it in option values (3060).
KEEP_FLOAT_PATTERN = r"[A-Za-z0-9_.;:/*\[\]!-]+(?: *, *[A-Za-z0-9_.;:/*\[\]!-]+)*"
ACCURACY_TOLERANCE_PATTERN = r"[0-9]{1,2}(\.[0-9]{1,3})?|100"

INPUT_TENSOR_NAMES = Option(
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

OUTPUT_TENSOR_NAMES = Option(
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

SIGNATURE = Option(
    "signature",
    "Model Signature",
    "模型签名",
    "string",
    help_en="SignatureDef of the SavedModel to convert (e.g. serving_default); leave empty to use the first signature.",
    help_zh="要转换的 SavedModel 签名（如 serving_default）；留空则使用第一个签名。",
    pattern=SIGNATURE_PATTERN,
    max_length=MAX_IDENTIFIER_LENGTH,
)

TAG = Option(
    "tag",
    "Model Input Label",
    "传入模型标签",
    "string",
    help_en="Tag set of the MetaGraph to load (e.g. serve, or serve,gpu); leave empty to use the first tag.",
    help_zh="要加载的 MetaGraph 标签（如 serve，多个标签用逗号分隔）；留空则使用第一个标签。",
    pattern=TAG_PATTERN,
    max_length=MAX_IDENTIFIER_LENGTH,
)

QUANTIZATION_PRECISION = Option(
    "quantization_precision",
    "Quantization Precision",
    "量化精度",
    "choice",
    help_en=(
        "32bit converts without quantization and works with any model (default); 16bit stores "
        "float16 weights; 8bit is full-integer quantization calibrated on calibration_data/*.npy; "
        "8bit-dynamic quantizes only the weights and needs no calibration; 16x8 calibrates int16 "
        "activations with int8 weights; 8bit-mixed is 8bit that keeps the layers losing the most "
        "in float until verification passes."
    ),
    help_zh=(
        "32bit 为不量化的直接转换，适用于任何模型（默认）；16bit 以 float16 保存权重；"
        "8bit 为全整型量化，需要 calibration_data/*.npy 校准数据；8bit-dynamic 只量化权重，无需校准；"
        "16x8 为 int16 激活、int8 权重的校准量化；8bit-mixed 在 8bit 基础上把损失最大的层保留为浮点，"
        "直到精度校验通过。"
    ),
    choices=("32bit", "16bit", "8bit", "8bit-dynamic", "16x8", "8bit-mixed"),
    default="32bit",
    required=True,
)

BATCH_SIZE = Option(
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

KEEP_FLOAT_LAYERS = Option(
    "keep_float_layers",
    "Layers Kept in Float",
    "保留浮点的层",
    "string",
    help_en=(
        "With 8bit or 8bit-mixed: layers to leave in float, as comma-separated names or patterns "
        "with * (e.g. *block_16_*,*logits*). The report of an 8bit conversion lists the layers that "
        "lose the most to quantization under these names."
    ),
    help_zh=(
        "8bit 或 8bit-mixed 时保留为浮点计算的层：以逗号分隔的层名或含 * 的模式（如 "
        "*block_16_*,*logits*）。8bit 转换报告按这些名称列出量化损失最大的层。"
    ),
    pattern=KEEP_FLOAT_PATTERN,
    max_length=MAX_OPTION_LENGTH,
)

ACCURACY_TOLERANCE = Option(
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


# Spec group A (frozen_graph) and group B (saved_model) of the TFLite and TensorRT templates, then
# what every verified template takes after them.
GROUP_A = ("input_tensor_names", "output_tensor_names", "quantization_precision", "batch_size")
GROUP_B = ("signature", "tag", "quantization_precision", "batch_size")
PRECISION = ("quantization_precision", "batch_size")
VERIFIED = ("accuracy_tolerance",)
