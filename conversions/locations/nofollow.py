"""Local folders walked and written through directory descriptors, never through a link.

Every step down opens the next folder with O_NOFOLLOW relative to the one above, so a folder
swapped for a link mid-way is refused rather than followed. Files are written under a fresh name
made with O_CREAT|O_EXCL|O_NOFOLLOW in their own folder, then renamed over the final name: nothing
planted in the output (a `.partial` link, a link at the final name) is ever written through.
"""

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import gettext as _

from conversions.locations.rules import LocationError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def link_refused(shown: str) -> LocationError:
    return LocationError(
        _(
            "The output folder holds a link (%(name)s): links are not followed, and nothing was "
            "written through it. Remove the link and retry."
        )
        % {"name": shown}
    )


@contextmanager
def opened(
    start: Path | int, parts: list[str], *, create: bool = False, shown: str = ""
) -> Iterator[int]:
    """A descriptor of the folder `parts` below `start` (a path, or a folder descriptor).

    `create` makes missing folders. A link on the way is refused (LocationError naming it,
    `shown` + the parts walked); FileNotFoundError when a folder is missing and not created.
    """
    fd = (
        os.open(start, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        if isinstance(start, Path)
        else os.dup(start)
    )
    walked = shown
    try:
        for part in parts:
            walked += part + "/"
            parent, fd = fd, -1  # _step closes the parent, whatever happens
            fd = _step(parent, part, create, walked)
        yield fd
    finally:
        if fd >= 0:
            os.close(fd)


def _step(parent: int, part: str, create: bool, walked: str) -> int:
    """The descriptor of folder `part` inside `parent`; closes `parent`."""
    try:
        for _attempt in range(2):
            try:
                return os.open(part, DIR_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o777, dir_fd=parent)
                except FileExistsError:
                    pass  # made by someone else meanwhile: open what is there, links refused
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                if stat.S_ISLNK(os.lstat(part, dir_fd=parent).st_mode):
                    raise link_refused(walked.rstrip("/")) from None
                raise LocationError(
                    _("%(name)s is a file where a folder is needed.") % {"name": walked.rstrip("/")}
                ) from None
        raise FileNotFoundError(walked)
    finally:
        os.close(parent)


def find_link(fd: int, prefix: str = "") -> str | None:
    """The first link anywhere below the folder `fd` (its relative name), or None."""
    with os.scandir(fd) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.is_symlink():
                return prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                try:
                    sub = os.open(entry.name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    return prefix + entry.name  # swapped for a link since it was listed
                try:
                    found = find_link(sub, f"{prefix}{entry.name}/")
                finally:
                    os.close(sub)
                if found:
                    return found
    return None


def write_file(folder: int, name: str, source: Path, shown: str) -> None:
    """Copy `source` to `name` in the folder `folder`: a fresh private file, renamed into place."""
    scratch = f".{name}.{secrets.token_hex(6)}.tmp"
    out = os.open(scratch, NEW_FILE, 0o666, dir_fd=folder)
    try:
        with open(source, "rb") as reader, os.fdopen(out, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1024 * 1024)
        if _is_link(folder, name):
            raise link_refused(shown)
        os.rename(scratch, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(scratch, dir_fd=folder)
        except FileNotFoundError:
            pass
        raise


def _is_link(folder: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(name, dir_fd=folder).st_mode)
    except FileNotFoundError:
        return False


def open_regular(folder: int, name: str):
    """A binary reader of the regular file `name` in `folder`; None for a link, folder or nothing."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return os.fdopen(fd, "rb")


def unlink_regular(folder: int, name: str) -> bool:
    """Delete `name` in `folder` when it is a regular file (never what a link points to)."""
    try:
        if not stat.S_ISREG(os.lstat(name, dir_fd=folder).st_mode):
            return False
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        return False
    return True
