"""Locations: the folders a task reads from and writes to.

`models/resnet50/` is a folder inside the local data directory (settings.DATA_DIR);
`obs://bucket/prefix/` and `s3://bucket/prefix/` name object storage (settings S3_*). Every location
is checked against the path rules of spec section 3.1, and nothing may escape its root.

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
    "parse",
]


def parse(location: str, *, root_ok: bool = False):
    """The location object for a user-given string, or LocationError with the reason.

    `root_ok` lets the folder browser name the roots themselves: "" (the data directory) and
    `obs://` / `s3://` (the bucket list); a task's folder can be neither.
    """
    text = (location or "").strip()
    if text.lower().startswith(OBJECT_SCHEMES):
        return parse_object(text, root_ok=root_ok)
    if "://" in text:
        raise LocationError(
            _("Use a folder of the data directory, or obs://bucket/prefix/ or s3://bucket/prefix/.")
        )
    if not text and root_ok:
        return LocalLocation("")
    return LocalLocation(check_path(text))
