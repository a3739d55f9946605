"""The Ascend target: Caffe, TensorFlow and ONNX models to .om files with Huawei's ATC.

converter.py drives it. caffe_fields.py and caffe_schema.py describe Caffe's format, caffe.py checks
Caffe models, preflight.py checks TensorFlow and ONNX models, shapes.py holds the input-shape rules,
command.py builds ATC's argument list and finds the tool, runner.py runs it.
"""
