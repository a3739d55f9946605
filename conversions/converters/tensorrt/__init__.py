"""NVIDIA GPU engines: a TensorFlow or ONNX model -> ONNX -> precision -> TensorRT engine.

- export.py: TensorFlow (frozen graph, or SavedModel frozen first) to ONNX with tf2onnx
- onnxsource.py: reading and auditing a user's ONNX model (the onnx-to-tensorrt template)
- precision.py: 32bit / 16bit / 8bit variants of the ONNX, run in ONNX Runtime for verification
- layers.py: per-layer int8 error of a Q/DQ ONNX and the float shares (8bit, 8bit-mixed)
- builders.py: building the engine with TensorRT-RTX (ahead of time, on a CPU) or standard TensorRT (GPU)
- converter.py: the converter class that ties them together and writes config.json
- probe.py, routing.py: cheap answers for the worker and the web process (which builders, which queue)

The target's spec is converters/targets/tensorrt.py. This package's __init__ imports nothing: the
spec, the worker and the web process import probe.py, routing.py and builders.py (its constants), and
must never load TensorFlow, ONNX, ONNX Runtime or TensorRT.
"""
