"""Which queue a GPU-target task goes to. Plain Python: jobs.py calls it in the web process."""

from conversions.converters.tensorrt.probe import STANDARD

GPU_QUEUE = "gpu"


def queue_for(template_queue: str, converter: str, options: dict) -> str:
    """Standard TensorRT times kernels on the GPU it builds for, so tasks that ask for it need a GPU
    worker; TensorRT-RTX builds ahead of time on any worker, so `auto` keeps the template's queue."""
    if converter == "tensorrt" and options.get("engine_builder") == STANDARD:
        return GPU_QUEUE
    return template_queue
