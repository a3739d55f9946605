"""Which queue a TensorRT task goes to (the target's queue rule). Plain Python: the web process runs it."""

from conversions.converters.tensorrt.probe import STANDARD

GPU_QUEUE = "gpu"


def queue_for(template_queue: str, options: dict) -> str:
    """Standard TensorRT times kernels on the GPU it builds for, so tasks that ask for it need a GPU
    worker; TensorRT-RTX builds ahead of time on any worker, so `auto` keeps the template's queue."""
    if options.get("engine_builder") == STANDARD:
        return GPU_QUEUE
    return template_queue
