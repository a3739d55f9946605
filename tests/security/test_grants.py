"""Folder grants (issue 12, part 1): a grant gives a user or a group read or read-write access to a
folder or a bucket prefix and everything below it; staff reach everything; a task's input and
output never overlap. alice owns models/cnn/ and out/cnn/ in her home; bob holds the grants.
"""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse

from conversions import locations
from conversions.models import ConversionTask, FolderGrant
from tests.helpers import create_form
from tests.security.tenancy_kit import (
    NO_ACCESS,
    NO_WRITE,
    PRECIOUS,
    RW,
    R,
    as_user,
    browse,
    grant,
    post_task,
)
from tests.storage.conftest import _moto_server, buckets, s3  # noqa: F401 (a real S3 server)

pytestmark = pytest.mark.django_db


# Grants


def test_a_read_grant_lets_bob_read_alices_folder_but_not_write_it(
    client, user, other_user, alice_files
):
    grant("/users/alice/models/", user=other_user)
    client = as_user(client, other_user)
    assert "cnn/" in browse(client, "/users/alice/models/")
    html = post_task(client, folder="/users/alice/models/cnn/", output_location="/users/alice/x/")
    assert f"{NO_WRITE} /users/alice/x/" in html
    html = post_task(
        client, folder="/users/alice/models/cnn/", output_location="/users/alice/models/out/"
    )
    assert f"{NO_WRITE} /users/alice/models/out/" in html
    response = client.post(
        reverse("conversions:create"),
        create_form(folder="/users/alice/models/cnn/", output_location="out/from-alice/"),
    )
    assert response.status_code == 302
    task = ConversionTask.objects.get(owner=other_user)
    assert task.input_folder().identity == locations.parse("models/cnn/", user=user).identity


def test_a_grant_covers_its_folder_and_below_but_not_a_sibling_with_a_longer_name(
    user, other_user, alice_home
):
    grant("/users/alice/models/a/", user=other_user)
    assert locations.parse("/users/alice/models/a/deep/", user=other_user)
    with pytest.raises(locations.LocationError, match=NO_ACCESS):
        locations.parse("/users/alice/models/ab/", user=other_user)
    with pytest.raises(locations.LocationError, match=NO_ACCESS):
        locations.parse("/users/alice/models/", user=other_user)


def test_a_read_write_grant_lets_bob_write(client, other_user, alice_files, home):
    grant("/shared/", RW, user=other_user)
    (home(other_user) / "models/own/model").mkdir(parents=True)
    (home(other_user) / "models/own/model/m.pb").write_bytes(b"pb")
    client = as_user(client, other_user)
    response = client.post(
        reverse("conversions:create"),
        create_form(folder="models/own/", output_location="/shared/out/"),
    )
    assert response.status_code == 302
    assert locations.parse("/shared/out/", user=other_user, need=locations.WRITE)


def test_a_group_grant_reaches_its_members_only(user, other_user, staff_user, alice_home):
    team = Group.objects.create(name="team")
    other_user.groups.add(team)
    grant("/users/alice/models/", R, group=team)
    assert locations.parse("/users/alice/models/", user=other_user)
    with pytest.raises(locations.LocationError):
        locations.parse("/users/alice/models/", user=other_user, need=locations.WRITE)
    outsider = type(other_user).objects.create_user("dave", password="dave-pass-123")
    with pytest.raises(locations.LocationError):
        locations.parse("/users/alice/models/", user=outsider)


def test_the_browser_shows_a_grantee_the_way_to_the_granted_folder_only(
    client, other_user, alice_files, dirs
):
    (dirs / "secret").mkdir()
    grant("/users/alice/models/", user=other_user)
    client = as_user(client, other_user)
    assert 'path=/"' in browse(client, "")  # the data directory's root is offered
    root = browse(client, "/")
    assert "users/" in root and "secret/" not in root
    users = browse(client, "/users/")
    assert "alice/" in users and "bob/" in users
    assert "models/" in browse(client, "/users/alice/")
    assert "out/" not in browse(client, "/users/alice/")


