"""Adding a target is one `register(Target(...))` (README, "Adding a target"): a toy target that copies
the model appears in the catalogue, the probes, the limits and the queue routing, and a task of its
template runs through the converter path (the child's entry point, called in this process)."""

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from conversions.converters import __main__ as child
from conversions.converters.base import ConversionError, Converter, Events, Job
from conversions.converters.capabilities import Capability, probe_all
from conversions.converters.targets import TARGETS, Option, Target, Template, register, table
from conversions.jobs import queue_of
from templates_registry.models import ConversionTemplate
from templates_registry.options import clean_options, schema_errors
from tests.helpers import make_task

HERE = "tests.converters.test_toy_target"


class CopyConverter(Converter):
    """Copies the one file of model/ to model/<name>.copy."""

    key = "copy"

    def convert(self, job: Job, events: Events) -> dict:
        models = sorted((job.input_path / "model").glob("*"))
        if len(models) != 1:
            raise ConversionError("model/ must hold exactly one file to copy.")
        events.stage("converting")
        target = job.output_path / "model" / f"{job.name}.copy"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(models[0], target)
        return {"bytes": target.stat().st_size, "suffix": job.options["suffix"]}


def probe_copy() -> Capability:
    return Capability(True, {"cp": "1.0"})


def queue_rule(template_queue: str, options: dict) -> str:
    return "big" if options.get("suffix") == "huge" else template_queue


SUFFIX = Option(
    "suffix",
    "Suffix",
    "后缀",
    "choice",
    help_en="Which copy to make.",
    help_zh="复制方式。",
    choices=("plain", "huge"),
    default="plain",
    required=True,
)
COPY = Target(
    key="copy",
    chip="arm",
    output_format="copy",
    converter=f"{HERE}.CopyConverter",
    probe=f"{HERE}.probe_copy",
    layout="model/<name>.copy",
    options=table(SUFFIX),
    limits={"timeout_seconds": 60},
    queue_rule=f"{HERE}.queue_rule",
    templates=(
        Template(
            "onnx-to-copy",
            "ONNX to a copy",
            "ONNX 复制",
            "Copies an ONNX model.",
            "复制 ONNX 模型。",
            "onnx",
            "onnx",
            options=("suffix",),
        ),
    ),
)


@pytest.fixture
def toy():
    register(COPY)
    yield COPY
    del TARGETS[COPY.key]


def test_a_registered_target_reaches_the_probes(toy):
    assert probe_all()["copy"] == {"available": True, "tools": {"cp": "1.0"}, "reason": ""}
    with pytest.raises(ValueError, match="registered twice"):
        register(COPY)


@pytest.mark.django_db
def test_a_registered_target_is_in_the_catalogue_with_its_limits_and_its_task_converts(
    toy, user, tmp_path
):
    call_command("migrate", verbosity=0)  # nothing to apply: the post_migrate handler loads it
    template = ConversionTemplate.objects.get(slug="onnx-to-copy")
    assert (template.chip, template.output_format, template.converter) == ("arm", "copy", "copy")
    assert template.position == ConversionTemplate.objects.count()  # after the 17 of the spec
    assert template.limits(300, 200, 1024) == (60, 200, 1024)
    assert schema_errors(template.option_schema) == []
    template.full_clean()  # the converter key is known

    task = make_task(user, slug="onnx-to-copy", options={"suffix": "huge"})
    assert queue_of(task) == "big"
    task.options = {"suffix": "plain"}
    assert queue_of(task) == "cpu"

    options, errors = clean_options(template.option_schema, {})
    assert errors == {} and options == {"suffix": "plain"}
    (tmp_path / "in" / "model").mkdir(parents=True)
    (tmp_path / "in" / "model" / "net.onnx").write_bytes(b"onnx bytes")
    job = Job(template.converter, str(tmp_path / "in"), str(tmp_path / "out"), "net", "onnx", "arm")
    job.options = options
    job.dump(tmp_path / "job.json")
    stream = io.StringIO()
    assert child.run(Events(stream), str(tmp_path / "job.json")) == 0
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert events[-1]["result"] == {"bytes": 10, "suffix": "plain"}
    assert Path(tmp_path / "out" / "model" / "net.copy").read_bytes() == b"onnx bytes"


def test_a_target_with_an_unknown_option_or_a_taken_slug_is_refused():
    broken = Target(
        key="broken",
        chip="arm",
        output_format="copy",
        converter=f"{HERE}.CopyConverter",
        probe=f"{HERE}.probe_copy",
        layout="",
        templates=(Template("x", "X", "X", "", "", "onnx", "onnx", options=("suffix",)),),
    )
    with pytest.raises(ValueError, match="no option suffix"):
        register(broken)
    twin = Target(**{**vars(broken), "templates": TARGETS["tflite"].templates[:1]})
    with pytest.raises(ValueError, match="belongs to another target"):
        register(twin)
    assert "broken" not in TARGETS


def test_the_target_specs_load_no_toolkit():
    """The web process reads the specs (catalogue, routing, probes): they import nothing heavy."""
    code = (
        "import sys, conversions.converters.targets, conversions.converters.capabilities; "
        "conversions.converters.capabilities.probe_all(); "
        "print(sorted(m for m in ('numpy', 'tensorflow', 'onnx', 'tensorrt') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
