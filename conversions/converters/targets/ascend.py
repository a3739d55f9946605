"""The Ascend target: Caffe, TensorFlow and ONNX models to .om files with ATC (spec groups C and D)."""

from dataclasses import replace

from conversions.converters.targets import register, texts
from conversions.converters.targets.options import DIM, MAX_OPTION_LENGTH, NODE
from conversions.converters.targets.spec import Option, Target, Template, table

# "images:1,224,224,3" or "a:1,3,8,8;b:1,10".
INPUT_SHAPE_PATTERN = rf"{NODE}:{DIM}(?:,{DIM})*(?:;{NODE}:{DIM}(?:,{DIM})*)*"
# "logits:0" or "node1:0;node1:1;node2:0".
OUT_NODES_PATTERN = rf"{NODE}:[0-9]+(?:;{NODE}:[0-9]+)*"
SOC_VERSIONS = ("Ascend310", "Ascend310P3", "Ascend310B1", "Ascend910", "Ascend910B")

INPUT_SHAPE = Option(
    "input_shape",
    "Input Tensor Shape",
    "输入张量形状",
    "string",
    help_en=(
        "Input shapes as name1:n,c,h,w;name2:n,c,h,w (e.g. images:1,224,224,3); needed when an input is "
        "dynamic, where each '?' must be replaced by a number and the batch must be 1. The detected inputs "
        "are printed in the log."
    ),
    help_zh=(
        "输入形状，格式为 name1:n,c,h,w;name2:n,c,h,w（如 images:1,224,224,3）；模型有动态输入时必填，"
        "“?”须替换为具体数值，batch 必须为 1。检测到的输入会打印在日志中。"
    ),
    pattern=INPUT_SHAPE_PATTERN,
    max_length=MAX_OPTION_LENGTH,
)

INPUT_FORMAT = Option(
    "input_format",
    "Input Data Format",
    "输入数据格式",
    "choice",
    help_en=(
        "Layout of the model's input data. TensorFlow models are usually NHWC; choose NCHW when the "
        "model really is NCHW (ONNX models normally are)."
    ),
    help_zh="模型输入数据的排布格式。TensorFlow 模型通常为 NHWC，模型确为 NCHW 时选择 NCHW（ONNX 模型一般为 NCHW）。",
    choices=("NCHW", "NHWC"),
    default="NHWC",
)

