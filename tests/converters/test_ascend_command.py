"""ATC's argument list: every flag combination the templates can produce is accepted by the ATC
STAND-IN (which checks ATC's documented grammar; see atc_stand_in.py), and no option value can
reach a flag it does not own."""

import itertools
import subprocess

import pytest

from conversions.converters.ascend.command import (
    AtcCall,
    arguments,
    call_from_options,
)
from conversions.converters.base import ConversionError
from conversions.converters.targets import builtin_templates
from conversions.converters.targets.ascend import SOC_VERSIONS
from templates_registry.options import clean_options
from tests.ascendkit import AIPP, install_atc_stand_in
from tests.converters import atc_stand_in

ASCEND = [t for t in builtin_templates() if t["chip"] == "ascend"]
SUFFIX = {0: ".prototxt", 3: ".pb", 5: ".onnx"}


@pytest.fixture(scope="module")
def atc(tmp_path_factory):
    return install_atc_stand_in(tmp_path_factory.mktemp("cann"))


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    for name in ("net.prototxt", "net.caffemodel", "net.pb", "net.onnx"):
        (folder / name).write_bytes(b"model")
    (folder / "insert_op_conf.cfg").write_text(AIPP)
    (folder / "out").mkdir()
    return folder


def call_for(files, framework, **settings) -> AtcCall:
    return AtcCall(
        model=files / f"net{SUFFIX[framework]}",
        weight=files / "net.caffemodel" if framework == 0 else None,
        output=files / "out" / "m",
        **{"soc_version": "Ascend310", **settings, "framework": framework},
    )


