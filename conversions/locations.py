"""Locations: the folders a task reads from and writes to.

`models/resnet50/` is a folder inside the local data directory (settings.DATA_DIR);
`obs://bucket/prefix/` and `s3://bucket/prefix/` name object storage. Every location is checked
against the path rules of spec section 3.1, and nothing may escape its root.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _

MAX_LENGTH = 1023
FORBIDDEN = re.compile(r'[\\:*?"|<>\x00-\x1f]')
OBJECT_SCHEMES = ("obs://", "s3://")
# A folder that holds one of these already holds a converted model.
CONVERTED_MARKERS = ("report.json",)


class LocationError(ValueError):
    """A location a user gave cannot be used; the message says why."""


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


@dataclass(frozen=True)
class LocalLocation:
    """A folder inside the data directory."""

    path: str  # normalized, ends with "/"

    def __str__(self) -> str:
        return self.path

    @property
    def root(self) -> Path:
        return Path(settings.DATA_DIR).resolve()

    @property
    def folder(self) -> Path:
        folder = (self.root / self.path).resolve()
        if folder != self.root and self.root not in folder.parents:
            raise LocationError(
                _("The folder %(path)s leads outside the data directory.") % {"path": self.path}
            )
        return folder

    def is_folder(self) -> bool:
        return self.folder.is_dir()

    def holds_converted_model(self) -> bool:
        return any((self.folder / marker).exists() for marker in CONVERTED_MARKERS)

    def stage_into(self, destination: Path) -> None:
        """Copy the folder's files into `destination`; links are refused, not followed."""
        source = self.folder
        if not source.is_dir():
            raise LocationError(
                _("The input folder %(path)s does not exist in the data directory.")
                % {"path": self.path}
            )
        for item in sorted(source.rglob("*")):
            relative = item.relative_to(source)
            if item.is_symlink():
                raise LocationError(
                    _("The input folder holds a link (%(name)s): links are not followed.")
                    % {"name": relative}
                )
            target = destination / relative
            if item.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif item.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item, target)

    def publish(self, files: list[tuple[Path, str]]) -> None:
        """Write (local file, relative name) pairs in the order given: report.json comes last."""
        folder = self.folder
        for source, name in files:
            target = (folder / name).resolve()
            if folder not in target.parents:
                raise LocationError(f"refusing to write {name} outside the output folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(source, partial)
            partial.replace(target)

    def remove(self, names: list[str]) -> int:
        """Delete the named files of the folder (a task's published artifacts), then the sub-folders
        this left empty. The folder itself and anything not named stay. Returns the files deleted."""
        folder, removed = self.folder, 0
        for name in names:
            target = (folder / name).resolve()
            if folder not in target.parents or not target.is_file():
                continue
            target.unlink()
            removed += 1
            parent = target.parent
            while parent != folder and folder in parent.parents and not any(parent.iterdir()):
                parent.rmdir()
                parent = parent.parent
        return removed

    def listing(self) -> tuple[list[str], list[tuple[str, int]]]:
        """(sub-folder names, (file name, size) pairs) directly inside the folder."""
        folder = self.folder
        if not folder.is_dir():
            return [], []
        folders, files = [], []
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.is_symlink() or item.name.startswith("."):
                continue
            if item.is_dir():
                folders.append(item.name)
            elif item.is_file():
                files.append((item.name, item.stat().st_size))
        return folders, files

    def open_file(self, name: str):
        """A readable file handle for an artifact `name` inside the folder."""
        target = (self.folder / check_path(name).rstrip("/")).resolve()
        if self.folder not in target.parents or not target.is_file():
            raise LocationError(_("No such file: %(name)s") % {"name": name})
        return target.open("rb")


def parse(location: str):
    """The location object for a user-given string, or LocationError with the reason."""
    text = (location or "").strip()
    if text.lower().startswith(OBJECT_SCHEMES):
        raise LocationError(
            _(
                "Object storage (obs:// and s3://) is not configured on this console yet: use a folder of the data directory."
            )
        )
    if "://" in text:
        raise LocationError(
            _("Use a folder of the data directory, or obs://bucket/prefix/ or s3://bucket/prefix/.")
        )
    return LocalLocation(check_path(text))
