"""The TFLite target: TensorFlow and Caffe models to TFLite for ARM devices."""

from conversions.converters.targets import options, register, texts
from conversions.converters.targets.spec import Target, Template, table

OPTIONS = table(
    options.INPUT_TENSOR_NAMES,
    options.OUTPUT_TENSOR_NAMES,
    options.SIGNATURE,
    options.TAG,
    options.QUANTIZATION_PRECISION,
    options.BATCH_SIZE,
    options.KEEP_FLOAT_LAYERS,
    options.ACCURACY_TOLERANCE,
)

TFLITE = register(
    Target(
        key="tflite",
        chip="arm",
        output_format="tflite",
        converter="conversions.converters.tflite.TFLiteConverter",
        probe="conversions.converters.capabilities.probe_tflite",
        layout="model/<name>.tflite and model/config.json",
        options=OPTIONS,
        templates=(
            Template(
                "caffe-to-tflite",
                "Caffe to TFLite",
                "Caffe转TFLite",
                (
                    f"Converts a Caffe model ({texts.IN_CAFFE_EN}, plus a calibration_data/ folder of "
                    f"pre-processed .npy inputs for the calibrated precisions) to TFLite; the model keeps "
                    f"Caffe's N x C x H x W inputs. {texts.OUT_TFLITE_EN} {texts.VERIFIED_CAFFE_EN}"
                ),
                (
                    f"将 Caffe 模型（{texts.IN_CAFFE_ZH}；需校准的精度另需 calibration_data/ 目录的预处理 .npy 输入"
                    f"数据）转换为 TFLite，模型保持 Caffe 的 N x C x H x W 输入布局。{texts.OUT_TFLITE_ZH}"
                    f"{texts.VERIFIED_CAFFE_ZH}"
                ),
                "caffe",
                "caffemodel",
                options=(
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "accuracy_tolerance",
                ),
                position=7,
            ),
            Template(
                "tensorflow-frozen-graph-to-tflite",
                "TensorFlow frozen_graph to TFLite",
                "Tensorflow frozen_graph转TFLite",
                f"Converts a TensorFlow frozen graph ({texts.IN_FROZEN_ARM_EN}) to TFLite. {texts.OUT_TFLITE_EN}",
                f"将 TensorFlow frozen_graph 模型（输入：{texts.IN_FROZEN_ARM_ZH}）转换为 TFLite。{texts.OUT_TFLITE_ZH}",
                "tensorflow",
                "frozen_graph",
                options=(
                    "input_tensor_names",
                    "output_tensor_names",
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "accuracy_tolerance",
                ),
                position=2,
            ),
            Template(
                "tensorflow-saved-model-to-tflite",
                "TensorFlow saved_model to TFLite",
                "Tensorflow saved_model转TFLite",
                f"Converts a TensorFlow SavedModel ({texts.IN_SAVED_ARM_EN}) to TFLite. {texts.OUT_TFLITE_EN}",
                f"将 TensorFlow saved_model 模型（输入：{texts.IN_SAVED_ARM_ZH}）转换为 TFLite。{texts.OUT_TFLITE_ZH}",
                "tensorflow",
                "saved_model",
                options=(
                    "signature",
                    "tag",
                    "quantization_precision",
                    "batch_size",
                    "keep_float_layers",
                    "accuracy_tolerance",
                ),
                position=3,
            ),
        ),
    )
)
