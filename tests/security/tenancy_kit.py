"""What the folder-space tests share (test_tenancy.py, test_grants.py): alice's files, bob's
attempts through the pages, and grants made as the admin makes them."""

from django.urls import reverse

from conversions.models import ConversionTask, FolderGrant
from tests.helpers import HTMX, create_form

S = ConversionTask.Status
R, RW = FolderGrant.Access.READ, FolderGrant.Access.READ_WRITE
PRECIOUS = b"alice's converted model"
NO_ACCESS = "You have no access to the folder"
NO_WRITE = "You have no write access to the folder"


def untouched(out) -> bool:
    return (out / "model" / "m.tflite").read_bytes() == PRECIOUS and (out / "report.json").exists()


def as_user(client, who):
    client.force_login(who)
    return client


def browse(client, path):
    url = reverse("conversions:browse")
    return client.get(url, {"field": "input_location", "path": path}, **HTMX).content.decode()


def post_task(client, **fields):
    return client.post(reverse("conversions:create"), create_form(**fields)).content.decode()


def grant(location, access_=R, **who):
    item = FolderGrant(location=location, access=access_, **who)
    item.full_clean()
    item.save()
    return item
