"""`manage.py convert --spec job.json`: the spec the API exports re-creates the task; flags override."""

import json

import pytest
from django.core.management import CommandError, call_command

from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, TFLITE

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(api, user, alice_home, tmp_path):
    (alice_home / "models" / "cnn").mkdir(parents=True)
    body = {
        "template": TFLITE,
        "name": "first",
        "input_location": "models/cnn/",
        "output_location": "out/cnn/",
        "options": {**CNN_OPTIONS, "batch_size": 2},
    }
    task = ConversionTask.objects.get(
        pk=api.post("/api/v1/tasks/", body, format="json").json()["id"]
    )
    path = tmp_path / "job.json"
    path.write_text(json.dumps(api.get(f"/api/v1/tasks/{task.pk}/spec/").json()))
    return task, path


def test_a_spec_exported_by_the_api_runs_with_convert_and_gives_the_same_options(job, capsys):
    task, path = job
    call_command("convert", "--spec", str(path), "--user", "alice", "--name", "second")
    second = ConversionTask.objects.get(name="second")
    assert second.options == task.options and second.template == task.template
    assert (second.input_location, second.output_location) == ("models/cnn/", "out/cnn/")


def test_flags_override_the_spec(job):
    _task, path = job
    call_command(
        "convert",
        "--spec",
        str(path),
        "--user",
        "alice",
        "--name",
        "third",
        "--output",
        "out/other/",
        "--option",
        "batch_size=8",
    )
    third = ConversionTask.objects.get(name="third")
    assert third.output_location == "out/other/" and third.options["batch_size"] == 8


def test_the_spec_name_is_judged_like_the_form(job):
    _task, path = job  # "first" is taken
    with pytest.raises(CommandError, match="You already have a task named first"):
        call_command("convert", "--spec", str(path), "--user", "alice")


@pytest.mark.parametrize(
    "content, message",
    [
        ("{nope", "not a readable JSON file"),
        ("[1]", "a job spec is a JSON object"),
        ('{"colour": "red"}', "Unknown fields colour"),
        ('{"options": []}', "options is a JSON object"),
        ("{}", "Name the template with --template"),
    ],
)
def test_a_bad_spec_file_is_refused_plainly(user, tmp_path, content, message):
    path = tmp_path / "job.json"
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        call_command("convert", "--spec", str(path), "--user", "alice")
