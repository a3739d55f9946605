"""Model inspection from the create form and from the shell, through the converter child."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TFLITE = "tensorflow-frozen-graph-to-tflite"


def test_inspect_fills_the_empty_tensor_options_and_keeps_what_was_typed(client_alice, cnn_folder):
    response = client_alice.get(
        reverse("conversions:inspect"),
        {
            "input_location": cnn_folder,
            "template": TFLITE,
            "opt-output_tensor_names": "my_output",
            "opt-input_tensor_names": "",
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "cnn.pb: frozen_graph" in html and "<code>input:0</code>" in html
    assert '<fieldset id="options" class="card" hx-swap-oob="true">' in html
    assert 'name="opt-input_tensor_names" value="input"' in html
    assert 'name="opt-output_tensor_names" value="my_output"' in html


def test_inspect_says_what_is_wrong_with_the_folder(client_alice, alice_home):
    (alice_home / "empty/model").mkdir(parents=True)
    url = reverse("conversions:inspect")
    html = client_alice.get(url, {"input_location": "empty/", "template": TFLITE}).content.decode()
    assert "No model found" in html and "hx-swap-oob" not in html
    html = client_alice.get(url, {"input_location": "../etc/"}).content.decode()
    assert "A path cannot contain . or .. segments." in html
    html = client_alice.get(url, {"input_location": ""}).content.decode()
    assert "Enter the input folder first." in html


def test_inspect_needs_a_login(client):
    response = client.get(reverse("conversions:inspect"), {"input_location": "x/"})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_inspect_model_command_prints_tensors_and_options(user, cnn_folder):
    out = io.StringIO()
    call_command("inspect_model", cnn_folder, "--chip", "arm", "--user", "alice", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("cnn.pb: frozen_graph, ")
    assert "input   input:0  [1, 32, 32, 3]  float32" in lines
    assert "output  Identity:0" in lines
    assert "--option input_tensor_names=input" in lines
    out = io.StringIO()
    call_command("inspect_model", cnn_folder, "--json", "--user", "alice", stdout=out)
    assert json.loads(out.getvalue())["outputs"] == ["Identity:0"]
    with pytest.raises(CommandError, match="does not exist"):
        call_command("inspect_model", "models/none/", "--user", "alice", stdout=io.StringIO())
    with pytest.raises(CommandError, match="Name the user to act as with --user"):
        call_command("inspect_model", cnn_folder, stdout=io.StringIO())  # no superuser
