"""Caffe models for targets other than Ascend: Caffe to ONNX (onnx_export, onnx_layers) for ONNX and
TensorRT, Caffe to a frozen TensorFlow graph (tf_layers) for TFLite, and the NumPy reference run of
the original (ascend.caffe_numpy) that every conversion of a Caffe model is verified against."""
