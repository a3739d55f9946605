"""What this machine can convert: one probe per converter key, Django-free and cheap to call.

A probe never imports a heavy toolkit into the caller: it looks for the package or executable and reads
its version without loading it (importlib.metadata, `shutil.which`). The worker reports the result of
`probe_all()` with its heartbeat, so the console can say which templates a live worker can run.

Each probe returns a Capability. A target names its probe in its spec (converters/targets/).
"""

from dataclasses import asdict, dataclass, field
from importlib import metadata

from conversions.converters.ascend.command import atc_version, find_atc, missing_message
from conversions.converters.targets import TARGETS, load


@dataclass
class Capability:
    available: bool
    tools: dict[str, str] = field(default_factory=dict)  # tool name -> version
    reason: str = ""  # when not available: what is missing and how to install it

    def as_dict(self) -> dict:
        return asdict(self)


def package_version(distribution: str) -> str | None:
    """The installed version of a Python distribution, or None; never imports it."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def probe_tflite() -> Capability:
    version = package_version("tensorflow") or package_version("tensorflow-cpu")
    if version is None:
        return Capability(
            False, reason="TensorFlow is not installed on this worker (pip install tensorflow)."
        )
    return Capability(True, {"tensorflow": version})


def probe_tensorrt() -> Capability:
    from conversions.converters.tensorrt import probe

    return Capability(*probe.summary())


def probe_onnx() -> Capability:
    """Caffe to ONNX builds with onnx and verifies in ONNX Runtime."""
    tools = {name: package_version(name) for name in ("onnx", "onnxruntime")}
    missing = [name for name, version in tools.items() if version is None]
    if missing:
        return Capability(
            False,
            reason=f"{' and '.join(missing)} not installed on this worker (pip install "
            f"{' '.join(missing)}).",
        )
    return Capability(True, tools)


def probe_ascend() -> Capability:
    """ATC from ATC_PATH or PATH; its version from the toolkit's version.info (atc is not run)."""
    atc = find_atc()
    if atc is None:
        return Capability(False, reason=missing_message())
    return Capability(True, {"atc": atc_version(atc)})


def probe_all() -> dict[str, dict]:
    """Every registered target's probe answer, keyed by converter key (JSON-ready)."""
    answers = {}
    for key, target in TARGETS.items():
        try:
            answers[key] = load(target.probe)().as_dict()
        except Exception as exc:  # a broken probe must not take the worker down
            answers[key] = Capability(False, reason=f"probe failed: {exc}").as_dict()
    return answers
