"""Building the engine from the ONNX model: TensorRT-RTX or standard TensorRT, same Python API.

TensorRT-RTX builds ahead of time on a CPU for the compute capabilities it is given (SM75..SM121);
standard TensorRT times kernels on the GPU it runs on, so it builds only where there is one, for that
GPU. Both build strongly typed networks (precision comes from the ONNX, see precision.py). The
builder's own log is streamed into the task's log.
"""

import subprocess
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from conversions.converters.base import ConversionError, Events
from conversions.converters.tensorrt import probe
from conversions.converters.tensorrt.probe import INSTALL, RTX, STANDARD

AUTO = "auto"
CHOICES = (AUTO, RTX, STANDARD)
LABELS = {RTX: "TensorRT-RTX", STANDARD: "TensorRT"}
COMPUTE_CAPABILITIES = ("SM75", "SM80", "SM86", "SM89", "SM120", "SM121")
# Ampere to Blackwell: A100, A10/RTX 30, L4/RTX 40, RTX 50. Not SM75: TensorRT-RTX 1.7 cannot compile
# float32 matrix multiplications (Dense layers, in 32bit and around int8 Q/DQ) for Turing.
DEFAULT_CAPABILITIES = ("SM80", "SM86", "SM89", "SM120")
TURING_MARKER = "(SM75)"
WORKSPACE_MB = 1024


@dataclass
class Plan:
    """What to build: with which builder, for which GPUs, up to which batch."""

    builder: str
    capabilities: list[str] = field(default_factory=lambda: list(DEFAULT_CAPABILITIES))
    batch_size: int = 1
    workspace_mb: int = WORKSPACE_MB

    @property
    def label(self) -> str:
        return LABELS[self.builder]


def parse_capabilities(text: str | None) -> list[str]:
    """`SM75,SM86` -> ["SM75", "SM86"] in the catalogue's order; empty means the default set."""
    wanted = [p.strip().upper() for p in (text or "").split(",") if p.strip()]
    unknown = [c for c in wanted if c not in COMPUTE_CAPABILITIES]
    if unknown:
        raise ConversionError(
            f"Unknown compute capability {', '.join(unknown)}: choose from "
            f"{', '.join(COMPUTE_CAPABILITIES)} (TensorRT-RTX has no SM90: build for H100 with "
            "standard TensorRT on a GPU worker)."
        )
    return [c for c in COMPUTE_CAPABILITIES if c in wanted] or list(DEFAULT_CAPABILITIES)


def _missing(builder: str) -> str:
    if builder == RTX:
        return f"TensorRT-RTX is not installed on this worker. Install it: {INSTALL[RTX]}."
    return (
        f"Standard TensorRT is not installed on this worker. Install it: {INSTALL[STANDARD]}. "
        f"Or choose the engine builder tensorrt-rtx, which builds on any worker ({INSTALL[RTX]})."
    )


def choose(requested: str) -> str:
    """The builder to use for `requested` (auto / tensorrt-rtx / tensorrt), or a message saying what
    to install where."""
    if requested not in CHOICES:
        raise ConversionError(f"Unknown engine builder {requested}: choose {', '.join(CHOICES)}.")
    usable = probe.usable()
    if requested == AUTO:
        if usable:
            return usable[0]
        raise ConversionError(
            f"No TensorRT engine builder can run on this worker. Install TensorRT-RTX: {INSTALL[RTX]}; "
            f"or, on a GPU worker, standard TensorRT: {INSTALL[STANDARD]}."
        )
    if requested in usable:
        return requested
    if probe.builder_version(requested) is None:
        raise ConversionError(_missing(requested))
    if not probe.gpu_present():
        raise ConversionError(
            "Standard TensorRT needs an NVIDIA GPU to build an engine and this worker has none. Tasks "
            "that choose it go to the gpu queue: run a worker with WORKER_QUEUE=gpu on a GPU host, or "
            "choose the engine builder tensorrt-rtx."
        )
    raise ConversionError(
        f"Standard TensorRT's libraries are missing on this worker. Install them: {INSTALL[STANDARD]}."
    )


def load(builder: str):
    """Import the builder's module; an import that fails says what to install."""
    if builder == STANDARD:
        probe.restore_gpu_visibility()
    try:
        return import_module(probe.MODULES[builder])
    except ImportError as exc:
        raise ConversionError(f"{_missing(builder)} (import failed: {exc})") from None