OUT_NODES = Option(
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

NET_FORMAT = Option(
    "net_format",
    "Preferred Data Format",
    "优选数据格式",
    "choice",
    help_en=(
        "Preferred layout for operators that accept both: ND (N <= 4, generic layout) or 5D "
        "(Huawei's 5-D layout). Has no effect on other operators."
    ),
    help_zh="对同时支持两种格式的算子指定优选格式：ND（N≤4，通用格式）或 5D（华为 5 维格式）；对其他算子不生效。",
    choices=("ND", "5D"),
    default="5D",
)

FP16_HIGH_PREC = Option(
    "fp16_high_prec",
    "Generate High-Precision Model",
    "生成高精度模型",
    "choice",
    help_en=(
        "0 builds a normal FP16 model (faster); 1 builds a high-precision FP16 model (more accurate), "
        "which only affects convolution, pooling and fully connected operators."
    ),
    help_zh="0 生成普通 FP16 模型（推理更快）；1 生成高精度 FP16 模型（精度更高），高精度仅作用于卷积、池化和全连接类算子。",
    choices=("0", "1"),
    default="0",
)

OUTPUT_TYPE = Option(
    "output_type",
    "Network Output Data Type",
    "网络输出数据类型",
    "choice",
    help_en="Data type of the network outputs: FP32 is recommended for classification and detection, UINT8 for image super-resolution.",
    help_zh="网络输出的数据类型：分类和检测网络推荐 FP32，图像超分辨率网络推荐 UINT8。",
    choices=("FP32", "UINT8"),
    default="FP32",
)

ENABLE_L2DYNAMIC = Option(
    "enable_l2dynamic",
    "L2 Dynamic Optimization",
    "L2动态优化",
    "choice",
    help_en="Turns L2 dynamic optimization on or off; switch it off to check whether it is hurting performance.",
    help_zh="L2 动态优化开关；可关闭以验证该优化是否影响性能。",
    choices=("true", "false"),
    default="true",
)

SOC_VERSION = Option(
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

SSD_DETECTION_OUTPUT = Option(
    "ssd_detection_output",
    "SSD DetectionOutput",
    "SSD DetectionOutput 层",
    "choice",
    help_en=(
        "ATC takes SSD's DetectionOutput layer only as Ascend's SSDDetectionOutput. refuse: "
        "stop before ATC and say what to change; rewrite: convert a copy of the .prototxt "
        "with the layer rewritten (parameters mapped, a box-count output added); keep: pass it "
        "unchanged, for a custom operator in plugin/."
    ),
    help_zh=(
        "ATC 仅以昇腾的 SSDDetectionOutput 形式接受 SSD 的 DetectionOutput 层。refuse：在运行 ATC "
        "前停止并说明需要修改的内容；rewrite：改写 .prototxt 的副本（映射参数并增加框数量输出）后"
        "转换；keep：原样传给 ATC，适用于 plugin/ 中提供了该层自定义算子的情况。"
    ),
    choices=("refuse", "rewrite", "keep"),
    default="refuse",
)

OPTIONS = table(
    INPUT_SHAPE,
    INPUT_FORMAT,
    OUT_NODES,
    NET_FORMAT,
    FP16_HIGH_PREC,
    OUTPUT_TYPE,
    ENABLE_L2DYNAMIC,
    SOC_VERSION,
    SSD_DETECTION_OUTPUT,  # Caffe only: see ascend/caffe_ssd.py
)
# tensorflow-frozen-graph-to-ascend (spec group C) needs the shape, with a batch of 1.
INPUT_SHAPE_REQUIRED = replace(
    INPUT_SHAPE,
    required=True,
    help_en=(
        "Static shape of the input, name:N,H,W,C in NHWC order (e.g. images:1,224,224,3); the name must "
        "be a node of the original graph, a dynamic '?' must be replaced by a number, and the batch must be 1."
    ),
    help_zh=(
        "输入的静态形状，格式为 name:N,H,W,C（NHWC 顺序，如 images:1,224,224,3）；name 须为原图中的节点，"
        "动态维度“?”须替换为具体数值，batch 必须为 1。"
    ),
)
# ONNX models are normally NCHW.
INPUT_FORMAT_NCHW = replace(INPUT_FORMAT, default="NCHW")

ASCEND = register(
    Target(
        key="ascend",
        chip="ascend",
        output_format="om",
        converter="conversions.converters.ascend.converter.AscendConverter",
        probe="conversions.converters.capabilities.probe_ascend",
        layout="model/<name>.om",
        options=OPTIONS,
        # ATC takes longer than a TFLite conversion of the same model.
        limits={"timeout_seconds": 1800},
        templates=(
            Template(
                "caffe-to-ascend",
                "Caffe to Ascend",
                "Caffe转Ascend",
                (
                    "Converts a Caffe model (one .caffemodel and one .prototxt, with optional insert_op_conf.cfg and "
                    "plugin/ of TE custom operators) into an Ascend <name>.om."
                ),
                "将 Caffe 模型（一个 .caffemodel 和一个 .prototxt，可选 insert_op_conf.cfg 及 TE 自定义算子目录 plugin/）转换为昇腾 <name>.om 模型。",
                "caffe",
                "caffemodel",
                options=("soc_version", "ssd_detection_output"),
                position=1,
            ),
            Template(
                "tensorflow-frozen-graph-to-ascend",
                "TensorFlow frozen_graph to Ascend",
                "Tensorflow frozen graph 转 Ascend",
                (
                    f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ASC_EN}) into an Ascend <name>.om. "
                    "The input shape must be given, with a batch of 1."
                ),
                f"将 TensorFlow frozen_graph 模型（{texts.IN_FROZEN_ASC_ZH}）转换为昇腾 <name>.om 模型，须指定输入张量形状且 batch 为 1。",
                "tensorflow",
                "frozen_graph",
                options=("input_shape", "soc_version"),
                overrides=(INPUT_SHAPE_REQUIRED,),
                position=10,
            ),
            Template(
                "tf-frozengraph-to-ascend",
                "TF-FrozenGraph-To-Ascend",
                "TF-FrozenGraph-To-Ascend",
                (
                    f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ASC_EN}, TE operators) into an Ascend <name>.om. "
                    "Recommended for HiLens Kit firmware older than 2.2.200.011."
                ),
                f"将 TensorFlow frozen_graph 模型（{texts.IN_FROZEN_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。HiLens Kit 固件低于 2.2.200.011 时推荐使用。",
                "tensorflow",
                "frozen_graph",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "soc_version",
                ),
                position=11,
            ),
            Template(
                "tf-savedmodel-to-ascend",
                "TF-SavedModel-To-Ascend",
                "TF-SavedModel-To-Ascend",
                (
                    f"Converts a TensorFlow SavedModel ({texts.IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om. "
                    "Recommended for HiLens Kit firmware older than 2.2.200.011."
                ),
                f"将 TensorFlow saved_model 模型（{texts.IN_SAVED_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。HiLens Kit 固件低于 2.2.200.011 时推荐使用。",
                "tensorflow",
                "saved_model",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "soc_version",
                ),
                position=12,
            ),
            Template(
                "onnx-to-ascend-tbe",
                "Onnx-To-Ascend-TBE",
                "Onnx-To-Ascend-TBE",
                (
                    "Converts an ONNX model (a folder with one .onnx file, an optional insert_op_conf.cfg and an optional "
                    "plugin/ folder of TBE custom operators; opset 9 or later) into an Ascend <name>.om."
                ),
                "将 ONNX 模型（一个 .onnx 文件，可选 insert_op_conf.cfg 和 TBE 自定义算子目录 plugin/；opset 需不低于 9）转换为昇腾 <name>.om 模型。",
                "onnx",
                "onnx",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "soc_version",
                ),
                overrides=(INPUT_FORMAT_NCHW,),
                position=13,
            ),
            Template(
                "tf-frozengraph-to-ascend-c32",
                "TF-FrozenGraph-To-Ascend-C32",
                "TF-FrozenGraph-To-Ascend-C32",
                (
                    f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ASC_EN}, TBE operators) into an Ascend <name>.om "
                    "with the C32 toolchain settings, including L2 dynamic optimization. Recommended for Ascend 310."
                ),
                f"使用 C32 工具链配置（含 L2 动态优化）将 TensorFlow frozen_graph 模型（{texts.IN_FROZEN_ASC_ZH}，支持 TBE 算子）转换为昇腾 <name>.om 模型。Ascend 310 推荐使用。",
                "tensorflow",
                "frozen_graph",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "enable_l2dynamic",
                    "soc_version",
                ),
                position=14,
            ),
            Template(
                "tf-savedmodel-to-ascend-c32",
                "TF-SavedModel-To-Ascend-C32",
                "TF-SavedModel-To-Ascend-C32",
                (
                    f"Converts a TensorFlow SavedModel ({texts.IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om "
                    "with the C32 toolchain settings, including L2 dynamic optimization. Recommended for Ascend 310."
                ),
                f"使用 C32 工具链配置（含 L2 动态优化）将 TensorFlow saved_model 模型（{texts.IN_SAVED_ASC_ZH}，支持 TE 算子）转换为昇腾 <name>.om 模型。Ascend 310 推荐使用。",
                "tensorflow",
                "saved_model",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "enable_l2dynamic",
                    "soc_version",
                ),
                position=15,
            ),
            Template(
                "tf-frozengraph-to-ascend-hilens",
                "TF-FrozenGraph-To-Ascend-HiLens",
                "TF-FrozenGraph-To-Ascend-HiLens",
                (
                    f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ASC_EN}, TE operators) into an Ascend <name>.om "
                    "that runs on HiLens Kit. Recommended for HiLens Kit firmware 2.2.200.011 or for debugging in HiLens Studio."
                ),
                f"将 TensorFlow frozen_graph 模型（{texts.IN_FROZEN_ASC_ZH}，支持 TE 算子）转换为可在 HiLens Kit 上运行的昇腾 <name>.om 模型。HiLens Kit 固件为 2.2.200.011 或在 HiLens Studio 中调试时推荐使用。",
                "tensorflow",
                "frozen_graph",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "soc_version",
                ),
                position=16,
            ),
            Template(
                "tf-savedmodel-to-ascend-hilens",
                "TF-SavedModel-To-Ascend-HiLens",
                "TF-SavedModel-To-Ascend-HiLens",
                (
                    f"Converts a TensorFlow SavedModel ({texts.IN_SAVED_ASC_EN}, TE operators) into an Ascend <name>.om "
                    "that runs on HiLens Kit. Recommended for HiLens Kit firmware 2.2.200.011 or for debugging in HiLens Studio."
                ),
                f"将 TensorFlow saved_model 模型（{texts.IN_SAVED_ASC_ZH}，支持 TE 算子）转换为可在 HiLens Kit 上运行的昇腾 <name>.om 模型。HiLens Kit 固件为 2.2.200.011 或在 HiLens Studio 中调试时推荐使用。",
                "tensorflow",
                "saved_model",
                options=(
                    "input_shape",
                    "input_format",
                    "out_nodes",
                    "net_format",
                    "fp16_high_prec",
                    "output_type",
                    "soc_version",
                ),
                position=17,
            ),
        ),
    )
)