def run_stand_in(atc, args, cwd):
    return subprocess.run([str(atc), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def option_combinations(template):
    """Every value of every choice option that changes the command (input_shape and out_nodes set);
    soc_version has its own test and net_format never reaches ATC."""
    choices = {
        o["key"]: o["choices"]
        for o in template["options"]
        if o["type"] == "choice" and o["key"] not in ("soc_version", "net_format")
    }
    keys = sorted(choices)
    for values in itertools.product(*(choices[k] for k in keys)):
        given = dict(zip(keys, values, strict=True))
        if template["framework"] != "caffe":
            given["input_shape"] = "input:1,224,224,3"
        if any(o["key"] == "out_nodes" for o in template["options"]):
            given["out_nodes"] = "logits:0;logits:1"
        yield given


@pytest.mark.parametrize("template", ASCEND, ids=[t["slug"] for t in ASCEND])
def test_every_option_combination_of_every_template_is_accepted_by_atc(
    files, tmp_path, monkeypatch, capsys, template
):
    monkeypatch.chdir(tmp_path)  # the stand-in writes fusion_result.json where it runs
    accepted = refused = 0
    for given in option_combinations(template):
        options, errors = clean_options(template["options"], given)
        assert not errors, (given, errors)
        try:
            settings, _ = call_from_options(options, template["model_format"])
        except ConversionError as exc:
            # the one combination ATC cannot take: an ONNX model read as NHWC
            assert template["framework"] == "onnx" and options["input_format"] == "NHWC", exc
            refused += 1
            continue
        framework = settings.pop("framework")
        for aipp in (None, files / "insert_op_conf.cfg"):
            args = arguments(call_for(files, framework, insert_op_conf=aipp, **settings))
            code = atc_stand_in.main(args)
            out = capsys.readouterr().out
            assert code == 0 and out.rstrip().endswith(
                "ATC run success, welcome to the next use."
            ), (args, out)
            accepted += 1
    combos = len(list(option_combinations(template)))
    assert refused == (combos // 2 if template["framework"] == "onnx" else 0)
    assert accepted == 2 * (combos - refused) > 0


def test_the_arguments_are_flag_value_pairs_in_a_fixed_order(files):
    args = arguments(
        call_for(
            files,
            0,
            input_shape="data:1,3,224,224",
            precision_mode="force_fp16",
            insert_op_conf=files / "insert_op_conf.cfg",
        )
    )
    assert args == [
        f"--model={files}/net.prototxt",
        "--framework=0",
        f"--output={files}/out/m",
        f"--weight={files}/net.caffemodel",
        "--soc_version=Ascend310",
        "--input_shape=data:1,3,224,224",
        "--precision_mode=force_fp16",
        "--log=error",
        f"--insert_op_conf={files}/insert_op_conf.cfg",
    ]


@pytest.mark.parametrize(
    "flag, value",
    [
        ("input_shape", "input:1,224,224,3 --framework=5"),
        ("input_shape", "input:1,224,224,3\n--log=debug"),
        ("input_shape", "input=x:1,224"),
        ("input_shape", "input:1,?,224,3"),
        ("input_shape", "input:-1,224,224,3"),
        ("out_nodes", "logits:0 --mode=1"),
        ("out_nodes", "logits:0;--weight=/etc/passwd:0"),
        ("soc_version", "Ascend310 --log=debug"),
        ("soc_version", "Ascend310;reboot"),
        ("output_type", "FP32 --framework=3"),
        ("input_format", "NHWC --log=debug"),
        ("precision_mode", "force_fp16 --mode=3"),
        ("buffer_optimize", "l2_optimize=1"),
        ("log", "debug --mode=1"),
    ],
)
def test_no_value_can_carry_another_flag(files, flag, value):
    with pytest.raises(ConversionError) as info:
        arguments(call_for(files, 3, **{flag: value}))
    assert f"cannot be passed to ATC's --{flag}" in str(info.value)


def test_paths_with_control_characters_are_refused(files):
    with pytest.raises(ConversionError, match="without control characters"):
        arguments(AtcCall(3, files / "net\n--framework=0.pb", files / "out" / "m", "Ascend310"))


def test_weight_goes_with_caffe_only(files):
    with pytest.raises(ConversionError, match="--weight with a Caffe model"):
        arguments(AtcCall(3, files / "net.pb", files / "out/m", "Ascend310", weight=files / "x"))
    with pytest.raises(ConversionError, match="--weight with a Caffe model"):
        arguments(AtcCall(0, files / "net.prototxt", files / "out/m", "Ascend310"))


@pytest.mark.parametrize("template", ASCEND, ids=[t["slug"] for t in ASCEND])
def test_the_console_refuses_smuggled_values_before_they_reach_a_task(template):
    for option in template["options"]:
        if option["type"] != "string":
            continue
        for value in ("logits:0 --mode=1", "input:1,2;x:1 && reboot", "a:1|b", "input:1\n--log=1"):
            _, errors = clean_options(template["options"], {option["key"]: value})
            assert option["key"] in errors, (option["key"], value)


def test_option_mapping_and_its_notes():
    settings, notes = call_from_options(
        {
            "fp16_high_prec": "1",
            "enable_l2dynamic": "false",
            "net_format": "ND",
            "soc_version": "Ascend910",
        },
        "saved_model",
    )
    assert settings == {
        "framework": 3,
        "soc_version": "Ascend910",
        "input_shape": "",
        "input_format": "",
        "out_nodes": "",
        "output_type": "",
        "precision_mode": "allow_fp32_to_fp16",
        "buffer_optimize": "off_optimize",
    }
    assert notes[-1].startswith("net_format=ND has no ATC equivalent")


def test_unknown_options_and_impossible_layouts_are_refused():
    with pytest.raises(ConversionError, match="Unknown option quantization_precision"):
        call_from_options({"quantization_precision": "8bit"}, "frozen_graph")
    with pytest.raises(ConversionError, match="ATC reads ONNX inputs as NCHW or ND. Choose NCHW."):
        call_from_options({"input_format": "NHWC"}, "onnx")
    with pytest.raises(ConversionError, match="fp16_high_prec must be one of 0, 1"):
        call_from_options({"fp16_high_prec": "2"}, "onnx")


@pytest.mark.parametrize(
    "framework, extra, error",
    [
        (3, ["--weight={f}/net.caffemodel"], "--weight is only for Caffe"),
        (0, [], "Parameter [--weight] must be given"),
        (4, [], "Value [4] for parameter [--framework] is invalid"),
        (3, ["--input_shape=input:-1,3"], "-1 needs a --dynamic_* parameter"),
        (5, ["--input_format=NHWC"], "parameter [--input_format] is invalid"),
        (3, ["--framework=3"], "given more than once"),
        (3, ["--shell=1"], "Parameter [--shell] is not supported"),
        (3, ["--soc_version=Ascend999"], "Value [Ascend999] for parameter [--soc_version]"),
        (5, ["--out_nodes=a:0 b:1"], "parameter [--out_nodes] is invalid"),
    ],
)
def test_the_stand_in_refuses_what_atc_refuses(atc, files, tmp_path, framework, extra, error):
    """The stand-in is a real check: it rejects calls that break ATC's grammar."""
    argv = [
        f"--model={files}/net{SUFFIX.get(framework, '.pb')}",
        f"--framework={framework}",
        f"--output={files}/out/m",
        *[arg.format(f=files) for arg in extra],
    ]
    if not any(arg.startswith("--soc_version=") for arg in extra):
        argv.append("--soc_version=Ascend310")
    result = run_stand_in(atc, argv, tmp_path)
    assert result.returncode == 1
    assert "ATC run failed" in result.stdout and error in result.stdout


def test_every_soc_version_offered_is_one_atc_documents(atc, files, tmp_path):
    for soc in SOC_VERSIONS:
        result = run_stand_in(atc, arguments(call_for(files, 5, soc_version=soc)), tmp_path)
        assert result.returncode == 0, (soc, result.stdout)


def test_a_layout_the_framework_does_not_take_is_refused(files):
    with pytest.raises(ConversionError, match="--input_format takes NCHW or ND for this model"):
        arguments(call_for(files, 5, input_format="NHWC"))
    assert "--input_format=NHWC" in arguments(call_for(files, 3, input_format="NHWC"))
