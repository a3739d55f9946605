"""A STAND-IN for Huawei's `atc` (CANN), which cannot be installed here. Tests only.

It is not ATC: it builds no model. It checks the command line it receives against ATC's documented
grammar (spec section 7.1: the flags, the framework codes and the files each needs, --weight only
with Caffe, the soc_version values, the --input_shape / --out_nodes syntax, the allowed values of
--input_format per framework, --precision_mode, --output_type, --buffer_optimize and --log), then
behaves the way ATC does: on a bad call it prints ATC's failure line and an error code and exits 1;
otherwise it writes <output>.om and fusion_result.json in its working directory and prints ATC's
success line. The .om it writes is a JSON record of the call (argv, working directory, the custom
operator path), so tests can read back exactly what the converter asked for.

ATC_STAND_IN_MODE (tests only) makes it misbehave: "fail" (a compile error, exit 1), "silent"
(exit 0 without the success line), "no-om" (success line, no file), "suffix" (writes
<output>_linux_x86_64.om, as some ATC versions do).

Written with the standard library only: the fixture copies it next to a version.info and runs it
with the test's Python.
"""

import json
import os
import re
import sys
from pathlib import Path

FLAGS = {
    "mode", "model", "weight", "framework", "output", "soc_version", "input_shape",
    "input_format", "out_nodes", "insert_op_conf", "precision_mode", "output_type",
    "buffer_optimize", "log", "dynamic_batch_size", "dynamic_image_size", "dynamic_dims",
}  # fmt: skip
SOC_VERSIONS = {
    "Ascend310", "Ascend310P1", "Ascend310P3", "Ascend310B1", "Ascend310B4", "Ascend910",
    "Ascend910A", "Ascend910B", "Ascend910ProA", "Ascend910ProB", "Ascend910PremiumA",
    "Ascend910B1", "Ascend910B2", "Ascend910B3", "Ascend910B4",
}  # fmt: skip
MODEL_SUFFIX = {"0": ".prototxt", "3": ".pb", "5": ".onnx"}
INPUT_FORMATS = {
    "0": {"NCHW", "ND"},
    "3": {"NCHW", "NHWC", "ND", "NCDHW", "NDHWC"},
    "5": {"NCHW", "ND", "NCDHW"},
}
PRECISION_MODES = {
    "force_fp16", "allow_fp32_to_fp16", "must_keep_origin_dtype", "allow_mix_precision",
    "force_fp32", "cube_fp16in_fp32out", "allow_mix_precision_fp16", "allow_mix_precision_bf16",
    "allow_fp32_to_bf16",
}  # fmt: skip
OUTPUT_TYPES = {"FP32", "UINT8", "FP16", "INT8"}
BUFFER_OPTIMIZE = {"l1_optimize", "l2_optimize", "off_optimize"}
LOG_LEVELS = {"debug", "info", "warning", "error", "null"}
DIM = r"(?:[1-9][0-9]*|-1|[1-9][0-9]*~[1-9][0-9]*)"
INPUT_SHAPE = re.compile(rf"[^:;,\s]+:(?:{DIM}(?:,{DIM})*)?(?:;[^:;,\s]+:(?:{DIM}(?:,{DIM})*)?)*")
OUT_NODES = re.compile(r"[^:;\s]+:[0-9]+(?:;[^:;\s]+:[0-9]+)*")
OUTPUT_TYPE_PER_NODE = re.compile(
    r"[^:;\s]+:[0-9]+:(?:FP32|UINT8|FP16|INT8)(?:;[^:;\s]+:[0-9]+:(?:FP32|UINT8|FP16|INT8))*"
)


class Refused(Exception):
    def __init__(self, code: str, text: str):
        super().__init__(f"{code}: {text}")


def invalid(flag: str, value: str, reason: str) -> Refused:
    return Refused(
        "E10001", f"Value [{value}] for parameter [--{flag}] is invalid. Reason: {reason}"
    )


def parse(argv: list[str]) -> dict[str, str]:
    given: dict[str, str] = {}
    for arg in argv:
        if not arg.startswith("--") or "=" not in arg:
            raise Refused("E10004", f"Argument [{arg}] is not of the form --parameter=value.")
        flag, value = arg[2:].split("=", 1)
        if flag not in FLAGS:
            raise Refused("E10004", f"Parameter [--{flag}] is not supported.")
        if flag in given:
            raise Refused("E10004", f"Parameter [--{flag}] is given more than once.")
        if any(ord(c) < 32 for c in value):
            raise invalid(flag, value, "control characters")
        given[flag] = value
    return given


