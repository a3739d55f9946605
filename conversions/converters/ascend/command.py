"""ATC's command line (spec section 7.1), built as an argument list and checked flag by flag.

Every argument is one `--flag=value` item of the list handed to the executable (never a shell), and
every value is checked against the grammar of the flag it belongs to, so no value can carry a second
flag, a shell metacharacter or a newline into ATC.
"""

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from conversions.converters.ascend.shapes import INPUT_SHAPE_RE, NAME
from conversions.converters.base import ConversionError
from conversions.converters.targets.ascend import ASCEND

ATC_MISSING = (
    "ATC not found: install the CANN toolkit on this worker and set ATC_PATH or put atc on PATH"
)
# ATC's --framework codes for the model formats of the templates.
FRAMEWORKS = {"caffemodel": 0, "frozen_graph": 3, "saved_model": 3, "onnx": 5}
# The input layouts ATC accepts per framework (a model converted with --insert_op_conf takes only
# NCHW or NHWC, which is all the templates offer).
INPUT_FORMATS = {0: ("NCHW", "ND"), 3: ("NCHW", "NHWC", "ND"), 5: ("NCHW", "ND")}
# fp16_high_prec (OMG) -> --precision_mode (ATC): 0 is the plain FP16 model (ATC's inference
# default); 1 keeps FP32 wherever an operator supports it and falls back to FP16 elsewhere.
PRECISION_MODES = {"0": "force_fp16", "1": "allow_fp32_to_fp16"}
# enable_l2dynamic (OMG) -> --buffer_optimize (ATC), the switch for L2 buffer optimisation.
BUFFER_OPTIMIZE = {"true": "l2_optimize", "false": "off_optimize"}
LOG_LEVELS = ("debug", "info", "warning", "error", "null")
OUTPUT_TYPES = ("FP32", "UINT8", "FP16", "INT8")
SOC_VERSION_RE = re.compile(r"Ascend(310|910)[A-Za-z0-9]{0,6}")
OUT_NODES_RE = re.compile(rf"{NAME}:[0-9]{{1,4}}(?:;{NAME}:[0-9]{{1,4}})*")
MAX_VALUE_LENGTH = 4000  # ModelArts.3060
# The options of the Ascend templates; anything else in a job is a mistake, not something to drop.
KNOWN_OPTIONS = frozenset(ASCEND.options)


@dataclass
class AtcCall:
    """One ATC model build (mode 0). Paths are absolute; empty values are left off the command."""

    framework: int
    model: Path
    output: Path  # without .om: ATC appends it
    soc_version: str
    weight: Path | None = None
    input_shape: str = ""
    input_format: str = ""
    out_nodes: str = ""
    insert_op_conf: Path | None = None
    precision_mode: str = ""
    output_type: str = ""
    buffer_optimize: str = ""
    log: str = "error"


def call_from_options(options: dict, model_format: str) -> tuple[dict, list[str]]:
    """The ATC settings the template options ask for, and notes on options ATC has no flag for."""
    unknown = sorted(set(options) - KNOWN_OPTIONS)
    if unknown:
        raise ConversionError(
            f"Unknown option {', '.join(unknown)} for an Ascend template; it takes: "
            f"{', '.join(sorted(KNOWN_OPTIONS))}."
        )
    framework = FRAMEWORKS.get(model_format)
    if framework is None:
        raise ConversionError(f"Model format {model_format} cannot be converted with ATC.")
    settings = {
        "framework": framework,
        "soc_version": str(options.get("soc_version") or "Ascend310"),
        "input_shape": str(options.get("input_shape") or ""),
        "input_format": str(options.get("input_format") or ""),
        "out_nodes": str(options.get("out_nodes") or ""),
        "output_type": str(options.get("output_type") or ""),
    }
    notes = []
    fmt = settings["input_format"]
    if fmt and fmt not in INPUT_FORMATS[framework]:
        raise ConversionError(
            f"input_format {fmt} cannot be used for this model: ATC reads "
            f"{'ONNX' if framework == 5 else 'Caffe'} inputs as "
            f"{' or '.join(INPUT_FORMATS[framework])}. Choose NCHW."
        )
    for key, table, flag in (
        ("fp16_high_prec", PRECISION_MODES, "precision_mode"),
        ("enable_l2dynamic", BUFFER_OPTIMIZE, "buffer_optimize"),
    ):
        value = options.get(key)
        if value is None or value == "":
            continue
        if str(value) not in table:
            raise ConversionError(f"{key} must be one of {', '.join(table)}, not {value}.")
        settings[flag] = table[str(value)]
        notes.append(f"{key}={value} is passed to ATC as --{flag}={table[str(value)]}")
    if options.get("net_format"):
        notes.append(
            f"net_format={options['net_format']} has no ATC equivalent (ATC chooses operator "
            "layouts itself); it is recorded but not passed"
        )
    return settings, notes


