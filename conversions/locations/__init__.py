"""Locations: the folders a task reads from and writes to.

`models/resnet50/` is a folder inside the user's home (`users/<name>/` in settings.DATA_DIR);
`/shared/models/` a folder from the data directory's root; `obs://bucket/prefix/` and
`s3://bucket/prefix/` name object storage (settings S3_*). Every location is checked against the
path rules of spec section 3.1, nothing may escape its root, and `parse` puts every one through
the access check of conversions/access.py for the user who names it.

Both kinds offer the same methods: is_folder, check_input, holds_converted_model, stage_into,
publish, listing, sizes, open_file.
"""

from django.utils.translation import gettext as _

from conversions.locations.local import LocalLocation
from conversions.locations.rules import (
    Listing,
    LocationError,
    StorageError,
    check_path,
)
from conversions.locations.s3 import SCHEMES, S3Location, parse_object

OBJECT_SCHEMES = tuple(f"{scheme}://" for scheme in SCHEMES)

__all__ = [
    "OBJECT_SCHEMES",
    "Listing",
    "LocalLocation",
    "LocationError",
    "S3Location",
    "StorageError",
    "check_path",
    "READ",
    "WRITE",
    "parse",
    "overlap",
]

READ, WRITE = "read", "write"


def parse(location: str, *, user, need: str = READ, root_ok: bool = False):
    """The location object for a string `user` gave, or LocationError with the reason.

    `need` is READ or WRITE: a location `user` may not reach that way is refused (access.check),
    in the same words whether or not the folder exists. `root_ok` lets the folder browser name the
    roots themselves: "" (the user's home), "/" (the data directory) and `obs://` / `s3://` (the
    bucket list); a task's folder can be none of them.
    """
    from conversions import access

    found = locate(location, user=user, root_ok=root_ok)
    access.check(user, found, need)
    return found


def locate(location: str, *, user, root_ok: bool = False):
    """The location object for `location` as `user` names it, without the access check: only for
    callers that check (access.browse) or that act for no user (manage.py move_to_home)."""
    from conversions import access

    text = (location or "").strip()
    if text.lower().startswith(OBJECT_SCHEMES):
        return parse_object(text, root_ok=root_ok)
    if "://" in text:
        raise LocationError(
            _(
                "Use a folder of your own (models/x/), a folder of the data directory (/shared/x/), "
                "or obs://bucket/prefix/ or s3://bucket/prefix/."
            )
        )
    if text.startswith("/"):
        if not text.strip("/") and root_ok:
            return LocalLocation("", "/")
        path = check_path(text[1:])
        return LocalLocation(path, "/" + path)
    if user is None:
        raise LocationError(_("Name a folder from the root of the data directory: /models/x/."))
    home = access.home_path(user)
    access.home_folder(user)
    if not text and root_ok:
        return LocalLocation(home, "")
    path = check_path(text)
    return LocalLocation(home + path, path)


def overlap(first, second) -> bool:
    """Whether two locations are one folder, or one lies inside the other (resolved identities)."""
    a, b = first.identity, second.identity
    return a.startswith(b) or b.startswith(a)
