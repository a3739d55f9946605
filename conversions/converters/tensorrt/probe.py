"""Which engine builders this machine has, read without importing them (the TensorRT target's probe)."""

import ctypes.util
import importlib.util
import os
import re
import shutil
from importlib import metadata
from pathlib import Path

RTX = "tensorrt-rtx"
STANDARD = "tensorrt"
BUILDERS = (RTX, STANDARD)
MODULES = {RTX: "tensorrt_rtx", STANDARD: "tensorrt"}
# pip installs the bindings under a CUDA-specific distribution next to the meta package.
DISTRIBUTIONS = {
    RTX: ("tensorrt-rtx", "tensorrt_rtx_cu13", "tensorrt_rtx_cu12"),
    STANDARD: ("tensorrt", "tensorrt_cu13", "tensorrt_cu12", "tensorrt_bindings"),
}
INSTALL = {
    RTX: "pip install tensorrt-rtx (from PyPI; it builds engines on any worker, no GPU needed)",
    STANDARD: (
        "pip install tensorrt --extra-index-url https://pypi.nvidia.com on a worker with an NVIDIA GPU "
        "and driver (its libraries come from NVIDIA's index, not PyPI; see README, 'GPU workers')"
    ),
}
DRIVER_VERSION_FILE = Path("/proc/driver/nvidia/version")


def builder_version(builder: str) -> str | None:
    """The installed version of a builder's Python bindings, or None when they cannot be imported."""
    if importlib.util.find_spec(MODULES[builder]) is None:
        return None
    for distribution in DISTRIBUTIONS[builder]:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


def standard_libraries_present() -> bool:
    """Standard TensorRT's native libraries: NVIDIA's wheel (tensorrt_libs) or a system install."""
    return (
        importlib.util.find_spec("tensorrt_libs") is not None
        or ctypes.util.find_library("nvinfer") is not None
    )


def gpu_present() -> bool:
    """An NVIDIA GPU and driver on this machine (device node or nvidia-smi); no CUDA call is made."""
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None


def driver_version() -> str | None:
    try:
        text = DRIVER_VERSION_FILE.read_text()
    except OSError:
        return None
    # the first word like 550.54.14: ASCII digits only ([0-9], not \d or isdigit(), which take "²")
    version = re.search(r"(?<!\S)[0-9]+(?:\.[0-9]+)+(?!\S)", text)
    return version.group() if version else "unknown"


def installed() -> dict[str, str]:
    """Builders whose bindings are installed, with their versions."""
    found = {}
    for builder in BUILDERS:
        version = builder_version(builder)
        if version is not None:
            found[builder] = version
    return found


def usable() -> list[str]:
    """Builders that can build an engine on this machine, in the order `auto` tries them."""
    found = installed()
    builders = [RTX] if RTX in found else []
    if STANDARD in found and standard_libraries_present() and gpu_present():
        builders.append(STANDARD)
    return builders


def summary() -> tuple[bool, dict[str, str], str]:
    """(can build here, tools and versions, what is missing) for capabilities.probe_tensorrt."""
    tools = installed()
    driver = driver_version()
    if driver:
        tools["nvidia-driver"] = driver
    if usable():
        return True, tools, ""
    if STANDARD in tools:
        reason = (
            "Standard TensorRT is installed but cannot build here: it needs an NVIDIA GPU and its "
            f"libraries. For CPU workers: {INSTALL[RTX]}."
        )
    else:
        reason = (
            f"No TensorRT engine builder on this worker. {INSTALL[RTX]}; or {INSTALL[STANDARD]}."
        )
    return False, tools, reason


def restore_gpu_visibility() -> None:
    """Give standard TensorRT the GPUs the worker itself may use (the child starts with none)."""
    visible = os.environ.pop("WORKER_CUDA_VISIBLE_DEVICES", None)
    if visible is None:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
    else:
        os.environ["CUDA_VISIBLE_DEVICES"] = visible


def engine_check() -> dict:
    """report.json's word on the engine itself: parity is judged on the ONNX model it was built from."""
    if gpu_present():
        reason = (
            "The engine itself is not run by this version: its parity is that of the ONNX model it "
            "was built from."
        )
    else:
        reason = (
            "The engine itself is not run here: loading an engine needs an NVIDIA GPU with CUDA and "
            "this worker has none. Its parity is that of the ONNX model it was built from."
        )
    return {"ran": False, "reason": reason}
