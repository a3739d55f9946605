"""Options of the Caffe templates beyond the spec (issue 18), kept apart from catalogue_options.py so
that file stays small."""

from templates_registry.catalogue_options import _option

SSD_DETECTION_OUTPUT = ["refuse", "rewrite", "keep"]


def ssd_detection_output():
    return _option(
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
        choices=SSD_DETECTION_OUTPUT,
        default="refuse",
    )
