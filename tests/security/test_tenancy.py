"""Folder spaces (issue 12, parts 1 and 2): each user reaches their own home, what a grant gives
them, and nothing else; staff reach everything; one permission rule for every task view.

alice owns models/cnn/ and out/cnn/ in her home; bob tries everything an attacker would.
"""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conversions import access, locations
from conversions.inspection import InspectionError, inspect_location
from conversions.jobs import run_conversion
from conversions.models import ConversionTask
from tests.helpers import PLACEHOLDER_PB, make_task
from tests.security.tenancy_kit import (
    NO_ACCESS,
    NO_WRITE,
    S,
    as_user,
    browse,
    post_task,
    untouched,
)

pytestmark = pytest.mark.django_db


# Homes


def test_every_username_maps_to_one_safe_folder_name():
    assert access.home_name("alice") == "alice"
    assert access.home_name("a.b_c-9") == "a.b_c-9"
    assert access.home_name("al ice@x+y") == "al~20ice~40x~2by"
    assert access.home_name(".hidden") == "~2ehidden"
    assert access.home_name("..") == "~2e."
    assert access.home_name("élise") == "~c3~a9lise"
    assert access.home_name("a~20") == "a~7e20" != access.home_name("a ")


def test_a_typed_folder_resolves_inside_the_users_home(user, other_user, dirs):
    mine = locations.parse("models/x/", user=user)
    theirs = locations.parse("models/x/", user=other_user)
    assert str(mine) == "models/x/" and mine.identity != theirs.identity
    assert mine.identity == str((dirs / "users/alice/models/x").resolve()) + "/"
    assert (dirs / "users" / "bob").is_dir()  # homes are made on demand


# Cross-user: browse, inspect, create, overwrite, download, delete-outputs, cancel, retry


def test_bob_cannot_browse_alices_home(client, other_user, alice_files):
    client = as_user(client, other_user)
    for path in ("/users/alice/", "/users/alice/models/", "/users/alice/nothing/"):
        html = browse(client, path)
        assert NO_ACCESS in html and "cnn/" not in html, path
    users = browse(client, "/users/")  # only the way to his own home
    assert "bob/" in users and "alice/" not in users
    assert "cannot contain . or .." in browse(client, "../alice/")
    own = browse(client, "")
    assert "models/" not in own and "Your folder" in own


def test_bob_cannot_inspect_alices_model(other_user, alice_files):
    with pytest.raises(InspectionError, match=f"{NO_ACCESS} /users/alice/models/cnn/"):
        inspect_location("/users/alice/models/cnn/", user=other_user)


def test_bob_cannot_read_or_write_alices_folders_and_learns_nothing(
    client, other_user, alice_files, home
):
    client = as_user(client, other_user)
    (home(other_user) / "models/own/model").mkdir(parents=True)
    (home(other_user) / "models/own/model/m.pb").write_bytes(b"pb")
    html = post_task(client, folder="/users/alice/models/cnn/", output_location="out/x/")
    assert f"{NO_ACCESS} /users/alice/models/cnn/" in html
    missing = post_task(client, folder="/users/alice/models/none/", output_location="out/x/")
    assert f"{NO_ACCESS} /users/alice/models/none/" in missing  # the same words: exists or not
    html = post_task(client, folder="models/own/", output_location="/users/alice/out/cnn/")
    assert f"{NO_WRITE} /users/alice/out/cnn/" in html
    html = post_task(
        client, folder="models/own/", output_location="/users/alice/out/cnn/", overwrite="on"
    )
    assert f"{NO_WRITE} /users/alice/out/cnn/" in html
    assert not ConversionTask.objects.filter(owner=other_user).exists()
    assert untouched(alice_files[1])


