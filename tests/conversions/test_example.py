"""The newcomer's example: `make_example` builds it once in the data directory, it converts with
the values 'Try it' fills in, and 'Try it' copies it into any user's home (a folder already there
is kept) and leads to a create form that is valid for that user."""

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from conversions import example
from conversions.models import ConversionTask
from tests.converters.direct import convert_directly
from tests.helpers import PLACEHOLDER_PB

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(dirs):
    """The shared example as make_example leaves it, with a placeholder graph (nothing converts)."""
    folder = dirs / example.SHARED
    (folder / "model").mkdir(parents=True)
    (folder / example.MODEL).write_bytes(PLACEHOLDER_PB)
    (folder / "calibration_data").mkdir()
    np.save(folder / example.CALIBRATION, np.zeros((2, 28, 28, 1), np.float32))
    return folder


@pytest.fixture
def bob(client, django_user_model):
    """A fresh user who is not staff, logged in."""
    user = django_user_model.objects.create_user("bob", password="bob-pass-123")
    client.force_login(user)
    return user


@pytest.mark.slow
def test_make_example_builds_once_and_the_example_converts(user, home, tmp_path, capsys):
    call_command("make_example", username=user.username)
    built = home(user) / example.FOLDER
    shared = example.shared_folder()
    model = shared / example.MODEL
    assert model.stat().st_size > 1000 and (shared / example.CALIBRATION).is_file()
    assert (built / example.MODEL).read_bytes() == model.read_bytes()  # alice's copy
    before = model.stat().st_mtime_ns
    call_command("make_example")  # idempotent: kept as it is
    assert model.stat().st_mtime_ns == before and "there already" in capsys.readouterr().out
    report, _events = convert_directly(
        "tflite", built, tmp_path / "out", "frozen_graph", "arm", dict(example.OPTIONS)
    )
    assert report["verification"]["verdict"] in ("pass", "warn")
    assert (tmp_path / "out" / report["artifacts"]["model"]).is_file()
    assert report["verification"]["source"].startswith("held-out calibration_data")


def test_a_fresh_user_gets_try_it_which_copies_the_example_and_fills_a_valid_form(
    client, bob, home, shared, django_capture_on_commit_callbacks
):
    html = client.get(reverse("conversions:index")).content.decode()
    assert 'id="try-example"' in html and "Try it copies it into your folder" in html
    assert not (home(bob) / example.FOLDER).exists()  # offering it copies nothing

    response = client.post(reverse("conversions:try_example"))
    assert response["Location"] == reverse("conversions:create") + "?example=mnist-cnn"
    copy = home(bob) / example.FOLDER
    assert (copy / example.MODEL).read_bytes() == PLACEHOLDER_PB
    assert np.load(copy / example.CALIBRATION).shape == (2, 28, 28, 1)

    html = client.get(response["Location"]).content.decode()
    assert 'value="examples/mnist-cnn/"' in html and 'value="examples/mnist-cnn-tflite/"' in html
    assert 'value="mnist-cnn-example"' in html and 'value="Identity"' in html
    assert 'name="template" value="tensorflow-frozen-graph-to-tflite" checked' in html
    values = example.initial(bob)  # what the page shows, submitted as it is
    form = {key: value for key, value in values.items() if key != "options"}
    form.update({f"opt-{key}": value for key, value in values["options"].items()})
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(reverse("conversions:create"), form)
    assert created.status_code == 302, created.content.decode()[:2000]
    task = ConversionTask.objects.get(owner=bob)
    assert (task.name, task.input_location, task.output_location) == (
        "mnist-cnn-example",
        "examples/mnist-cnn/",
        "examples/mnist-cnn-tflite/",
    )
    assert task.options["quantization_precision"] == "8bit"


def test_a_user_who_has_the_folder_keeps_it(client, bob, home, shared):
    mine = home(bob) / example.FOLDER
    (mine / "model").mkdir(parents=True)
    (mine / example.MODEL).write_bytes(b"my own graph")
    (mine / "calibration_data").mkdir()
    (mine / example.CALIBRATION).write_bytes(b"my own samples")
    html = client.get(reverse("conversions:index")).content.decode()
    assert "the example model in your folder, examples/mnist-cnn/" in html
    response = client.post(reverse("conversions:try_example"))
    assert response["Location"].endswith("?example=mnist-cnn")
    assert (mine / example.MODEL).read_bytes() == b"my own graph"
    assert (mine / example.CALIBRATION).read_bytes() == b"my own samples"


def test_a_folder_of_that_name_without_the_example_is_kept_and_named(client, bob, home, shared):
    (home(bob) / example.FOLDER / "notes").mkdir(parents=True)
    response = client.post(reverse("conversions:try_example"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("conversions:index")
    assert "is there but holds no model/mnist_cnn.pb" in response.content.decode()
    assert sorted(p.name for p in (home(bob) / example.FOLDER).iterdir()) == ["notes"]


def test_a_link_in_the_users_home_is_not_written_through(client, bob, home, shared, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (home(bob) / "examples").symlink_to(elsewhere)
    response = client.post(reverse("conversions:try_example"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("conversions:index")
    assert list(elsewhere.iterdir()) == []


def test_no_try_it_before_the_example_is_built(client, bob):
    html = client.get(reverse("conversions:index")).content.decode()
    assert "No conversion tasks yet" in html and 'id="try-example"' not in html
    response = client.post(reverse("conversions:try_example"), follow=True)
    assert "The example model has not been built" in response.content.decode()
    assert client.get(reverse("conversions:create"), {"example": "1"}).status_code == 200
    assert client.get(reverse("conversions:try_example")).status_code == 405  # a POST only


def test_try_it_needs_a_login(client, shared):
    response = client.post(reverse("conversions:try_example"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")
