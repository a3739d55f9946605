"""Who may touch which folder: the one access check behind every location a user names.

Each user has a home folder, `users/<encoded username>/` in the data directory; a location typed
without a leading slash (`models/mnist/`) lies inside it. `/shared/models/` names a folder from
the data directory's root, and `obs://bucket/prefix/` / `s3://bucket/prefix/` a folder of the
object store. Outside their home, a user reaches only what a FolderGrant (Django admin) gives them
or one of their groups: READ, or READ_WRITE. The operator's storage credentials reach every bucket,
so buckets are reachable only through a grant. Staff reach everything.

A grant covers its folder and everything below it; folders are compared by resolved identity (a
link inside the data directory is judged by where it leads), so `models/a/` never covers
`models/ab/`. A refusal names the folder as the user wrote it and never says whether it exists.
"""

import re
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.locations.rules import Listing, LocationError, check_path

READ = "read"
WRITE = "write"
USERS = "users"  # the folder of the data directory that holds the homes
SAFE = re.compile(r"[A-Za-z0-9._-]")


def home_name(username: str) -> str:
    """The home folder name of `username`: characters outside [A-Za-z0-9._-] (and a leading dot)
    become `~hh` per UTF-8 byte, so every Django username maps to one safe, distinct name."""
    out = []
    for index, char in enumerate(username):
        if SAFE.fullmatch(char) and not (index == 0 and char == "."):
            out.append(char)
        else:
            out.extend(f"~{byte:02x}" for byte in char.encode())
    return "".join(out) or "~"


def home_path(user) -> str:
    """The user's home, relative to the data directory's root: `users/alice/`."""
    return f"{USERS}/{home_name(user.get_username())}/"


def home_folder(user, *, create: bool = True) -> Path:
    """The user's home folder on disk (made on demand)."""
    folder = Path(settings.DATA_DIR) / home_path(user)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_staff(user) -> bool:
    return bool(user and user.is_active and (user.is_staff or user.is_superuser))


def normalize_grant(text: str) -> str:
    """The stored form of a grant's folder: `/a/b/`, or `scheme://bucket/prefix/`; LocationError."""
    from conversions.locations import OBJECT_SCHEMES
    from conversions.locations.s3 import parse_object

    text = (text or "").strip()
    if text.lower().startswith(OBJECT_SCHEMES):
        location = parse_object(text)
        return str(location)
    if not text.startswith("/") or not text.strip("/"):
        raise LocationError(
            _(
                "Name a folder from the root of the data directory, such as /shared/models/, or "
                "obs://bucket/prefix/ or s3://bucket/prefix/."
            )
        )
    return "/" + check_path(text[1:])


def grant_identity(location: str) -> str:
    """The identity a stored grant folder covers (compare with a location's `identity`)."""
    scheme, sep, rest = location.partition("://")
    if sep:
        return f"s3://{rest}"
    return str((Path(settings.DATA_DIR).resolve() / location.lstrip("/")).resolve()) + "/"


def _identity(location) -> str:
    if getattr(location, "scheme", None) and not location.bucket:
        return "s3://"  # the bucket list
    return location.identity


def reachable(user, need: str = READ) -> list[str]:
    """The identities `user` may reach with `need` (staff: not asked; they reach everything)."""
    from conversions.models import FolderGrant

    roots = [str(home_folder(user).resolve()) + "/"]
    grants = FolderGrant.objects.for_user(user)
    if need == WRITE:
        grants = grants.filter(access=FolderGrant.Access.READ_WRITE)
    roots += [grant_identity(location) for location in grants.values_list("location", flat=True)]
    return roots


def refusal(location, need: str) -> LocationError:
    if need == WRITE:
        return LocationError(
            _(
                "You have no write access to the folder %(path)s: write in your own folder, or "
                "ask an administrator for a read-write grant."
            )
            % {"path": location}
        )
    return LocationError(
        _(
            "You have no access to the folder %(path)s: use a folder of your own, or ask an "
            "administrator for a grant."
        )
        % {"path": location}
    )


def check(user, location, need: str = READ) -> None:
    """LocationError unless `user` may reach `location` with `need` (READ or WRITE)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise refusal(location, need)
    if is_staff(user):
        return
    identity = _identity(location)
    if not any(identity.startswith(root) for root in reachable(user, need)):
        raise refusal(location, need)


def browse(user, location, page: str = "") -> Listing:
    """One page of `location` for the folder browser. A folder the user may not read, but on the
    way to one they may (the data directory's root, a bucket), lists only the way there."""
    try:
        check(user, location, READ)
    except LocationError:
        identity = _identity(location)
        below = [r for r in reachable(user, READ) if r.startswith(identity) and r != identity]
        if not below:
            raise
        names = sorted({root[len(identity) :].split("/")[0] for root in below})
        return Listing(folders=names)
    return location.listing(page)


def roots(user) -> list[str]:
    """The roots the folder browser offers beside the home: "/" (the data directory) and the
    object stores, to staff and to users with a grant there."""
    from conversions.locations import OBJECT_SCHEMES

    if is_staff(user):
        local, objects = True, True
    else:
        from conversions.models import FolderGrant

        granted = list(FolderGrant.objects.for_user(user).values_list("location", flat=True))
        local = any(g.startswith("/") for g in granted)
        objects = any("://" in g for g in granted)
    found = ["/"] if local else []
    if objects and settings.S3_ENABLED:
        found += list(OBJECT_SCHEMES)
    return found


def as_named_by(location: str, owner, user) -> str:
    """`location` as `owner` wrote it, written so that `user` names the same folder: another
    user's `models/x/` is `/users/<owner>/models/x/` (create-similar by staff)."""
    if owner == user or location.startswith("/") or "://" in location:
        return location
    return "/" + home_path(owner) + location


def acting_user(username: str = ""):
    """The user a management command acts as (`--user`): `username`, else the only superuser.

    ValueError with the reason when there is no such active user, or no single superuser."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    if username:
        found = users.filter(username=username, is_active=True).first()
        if found is None:
            raise ValueError(f"No active user {username}.")
        return found
    superusers = list(users.filter(is_superuser=True, is_active=True).order_by("pk")[:2])
    if len(superusers) != 1:
        raise ValueError(
            "Name the user to act as with --user NAME (without it, the command acts as the only "
            f"superuser, and there are {'none' if not superusers else 'several'})."
        )
    return superusers[0]