def _path(flag: str, value: Path) -> str:
    text = str(value)
    if not Path(text).is_absolute() or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConversionError(f"--{flag} needs an absolute path without control characters.")
    return text


def _one_of(values) -> re.Pattern:
    return re.compile("|".join(re.escape(v) for v in values))


# The grammar of every flag that takes a value from the options, in the order they are passed.
GRAMMAR = {
    "soc_version": (SOC_VERSION_RE, "an Ascend chip name such as Ascend310"),
    "input_shape": (INPUT_SHAPE_RE, "name:n,c,h,w;name2:n,c,h,w with positive numbers"),
    "input_format": (_one_of(("NCHW", "NHWC", "ND")), "NCHW, NHWC or ND"),
    "out_nodes": (OUT_NODES_RE, "node:index;node:index"),
    "precision_mode": (_one_of(PRECISION_MODES.values()), "force_fp16 or allow_fp32_to_fp16"),
    "output_type": (_one_of(OUTPUT_TYPES), " or ".join(OUTPUT_TYPES)),
    "buffer_optimize": (_one_of(BUFFER_OPTIMIZE.values()), "l2_optimize or off_optimize"),
    "log": (_one_of(LOG_LEVELS), " or ".join(LOG_LEVELS)),
}


def _checked(flag: str, value: str) -> str:
    pattern, expected = GRAMMAR[flag]
    if len(value) > MAX_VALUE_LENGTH or not pattern.fullmatch(value):
        raise ConversionError(
            f"The value '{value[:200]}' cannot be passed to ATC's --{flag}: expected {expected}."
        )
    return value


def arguments(call: AtcCall) -> list[str]:
    """ATC's arguments for `call` (without the executable), each value checked for its flag."""
    if call.framework not in INPUT_FORMATS:
        raise ConversionError(f"ATC framework code {call.framework} is not one of 0, 3, 5.")
    if (call.weight is not None) != (call.framework == 0):
        raise ConversionError(
            "ATC takes --weight with a Caffe model (--framework=0) and only then."
        )
    args = [
        f"--model={_path('model', call.model)}",
        f"--framework={call.framework}",
        f"--output={_path('output', call.output)}",
    ]
    if call.weight is not None:
        args.append(f"--weight={_path('weight', call.weight)}")
    args.append(f"--soc_version={_checked('soc_version', call.soc_version)}")
    for flag in list(GRAMMAR)[1:]:
        value = getattr(call, flag)
        if value:
            args.append(f"--{flag}={_checked(flag, value)}")
    if call.input_format not in ("", *INPUT_FORMATS[call.framework]):
        raise ConversionError(
            f"ATC's --input_format takes {' or '.join(INPUT_FORMATS[call.framework])} for this "
            f"model, not {call.input_format}."
        )
    if call.insert_op_conf is not None:
        args.append(f"--insert_op_conf={_path('insert_op_conf', call.insert_op_conf)}")
    return args


def find_atc(env=None) -> Path | None:
    """The atc executable: ATC_PATH (the file, or the folder holding it), else atc on PATH."""
    env = os.environ if env is None else env
    configured = env.get("ATC_PATH", "").strip()
    if configured:
        path = Path(configured)
        path = path / "atc" if path.is_dir() else path
        return path if path.is_file() and os.access(path, os.X_OK) else None
    found = shutil.which("atc", path=env.get("PATH", os.defpath))
    return Path(found) if found else None


def missing_message(env=None) -> str:
    env = os.environ if env is None else env
    configured = env.get("ATC_PATH", "").strip()
    if configured:
        return f"{ATC_MISSING} (ATC_PATH is set to {configured}, which is not an executable atc)"
    return ATC_MISSING


_VERSION_RE = re.compile(r"^\s*version\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def atc_version(atc: Path) -> str:
    """The CANN version from the version.info files the toolkit installs near atc; never runs atc."""
    folder = Path(atc).resolve().parent
    for _ in range(4):
        for name in ("version.info", "ascend_toolkit_install.info"):
            try:
                found = _VERSION_RE.search((folder / name).read_text(errors="replace")[:4096])
            except OSError:
                continue
            if found:
                return found.group(1)
        folder = folder.parent
    return "unknown"
