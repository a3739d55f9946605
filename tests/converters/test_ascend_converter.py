"""The Ascend converter end to end in-process, with the ATC STAND-IN (tests/converters/atc_stand_in.py)
in place of Huawei's atc, which cannot be installed here. The stand-in checks every command line
against ATC's documented grammar and records it in the .om it writes, so these tests read back the
exact arguments each template produces."""

import json
import shutil
from pathlib import Path

import pytest

from conversions.converters.ascend.command import ATC_MISSING
from conversions.converters.base import ConversionError
from conversions.converters.capabilities import probe_ascend
from conversions.converters.targets import builtin_templates
from templates_registry.options import clean_options
from tests.ascendkit import AIPP, install_atc_stand_in, lenet, onnx_conv, ssd_head
from tests.converters.direct import convert_directly

TEMPLATES = {t["slug"]: t for t in builtin_templates() if t["chip"] == "ascend"}
SHAPE = {"input_shape": "input:1,32,32,3"}


@pytest.fixture
def atc(tmp_path_factory, monkeypatch):
    path = install_atc_stand_in(tmp_path_factory.mktemp("cann"))
    monkeypatch.setenv("ATC_PATH", str(path))
    monkeypatch.delenv("ATC_STAND_IN_MODE", raising=False)
    return path


def model_folder(tmp_path, model_format, cnn_pb, saved_model):
    folder = tmp_path / "input"
    if model_format == "caffemodel":
        lenet().write(folder)
    elif model_format == "frozen_graph":
        folder.mkdir()
        shutil.copy(cnn_pb, folder / "cnn.pb")
    elif model_format == "saved_model":
        shutil.copytree(saved_model, folder)
    else:
        onnx_conv(folder / "net.onnx")
    return folder


def convert(tmp_path, slug, folder, given=None, name="m1"):
    """Run the converter as the child does; returns (report, log text, the stand-in's record)."""
    template = TEMPLATES[slug]
    options, errors = clean_options(template["options"], given or {})
    assert not errors, errors
    output = tmp_path / "work" / "output"
    report, events = convert_directly(
        "ascend", folder, output, template["model_format"], "ascend", options, name=name, seed=0
    )
    log = "\n".join(event.get("message", "") for event in events)
    return report, log, json.loads((output / f"{name}.om").read_text())


def flags(argv) -> dict[str, str]:
    return dict(arg[2:].split("=", 1) for arg in argv)


EXPECTED = {
    "caffe-to-ascend": {"framework": "0", "soc_version": "Ascend310", "log": "error"},
    "tensorflow-frozen-graph-to-ascend": {
        "framework": "3", "soc_version": "Ascend310", "input_shape": "input:1,32,32,3", "log": "error",
    },
    "onnx-to-ascend-tbe": {
        "framework": "5", "soc_version": "Ascend310", "input_format": "NCHW",
        "precision_mode": "force_fp16", "output_type": "FP32", "log": "error",
    },
}  # fmt: skip
GROUP_D_TF = {
    "framework": "3",
    "soc_version": "Ascend310",
    "input_shape": "input:1,32,32,3",
    "input_format": "NHWC",
    "precision_mode": "force_fp16",
    "output_type": "FP32",
    "log": "error",
}
for slug in TEMPLATES:
    if slug.startswith("tf-"):
        EXPECTED[slug] = {
            **GROUP_D_TF,
            **({"buffer_optimize": "l2_optimize"} if "c32" in slug else {}),
        }


