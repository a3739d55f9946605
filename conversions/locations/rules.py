"""Path rules and errors shared by every kind of location (spec section 3.1).

A user-given folder and an object key are both untrusted path strings: the rules here decide what a
folder may be called, and which object keys may become files in a work directory.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.utils.translation import gettext as _

MAX_LENGTH = 1023
FORBIDDEN = re.compile(r'[\\:*?"|<>\x00-\x1f]')
REPORT = "report.json"
REPORT_READ_LIMIT = 1024 * 1024


class LocationError(ValueError):
    """A location a user gave cannot be used; the message says why."""


class StorageError(LocationError):
    """Object storage failed (unknown bucket, access denied, unreachable, timeout); in plain words."""


@dataclass
class Listing:
    """One page of one folder level: sub-folder names, (file name, size) pairs, the next page's token."""

    folders: list[str] = field(default_factory=list)
    files: list[tuple[str, int]] = field(default_factory=list)
    next_page: str = ""


def vouches_for_a_model(report: bytes | None) -> bool:
    """Whether a folder's report.json (None: there is none) means it holds a converted model.

    A failed task's report does not: the usual next step is to fix the options and convert into
    the same folder again. A report we cannot read counts as a model, to be safe.
    """
    if report is None:
        return False
    try:
        return json.loads(report).get("status") != "failed"
    except (ValueError, AttributeError):
        return True


def check_path(path: str) -> str:
    """The normalized relative path `a/b/` for a user-given path, or LocationError."""
    if not path or not path.strip():
        raise LocationError(_("Enter a folder."))
    path = path.strip()
    if len(path) > MAX_LENGTH:
        raise LocationError(_("The path is longer than %(n)d characters.") % {"n": MAX_LENGTH})
    if FORBIDDEN.search(path):
        raise LocationError(_('A path cannot contain \\ : * ? " | < > or control characters.'))
    if "//" in path:
        raise LocationError(_("A path cannot contain two slashes in a row."))
    parts = PurePosixPath(path).parts
    if any(part in ("..", ".") for part in parts):
        raise LocationError(_("A path cannot contain . or .. segments."))
    if path.startswith(("/", ".")):
        raise LocationError(
            _("Give a folder relative to the data directory, without a leading / or .")
        )
    return "/".join(parts) + "/"


def key_target(destination: Path, key: str, relative: str) -> Path:
    """Where object `key` (that is `relative` below the staged prefix) lands inside `destination`.

    Object keys are not paths: `..`, absolute keys, backslashes, empty segments (two keys could land
    on one file) and anything that resolves outside `destination` are refused, naming the key.
    """
    parts = relative.split("/")
    if (
        relative.startswith("/")
        or "\\" in relative
        or "\x00" in relative
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise LocationError(
            _(
                "The object %(key)s cannot be staged: keys with .. or . segments, a leading /, "
                "empty segments or backslashes are refused. Rename or remove it."
            )
            % {"key": key}
        )
    root = destination.resolve()
    target = (root / relative).resolve()
    if root not in target.parents:
        raise LocationError(
            _("The object %(key)s would land outside the input folder; it is refused.")
            % {"key": key}
        )
    return target


def check_total(total: int, limit_mb: int, location) -> None:
    """Refuse an input folder larger than the configured maximum model size."""
    if total > limit_mb * 1024 * 1024:
        raise LocationError(
            _(
                "The input folder %(location)s holds %(size)s, more than the %(limit)d MB this console "
                "accepts (MAX_MODEL_SIZE_MB)."
            )
            % {"location": location, "size": f"{total / 1024 / 1024:.1f} MB", "limit": limit_mb}
        )