def test_grants_are_validated_in_the_admin(user, other_user):
    team = Group.objects.create(name="team")
    for bad in ("models/x/", "/", "/a/../b/", "ftp://x/", ""):
        with pytest.raises(ValidationError):
            grant(bad, user=user)
    with pytest.raises(ValidationError, match="not both"):
        grant("/shared/", user=user, group=team)
    with pytest.raises(ValidationError, match="not both"):
        grant("/shared/", user=None)
    assert grant("/shared/a", user=user).location == "/shared/a/"


def test_the_admin_lists_and_adds_grants(admin_client, other_user):
    assert admin_client.get(reverse("admin:conversions_foldergrant_changelist")).status_code == 200
    response = admin_client.post(
        reverse("admin:conversions_foldergrant_add"),
        {"user": other_user.pk, "location": "/shared/x", "access": RW, "note": "project x"},
    )
    assert response.status_code == 302
    assert FolderGrant.objects.get().location == "/shared/x/"
    response = admin_client.post(
        reverse("admin:conversions_foldergrant_add"),
        {"user": other_user.pk, "location": "shared/x", "access": RW},
    )
    assert (
        response.status_code == 200 and "Name a folder from the root" in response.content.decode()
    )


# Staff


def test_staff_reach_every_folder_and_every_task(client, staff_user, alice_files):
    task, out = alice_files
    client = as_user(client, staff_user)
    assert "cnn/" in browse(client, "/users/alice/models/")
    url = reverse("conversions:artifact", args=[task.pk, "model/m.tflite"])
    assert b"".join(client.get(url).streaming_content) == PRECIOUS
    like = client.get(reverse("conversions:create"), {"like": task.pk}).content.decode()
    assert 'value="/users/alice/models/cnn/"' in like  # alice's folders, as staff name them
    assert 'value="/users/alice/out/cnn-2/"' in like  # a fresh output folder beside hers
    response = client.post(
        reverse("conversions:create"),
        create_form(folder="/users/alice/models/cnn/", output_location="/users/alice/out/new/"),
    )
    assert response.status_code == 302


# Object storage


def test_buckets_are_reachable_only_through_a_grant(
    client,
    other_user,
    staff_user,
    buckets,  # noqa: F811
):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"pb")
    client = as_user(client, other_user)
    html = post_task(client, folder="obs://models-in/cnn/", output_location="out/x/")
    assert f"{NO_ACCESS} obs://models-in/cnn/" in html
    assert NO_ACCESS in browse(client, "obs://models-in/")
    assert "models-in" not in browse(client, "obs://")
    grant("s3://models-in/cnn/", user=other_user)
    assert "models-in/" in browse(client, "obs://") and "models-out" not in browse(client, "obs://")
    response = client.post(
        reverse("conversions:create"),
        create_form(folder="obs://models-in/cnn/", output_location="out/x/"),
    )
    assert response.status_code == 302
    html = post_task(client, name="again", folder="out/x/", output_location="obs://models-out/y/")
    assert f"{NO_WRITE} obs://models-out/y/" in html
    assert locations.parse("obs://models-out/y/", user=staff_user, need=locations.WRITE)


# Overlap


@pytest.mark.parametrize(
    "output",
    ["models/cnn/", "models/cnn/out/", "models/", "/users/alice/models/cnn/converted/"],
)
def test_output_and_input_folders_may_not_overlap(client_alice, cnn_placeholder, output):
    html = post_task(client_alice, output_location=output)
    assert "overlap (one is the other, or lies inside it)" in html
    assert not ConversionTask.objects.exists()


def test_object_folders_may_not_overlap_whatever_the_scheme(
    client,
    staff_user,
    buckets,  # noqa: F811
):
    buckets.client.put_object(Bucket="models-in", Key="cnn/model/cnn.pb", Body=b"pb")
    client = as_user(client, staff_user)
    html = post_task(client, folder="obs://models-in/cnn/", output_location="s3://models-in/cnn/o/")
    assert "overlap" in html and not ConversionTask.objects.exists()
