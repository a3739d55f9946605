"""The newcomer's example: `make_example` builds it once, it converts with the values 'Try it'
fills in, and the empty list offers 'Try it' only to a user whose home holds it."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from conversions import example
from tests.converters.direct import convert_directly

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def built(user, home):
    call_command("make_example", username=user.username)
    return home(user) / example.FOLDER


def test_make_example_builds_once_and_the_example_converts(built, tmp_path, capsys):
    model = built / example.MODEL
    assert model.stat().st_size > 1000 and (built / example.CALIBRATION).is_file()
    before = model.stat().st_mtime_ns
    call_command("make_example", username="alice")  # idempotent: kept as it is
    assert model.stat().st_mtime_ns == before and "there already" in capsys.readouterr().out
    report, _events = convert_directly(
        "tflite", built, tmp_path / "out", "frozen_graph", "arm", dict(example.OPTIONS)
    )
    assert report["verification"]["verdict"] in ("pass", "warn")
    assert (tmp_path / "out" / report["artifacts"]["model"]).is_file()
    assert report["verification"]["source"].startswith("held-out calibration_data")


def test_the_empty_list_offers_try_it_which_fills_the_create_form(client_alice, built):
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert 'id="try-example"' in html
    html = client_alice.get(reverse("conversions:create"), {"example": "1"}).content.decode()
    assert 'value="examples/mnist-cnn/"' in html and 'value="examples/mnist-cnn-tflite/"' in html
    assert 'value="mnist-cnn-example"' in html and 'value="Identity"' in html
    assert 'name="template" value="tensorflow-frozen-graph-to-tflite" checked' in html


def test_no_try_it_without_the_example(client_alice):
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert "No conversion tasks yet" in html and 'id="try-example"' not in html
    assert client_alice.get(reverse("conversions:create"), {"example": "1"}).status_code == 200