def need_file(flag: str, value: str, suffix: str) -> None:
    path = Path(value)
    if not path.is_file():
        raise invalid(flag, value, "the file does not exist")
    if suffix and path.suffix != suffix:
        raise invalid(flag, value, f"expected a {suffix} file")


def check(given: dict[str, str]) -> None:
    if given.get("mode", "0") != "0":
        raise invalid("mode", given["mode"], "the stand-in builds models only (mode 0)")
    for flag in ("model", "framework", "output", "soc_version"):
        if not given.get(flag):
            raise Refused("E10007", f"Parameter [--{flag}] must be given.")
    framework = given["framework"]
    if framework not in MODEL_SUFFIX:
        raise invalid(
            "framework", framework, "use 0 (Caffe), 1 (MindSpore), 3 (TensorFlow) or 5 (ONNX)"
        )
    need_file("model", given["model"], MODEL_SUFFIX[framework])
    if framework == "0":
        if "weight" not in given:
            raise Refused("E10007", "Parameter [--weight] must be given for a Caffe model.")
        need_file("weight", given["weight"], ".caffemodel")
    elif "weight" in given:
        raise invalid("weight", given["weight"], "--weight is only for Caffe (--framework=0)")
    if given["soc_version"] not in SOC_VERSIONS:
        raise invalid("soc_version", given["soc_version"], "not a supported chip")
    output = Path(given["output"])
    if not output.parent.is_dir() or output.suffix == ".om":
        raise invalid("output", given["output"], "a path prefix in an existing folder, without .om")
    shape = given.get("input_shape")
    if shape is not None:
        if not INPUT_SHAPE.fullmatch(shape):
            raise invalid("input_shape", shape, 'expected "name1:n,c,h,w;name2:n,c"')
        dynamic = {"dynamic_batch_size", "dynamic_image_size", "dynamic_dims"} & set(given)
        if re.search(r"(^|[:,])-1(,|;|$)", shape) and not dynamic:
            raise invalid("input_shape", shape, "-1 needs a --dynamic_* parameter")
    fmt = given.get("input_format")
    if fmt is not None:
        allowed = {"NCHW", "NHWC"} if "insert_op_conf" in given else INPUT_FORMATS[framework]
        if fmt not in allowed or fmt not in INPUT_FORMATS[framework]:
            raise invalid("input_format", fmt, f"this model takes {sorted(allowed)}")
    if "out_nodes" in given and not OUT_NODES.fullmatch(given["out_nodes"]):
        raise invalid("out_nodes", given["out_nodes"], 'expected "node:0;node:1"')
    if "insert_op_conf" in given:
        need_file("insert_op_conf", given["insert_op_conf"], "")
        if "aipp_op" not in Path(given["insert_op_conf"]).read_text():
            raise invalid("insert_op_conf", given["insert_op_conf"], "no aipp_op section")
    for flag, allowed in (
        ("precision_mode", PRECISION_MODES),
        ("buffer_optimize", BUFFER_OPTIMIZE),
        ("log", LOG_LEVELS),
    ):
        if flag in given and given[flag] not in allowed:
            raise invalid(flag, given[flag], f"use one of {sorted(allowed)}")
    kind = given.get("output_type")
    if kind is not None and kind not in OUTPUT_TYPES and not OUTPUT_TYPE_PER_NODE.fullmatch(kind):
        raise invalid("output_type", kind, "FP32, UINT8, FP16, INT8 or node:index:type")


def main(argv: list[str]) -> int:
    mode = os.environ.get("ATC_STAND_IN_MODE", "")
    print("ATC start working now, please wait for a moment.", flush=True)
    try:
        given = parse(argv)
        check(given)
    except Refused as exc:
        print(
            f"ATC run failed, Please check the detail log, Try 'atc --help' for more information\n{exc}"
        )
        return 1
    print(f"[INFO] GE: parse {given['model']} (framework {given['framework']})", flush=True)
    if mode == "fail":
        print("E19999: Inner Error! compile op failed (stand-in)")
        print("ATC run failed, Please check the detail log, Try 'atc --help' for more information")
        return 1
    record = {
        "stand_in": "atc",
        "argv": argv,
        "cwd": os.getcwd(),
        "custom_opp_path": os.environ.get("ASCEND_CUSTOM_OPP_PATH", ""),
    }
    if mode != "no-om":
        suffix = "_linux_x86_64" if mode == "suffix" else ""
        Path(given["output"] + suffix + ".om").write_text(json.dumps(record))
    Path("fusion_result.json").write_text(json.dumps({"stand_in": "atc", "graph_fusion": {}}))
    if mode != "silent":
        print("ATC run success, welcome to the next use.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
