"""Description fragments several targets' templates share: input folders (spec 3.1) and outputs."""

# Input-folder summaries (spec 3.1), reused in the descriptions.
IN_FROZEN_ARM_EN = "a model/ folder holding one frozen_graph .pb plus a calibration_data/ folder of pre-processed .npy inputs"
IN_FROZEN_ARM_ZH = "model/ 目录（仅含一个 frozen_graph .pb 文件）和 calibration_data/ 目录（预处理好的 .npy 输入数据）"
IN_SAVED_ARM_EN = "a model/ folder holding saved_model.pb and variables/ plus a calibration_data/ folder of pre-processed .npy inputs"
IN_SAVED_ARM_ZH = "model/ 目录（含 saved_model.pb 和 variables/）和 calibration_data/ 目录（预处理好的 .npy 输入数据）"
IN_FROZEN_ASC_EN = "a folder with one frozen_graph .pb, an optional insert_op_conf.cfg and an optional plugin/ folder of custom operators"
IN_FROZEN_ASC_ZH = (
    "一个 frozen_graph .pb 文件，可选 insert_op_conf.cfg 和可选的自定义算子目录 plugin/"
)
IN_SAVED_ASC_EN = (
    "a folder with saved_model.pb and variables/ (variables.index, variables.data-*), "
    "an optional insert_op_conf.cfg and an optional plugin/ folder of custom operators"
)
IN_SAVED_ASC_ZH = "saved_model.pb 与 variables/ 目录（variables.index、variables.data-*），可选 insert_op_conf.cfg 和可选的自定义算子目录 plugin/"

OUT_TFLITE_EN = "Produces model/<name>.tflite and model/config.json for ARM devices."
OUT_TFLITE_ZH = "输出 model/<name>.tflite 和 model/config.json，用于 ARM 设备。"
OUT_TRT_EN = (
    "Converts the graph to ONNX and builds a real TensorRT engine for NVIDIA GPUs: model/<name>.engine and "
    "model/<name>.onnx (the original ModelArts template produced a TensorRT-optimised .pb)."
)
OUT_TRT_ZH = (
    "先将模型转为 ONNX，再为 NVIDIA GPU 构建真正的 TensorRT 引擎，输出 model/<name>.engine 和 model/<name>.onnx"
    "（原 ModelArts 模板输出的是经 TensorRT 优化的 .pb）。"
)


IN_CAFFE_EN = (
    "a model/ folder holding one deploy .prototxt and one .caffemodel (layers: Convolution, "
    "Deconvolution, InnerProduct, Pooling, BatchNorm, Scale, Bias, ReLU, PReLU, ELU, Sigmoid, TanH, "
    "AbsVal, Power, Dropout, Softmax, Eltwise, Concat, Split, Slice, Flatten, Reshape, Crop, "
    "Permute, LRN)"
)
IN_CAFFE_ZH = (
    "model/ 目录（含一个部署用 .prototxt 和一个 .caffemodel；支持的层：Convolution、Deconvolution、"
    "InnerProduct、Pooling、BatchNorm、Scale、Bias、ReLU、PReLU、ELU、Sigmoid、TanH、AbsVal、Power、"
    "Dropout、Softmax、Eltwise、Concat、Split、Slice、Flatten、Reshape、Crop、Permute、LRN）"
)
VERIFIED_CAFFE_EN = "Verified against a NumPy reference run of the original Caffe model."
VERIFIED_CAFFE_ZH = "以原 Caffe 模型的 NumPy 参考推理结果进行校验。"