def _logger(trt, events: Events, label: str):
    severities = trt.ILogger.Severity
    levels = {
        severities.INTERNAL_ERROR: "error",
        severities.ERROR: "error",
        severities.WARNING: "warning",
        severities.INFO: "info",
    }

    class ToEvents(trt.ILogger):
        """The builder's log lines, as the task's log lines (verbose ones are dropped)."""

        def __init__(self):
            trt.ILogger.__init__(self)
            self.errors: list[str] = []

        def log(self, severity, message):
            level = levels.get(severity)
            if level is None:
                return
            if level == "error":
                self.errors.append(message)
            events.log(f"[{label}] {message}", level=level)

    return ToEvents()


def _dtype(trt, dtype) -> str:
    try:
        return trt.nptype(dtype).__name__
    except (TypeError, KeyError):
        return str(dtype).rsplit(".", 1)[-1].lower()


def _binding(trt, tensor) -> dict:
    return {"name": tensor.name, "shape": list(tensor.shape), "dtype": _dtype(trt, tensor.dtype)}


def _profile(network, batch: int) -> dict:
    """min / opt / max for inputs whose batch dimension is dynamic; {} when every input is static."""
    shapes = {}
    for index in range(network.num_inputs):
        tensor = network.get_input(index)
        shape = list(tensor.shape)
        if -1 not in shape:
            continue
        if -1 in shape[1:] or not shape:
            raise ConversionError(
                f"Input {tensor.name} has dynamic dimensions other than the batch {shape}: export the "
                "model with fixed sizes except the first (batch) dimension."
            )
        rest = shape[1:]
        shapes[tensor.name] = {"min": [1, *rest], "opt": [batch, *rest], "max": [batch, *rest]}
    return shapes


def _gpu_capability() -> list[str]:
    """The compute capability of the GPU standard TensorRT builds on, as SMxy."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.split()
    except (OSError, subprocess.TimeoutExpired):
        return ["this machine's GPU"]
    return [f"SM{value.replace('.', '')}" for value in out[:1]] or ["this machine's GPU"]


def build(onnx_path: Path, engine_path: Path, plan: Plan, events: Events) -> dict:
    """Parse the ONNX, build and write the engine; the description config.json records."""
    trt = load(plan.builder)
    logger = _logger(trt, events, plan.label)
    events.log(f"Build the engine with {plan.label} {trt.__version__}")
    try:
        builder = trt.Builder(logger)
    except Exception as exc:  # standard TensorRT fails here without a usable GPU / driver
        raise ConversionError(
            f"{plan.label} could not start: {exc}. It needs an NVIDIA GPU with a working driver."
        ) from None
    flags = 1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED)
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_path)):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise ConversionError(
            f"The {plan.label} ONNX parser refused the model: {'; '.join(errors)[:1500]}"
        )
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, plan.workspace_mb << 20)
    if plan.builder == RTX:
        config.num_compute_capabilities = len(plan.capabilities)
        for index, name in enumerate(plan.capabilities):
            config.set_compute_capability(getattr(trt.ComputeCapability, name), index)
        capabilities = list(plan.capabilities)
    else:
        capabilities = _gpu_capability()
    shapes = _profile(network, plan.batch_size)
    if shapes:
        profile = builder.create_optimization_profile()
        for name, dims in shapes.items():
            profile.set_shape(name, dims["min"], dims["opt"], dims["max"])
            events.log(
                f"Optimization profile for {name}: min {dims['min']}, opt {dims['opt']}, max {dims['max']}"
            )
        config.add_optimization_profile(profile)
    events.log(f"Target compute capabilities: {', '.join(capabilities)}")
    started = time.monotonic()
    serialized = builder.build_serialized_network(network, config)
    seconds = time.monotonic() - started
    if serialized is None:
        detail = " ".join(logger.errors[-5:]) or "no reason given; see job_log.txt"
        hint = ""
        if TURING_MARKER in detail:
            hint = (
                " Turing GPUs (SM75) run only some operations this way: choose 16bit, or remove SM75 "
                "from the target GPUs."
            )
        raise ConversionError(f"{plan.label} could not build the engine: {detail[-1500:]}{hint}")
    engine_path.write_bytes(memoryview(serialized))
    return {
        "builder": plan.builder,
        "builder_version": trt.__version__,
        "compute_capabilities": capabilities,
        "inputs": [_binding(trt, network.get_input(i)) for i in range(network.num_inputs)],
        "outputs": [_binding(trt, network.get_output(i)) for i in range(network.num_outputs)],
        "optimization_profile": shapes or None,
        "workspace_mb": plan.workspace_mb,
        "build_seconds": round(seconds, 3),
    }