@pytest.mark.slow
@pytest.mark.parametrize("slug", sorted(TEMPLATES))
def test_every_ascend_template_builds_the_documented_command(
    tmp_path, atc, cnn_pb, cnn_saved_model, slug
):
    template = TEMPLATES[slug]
    folder = model_folder(tmp_path, template["model_format"], cnn_pb, cnn_saved_model)
    given = SHAPE if template["framework"] == "tensorflow" else {}
    report, log, record = convert(tmp_path, slug, folder, given)
    got = flags(record["argv"])
    model, output = got.pop("model"), got.pop("output")
    weight = got.pop("weight", None)
    assert got == EXPECTED[slug]
    assert output == str(tmp_path / "work" / "output" / "m1")
    expected_model = {
        "caffemodel": folder / "net.prototxt",
        "frozen_graph": folder / "cnn.pb",
        "saved_model": tmp_path / "work" / "atc" / "model.pb",  # frozen first
        "onnx": folder / "net.onnx",
    }[template["model_format"]]
    assert model == str(expected_model)
    assert weight == (str(folder / "net.caffemodel") if slug == "caffe-to-ascend" else None)
    assert report["atc"]["arguments"] == record["argv"]
    assert report["atc"]["version"] == "7.0.0"
    assert report["artifacts"] == {"model": "m1.om", "fusion_result": "fusion_result.json"}
    assert (tmp_path / "work" / "output" / "fusion_result.json").is_file()
    assert (
        "verification" not in report
        and "runs only on an Ascend device" in report["verification_skipped"]
    )
    assert "ATC run success, welcome to the next use." in log
    if template["framework"] == "tensorflow":
        assert report["inputs"] == [{"name": "input", "shape": [1, 32, 32, 3], "dtype": "float32"}]
    if any(o["key"] == "net_format" for o in template["options"]):
        assert "net_format=5D has no ATC equivalent" in log


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"fp16_high_prec": "1"}, {"precision_mode": "allow_fp32_to_fp16"}),
        ({"output_type": "UINT8"}, {"output_type": "UINT8"}),
        ({"enable_l2dynamic": "false"}, {"buffer_optimize": "off_optimize"}),
        ({"input_format": "NCHW"}, {"input_format": "NCHW"}),
        ({"out_nodes": "Identity:0"}, {"out_nodes": "Identity:0"}),
        ({"soc_version": "Ascend310P3"}, {"soc_version": "Ascend310P3"}),
        ({"soc_version": "Ascend910B"}, {"soc_version": "Ascend910B"}),
    ],
)
def test_option_values_reach_their_flags(tmp_path, atc, cnn_pb, given, expected):
    folder = model_folder(tmp_path, "frozen_graph", cnn_pb, None)
    _, _, record = convert(tmp_path, "tf-frozengraph-to-ascend-c32", folder, {**SHAPE, **given})
    got = flags(record["argv"])
    assert {key: got[key] for key in expected} == expected


def test_aipp_config_and_custom_operators_are_passed_the_documented_way(tmp_path, atc):
    folder = tmp_path / "input"
    lenet().write(folder)
    (folder / "insert_op_conf.cfg").write_text(AIPP)
    package = folder / "plugin" / "vendors" / "customize"
    (package / "op_proto").mkdir(parents=True)
    (package / "op_proto" / "libcust_op_proto.so").write_bytes(b"\x7fELF")
    _, log, record = convert(tmp_path, "caffe-to-ascend", folder)
    assert flags(record["argv"])["insert_op_conf"] == str(folder / "insert_op_conf.cfg")
    assert record["custom_opp_path"].split(":")[0] == str(package)
    assert "the model's input becomes UINT8" in log


def test_a_suffixed_om_is_renamed_to_the_task_name(tmp_path, atc, monkeypatch):
    monkeypatch.setenv("ATC_STAND_IN_MODE", "suffix")
    lenet().write(tmp_path / "input")
    report, _, _ = convert(tmp_path, "caffe-to-ascend", tmp_path / "input", name="lenet")
    assert report["artifacts"]["model"] == "lenet.om"
    assert sorted(p.name for p in (tmp_path / "work/output").iterdir()) == [
        "fusion_result.json",
        "lenet.om",
    ]


@pytest.mark.parametrize(
    "mode, message",
    [
        (
            "fail",
            "ATC failed with exit code 1. Its errors:\nE19999: Inner Error! compile op failed",
        ),
        ("silent", "ATC exited with code 0 but did not print 'ATC run success'"),
        ("no-om", "ATC reported success but wrote no m1.om"),
    ],
)
def test_success_needs_exit_code_success_line_and_om(tmp_path, atc, monkeypatch, mode, message):
    monkeypatch.setenv("ATC_STAND_IN_MODE", mode)
    lenet().write(tmp_path / "input")
    with pytest.raises(ConversionError) as info:
        convert(tmp_path, "caffe-to-ascend", tmp_path / "input")
    assert str(info.value).startswith(message)
    assert not (tmp_path / "work/output/m1.om").exists()


