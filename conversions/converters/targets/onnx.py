"""The ONNX target: Caffe models to ONNX (opset 13, float32) for GPU runtimes (issue 18)."""

from conversions.converters.targets import register, texts
from conversions.converters.targets.spec import Target, Template

ONNX = register(
    Target(
        key="onnx",
        chip="gpu",
        output_format="onnx",
        converter="conversions.converters.caffe.converter.CaffeONNXConverter",
        probe="conversions.converters.capabilities.probe_onnx",
        layout="model/<name>.onnx",
        templates=(
            Template(
                "caffe-to-onnx",
                "Caffe to ONNX",
                "Caffe转ONNX",
                (
                    f"Converts a Caffe model ({texts.IN_CAFFE_EN}) to ONNX (opset 13, float32) for TensorRT, "
                    f"ONNX Runtime and other ONNX runtimes: model/<name>.onnx. {texts.VERIFIED_CAFFE_EN}"
                ),
                (
                    f"将 Caffe 模型（{texts.IN_CAFFE_ZH}）转换为 ONNX（opset 13，float32），供 TensorRT、ONNX "
                    f"Runtime 等推理框架使用，输出 model/<name>.onnx。{texts.VERIFIED_CAFFE_ZH}"
                ),
                "caffe",
                "caffemodel",
                options=(),
                position=9,
            ),
        ),
    )
)
