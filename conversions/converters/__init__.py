"""Converters: a Django-free library that turns a staged model folder into a deployable artifact.

Each target is one small class in one module. The registry maps converter keys to dotted paths and
imports on first use, so TensorFlow and friends load only in the child process that runs them.
"""

from importlib import import_module

CONVERTERS = {
    "tflite": "conversions.converters.tflite.TFLiteConverter",
    "tensorrt": "conversions.converters.tensorrt.converter.TensorRTConverter",
    "ascend": "conversions.converters.ascend.converter.AscendConverter",
    "onnx": "conversions.converters.caffe.converter.CaffeONNXConverter",
}


def get_converter(key: str):
    """An instance of the converter registered under `key`; KeyError for an unknown key."""
    module_name, _, class_name = CONVERTERS[key].rpartition(".")
    return getattr(import_module(module_name), class_name)()