def test_without_atc_the_task_fails_with_the_install_message(tmp_path, monkeypatch):
    monkeypatch.delenv("ATC_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    lenet().write(tmp_path / "input")
    with pytest.raises(ConversionError) as info:
        convert(tmp_path, "caffe-to-ascend", tmp_path / "input")
    assert str(info.value) == ATC_MISSING
    capability = probe_ascend()
    assert (capability.available, capability.reason) == (False, ATC_MISSING)


def test_an_atc_path_that_is_not_executable_is_named(tmp_path, monkeypatch):
    (tmp_path / "atc").write_text("not a program")
    monkeypatch.setenv("ATC_PATH", str(tmp_path / "atc"))
    assert (
        probe_ascend().reason
        == f"{ATC_MISSING} (ATC_PATH is set to {tmp_path / 'atc'}, which is not an executable atc)"
    )


def test_the_probe_reports_atc_and_its_cann_version(atc, monkeypatch):
    assert probe_ascend().as_dict() == {"available": True, "tools": {"atc": "7.0.0"}, "reason": ""}
    monkeypatch.setenv("ATC_PATH", str(atc.parent))  # the folder holding atc works too
    assert probe_ascend().available


def test_an_atc_on_path_is_found(atc, monkeypatch):
    monkeypatch.delenv("ATC_PATH")
    monkeypatch.setenv("PATH", str(atc.parent))
    assert probe_ascend().tools == {"atc": "7.0.0"}


def test_an_ssd_net_is_refused_before_atc_with_what_to_change(tmp_path, atc):
    ssd_head().write(tmp_path / "input")
    with pytest.raises(ConversionError) as info:
        convert(tmp_path, "caffe-to-ascend", tmp_path / "input")
    assert "ATC takes only as Ascend's SSDDetectionOutput" in str(info.value)
    assert not (tmp_path / "work" / "output" / "m1.om").exists()


def test_an_ssd_net_is_rewritten_into_the_work_folder_for_atc(tmp_path, atc):
    folder = tmp_path / "input"
    ssd_head().write(folder)
    original = (folder / "net.prototxt").read_text()
    report, log, record = convert(
        tmp_path, "caffe-to-ascend", folder, {"ssd_detection_output": "rewrite"}
    )
    model = Path(flags(record["argv"])["model"])
    assert model == tmp_path / "work" / "atc" / "net.prototxt"
    assert flags(record["argv"])["weight"] == str(folder / "net.caffemodel")
    text = model.read_text()
    assert 'type: "SSDDetectionOutput"' in text and "ssddetectionoutput_param {" in text
    assert 'DetectionOutput"' not in text.replace("SSDDetectionOutput", "")
    assert (folder / "net.prototxt").read_text() == original  # the input is left as it was
    assert report["outputs"] == ["detection_out_boxnum", "detection_out"]
    assert "Layer 'detection_out' rewritten from DetectionOutput to SSDDetectionOutput" in log
    assert "ATC reads the rewritten network: net.prototxt in the work folder" in log


def test_an_unknown_ssd_choice_is_refused(tmp_path, atc):
    lenet().write(tmp_path / "input")
    template = TEMPLATES["caffe-to-ascend"]
    assert clean_options(template["options"], {"ssd_detection_output": "drop"})[1]
    with pytest.raises(ConversionError) as info:
        convert_directly(
            "ascend", tmp_path / "input", tmp_path / "out", "caffemodel", "ascend",
            {"soc_version": "Ascend310", "ssd_detection_output": "drop"}, name="m1", seed=0,
        )  # fmt: skip
    assert "ssd_detection_output must be one of refuse, rewrite, keep, not 'drop'" in str(
        info.value
    )