def test_a_task_aimed_at_alices_folder_fails_at_run_time_leaving_it_untouched(
    other_user, alice_files, home
):
    """A task row that names alice's folder (made before folder spaces, or by a script) is
    resolved for its owner when it runs: bob's task writes nothing there."""
    (home(other_user) / "models/own/model").mkdir(parents=True)
    task = make_task(
        other_user,
        name="intruder",
        input_location="models/own/",
        output_location="/users/alice/out/cnn/",
        overwrite=True,
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED and NO_WRITE in task.error_message
    assert untouched(alice_files[1])


def test_bob_cannot_download_delete_cancel_or_retry_alices_tasks(client, other_user, alice_files):
    task, out = alice_files
    running = make_task(task.owner, name="running", status=S.RUNNING)
    client = as_user(client, other_user)
    url = reverse("conversions:artifact", args=[task.pk, "model/m.tflite"])
    assert client.get(url).status_code == 404
    assert client.get(reverse("conversions:detail", args=[task.pk])).status_code == 404
    assert client.post(reverse("conversions:delete", args=[task.pk])).status_code == 404
    client.post(
        reverse("conversions:batch_delete"),
        {"ids": [task.pk], "confirm": "1", "delete_outputs": "1"},
    )
    assert client.post(reverse("conversions:cancel", args=[running.pk])).status_code == 404
    assert client.post(reverse("conversions:retry", args=[task.pk])).status_code == 404
    assert ConversionTask.objects.filter(pk=task.pk).exists() and untouched(out)
    assert ConversionTask.objects.get(pk=running.pk).status == S.RUNNING


def test_deleting_bobs_task_with_outputs_in_alices_folder_deletes_none_of_hers(
    client, other_user, alice_files
):
    """bob's own task row names alice's output (say, from before folder spaces): deleting it
    with its outputs deletes only what bob may write."""
    theirs = make_task(
        other_user,
        name="old",
        status=S.SUCCEEDED,
        output_location="/users/alice/out/cnn/",
        result={"artifacts_published": ["model/m.tflite"]},
    )
    client = as_user(client, other_user)
    response = client.post(
        reverse("conversions:batch_delete"),
        {"ids": [theirs.pk], "confirm": "1", "delete_outputs": "1"},
    )
    assert response.status_code == 302 and not ConversionTask.objects.filter(pk=theirs.pk).exists()
    assert untouched(alice_files[1])


def test_a_link_in_bobs_home_does_not_lead_into_alices(client, other_user, alice_files, home):
    (home(other_user) / "door").symlink_to(alice_files[1].parent.parent, target_is_directory=True)
    client = as_user(client, other_user)
    assert NO_ACCESS in browse(client, "door/models/")
    html = post_task(client, folder="door/models/cnn/", output_location="door/out/cnn/")
    assert f"{NO_ACCESS} door/models/cnn/" in html and f"{NO_WRITE} door/out/cnn/" in html
    assert not ConversionTask.objects.filter(owner=other_user).exists()


# Permission vocabulary


def test_visible_to_and_editable_by_are_one_rule(user, other_user, staff_user):
    task = make_task(user)
    for verb in ("visible_to", "editable_by"):
        assert list(getattr(ConversionTask.objects, verb)(user)) == [task]
        assert list(getattr(ConversionTask.objects, verb)(other_user)) == []
        assert list(getattr(ConversionTask.objects, verb)(staff_user)) == [task]


# Commands


def test_convert_acts_as_the_named_user(user, other_user, cnn_placeholder, builtin_templates):
    args = ["--template", "tensorflow-frozen-graph-to-tflite", "--output", "out/cli/"]
    args += ["--option=input_tensor_names=input", "--option=output_tensor_names=Identity"]
    with pytest.raises(CommandError, match=f"{NO_ACCESS} /users/alice/models/cnn/"):
        call_command("convert", *args, "--input", "/users/alice/models/cnn/", "--user", "bob")
    with pytest.raises(CommandError, match="Name the user to act as with --user"):
        call_command("convert", *args, "--input", cnn_placeholder)
    out = io.StringIO()
    call_command("convert", *args, "--input", cnn_placeholder, "--user", "alice", stdout=out)
    task = ConversionTask.objects.get(pk=int(out.getvalue()))
    assert task.owner == user and task.input_location == "models/cnn/"


def test_move_to_home_moves_old_folders_and_keeps_tasks_working(user, other_user, dirs):
    """Before folder spaces, alice's task named DATA_DIR/models/cnn/ as models/cnn/."""
    (dirs / "models/cnn/model").mkdir(parents=True)
    (dirs / "models/cnn/model/cnn.pb").write_bytes(PLACEHOLDER_PB)
    (dirs / "out/cnn").mkdir(parents=True)
    mine = make_task(user, name="old", status=S.SUCCEEDED)
    theirs = make_task(other_user, name="bobs", status=S.FAILED, output_location="out/bob/")
    with pytest.raises(locations.LocationError):
        mine.input_folder().check_input()
    out = io.StringIO()
    call_command("move_to_home", "alice", stdout=out)
    assert "moving" in out.getvalue() and not (dirs / "models").exists()
    mine.refresh_from_db()
    mine.input_folder().check_input()  # unchanged text, now in her home
    assert (dirs / "users/alice/models/cnn/model/cnn.pb").is_file()
    theirs.refresh_from_db()
    assert theirs.input_location == "/users/alice/models/cnn/"
    assert theirs.output_location == "/users/alice/out/bob/"
    with pytest.raises(CommandError, match="exists already"):
        (dirs / "models").mkdir()
        call_command("move_to_home", "alice", "models", stdout=io.StringIO())


def test_retry_says_at_once_when_the_owner_lost_access(client, user, other_user, alice_home):
    """bob's failed task read alice's folder through a grant that is gone: retry refuses plainly."""
    (alice_home / "models/cnn/model").mkdir(parents=True)
    task = make_task(
        other_user, name="granted", status=S.FAILED, input_location="/users/alice/models/cnn/"
    )
    client = as_user(client, other_user)
    response = client.post(reverse("conversions:retry", args=[task.pk]), follow=True)
    assert f"{NO_ACCESS} /users/alice/models/cnn/" in response.content.decode()
    assert ConversionTask.objects.get(pk=task.pk).status == S.FAILED
