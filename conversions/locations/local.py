"""A folder inside the local data directory (settings.DATA_DIR)."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.locations import nofollow
from conversions.locations.rules import (
    REPORT,
    REPORT_READ_LIMIT,
    Listing,
    LocationError,
    check_path,
    check_total,
    vouches_for_a_model,
)
from conversions.params import positive_int


@dataclass(frozen=True)
class LocalLocation:
    """A folder inside the data directory."""

    path: str  # from the data directory's root, normalized, ends with "/"; "" is the root itself
    shown: str | None = None  # as its user names it (`models/x/`, `/shared/x/`); None: `path`

    def __str__(self) -> str:
        return self.path if self.shown is None else self.shown

    @property
    def root(self) -> Path:
        return Path(settings.DATA_DIR).resolve()

    @property
    def folder(self) -> Path:
        folder = (self.root / self.path).resolve()
        if folder != self.root and self.root not in folder.parents:
            raise LocationError(
                _("The folder %(path)s leads outside the data directory.") % {"path": self}
            )
        return folder

    @property
    def identity(self) -> str:
        """The resolved absolute folder: two locations naming one folder have one identity."""
        return str(self.folder) + "/"

    def _parts(self) -> list[str]:
        return [part for part in self.path.split("/") if part]

    def is_folder(self) -> bool:
        return self.folder.is_dir()

    def check_input(self) -> None:
        """LocationError unless the folder exists (the form's early check)."""
        if not self.is_folder():
            raise LocationError(
                _("The folder %(path)s does not exist in the data directory.") % {"path": self}
            )

    def holds_converted_model(self) -> bool:
        try:
            with nofollow.opened(self.root, self._parts()) as folder:
                report = nofollow.open_regular(folder, REPORT)  # a link vouches for nothing
        except (FileNotFoundError, NotADirectoryError, LocationError):
            return False
        if report is None:
            return False
        with report:
            return vouches_for_a_model(report.read(REPORT_READ_LIMIT))

    def stage_into(self, destination: Path) -> None:
        """Copy the folder's files into `destination`; links are refused, not followed."""
        source = self.folder
        if not source.is_dir():
            raise LocationError(
                _("The input folder %(path)s does not exist in the data directory.")
                % {"path": self}
            )
        items = sorted(source.rglob("*"))
        for item in items:
            if item.is_symlink():
                raise LocationError(
                    _("The input folder holds a link (%(name)s): links are not followed.")
                    % {"name": item.relative_to(source)}
                )
        check_total(
            sum(item.stat().st_size for item in items if item.is_file()),
            settings.MAX_MODEL_SIZE_MB,
            self,
        )
        for item in items:
            target = destination / item.relative_to(source)
            if item.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            elif item.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item, target)

    def publish(self, files: list[tuple[Path, str]]) -> None:
        """Write (local file, relative name) pairs in the order given: report.json comes last.

        An old report.json goes first, so it never vouches for a set that is being replaced. No link
        is followed: one anywhere in the output folder (or on the way to it) is refused by name.
        """
        with nofollow.opened(self.root, self._parts(), create=True) as folder:
            link = nofollow.find_link(folder)
            if link:
                raise nofollow.link_refused(f"{self}{link}")
            nofollow.unlink_regular(folder, REPORT)
            for source, name in files:
                *subfolders, leaf = check_path(name).rstrip("/").split("/")
                with nofollow.opened(folder, subfolders, create=True, shown=str(self)) as target:
                    nofollow.write_file(
                        target, leaf, source, str(self) + "/".join([*subfolders, leaf])
                    )

    def remove(self, names: list[str]) -> int:
        """Delete the named files of the folder (a task's published artifacts), then the sub-folders
        this left empty. The folder itself and anything not named stay; links are not followed.
        Returns the files deleted."""
        try:
            with nofollow.opened(self.root, self._parts()) as folder:
                return sum(self._remove_one(folder, name) for name in names)
        except (FileNotFoundError, LocationError):
            return 0

    def _remove_one(self, folder: int, name: str) -> int:
        try:
            *subfolders, leaf = check_path(name).rstrip("/").split("/")
            with nofollow.opened(folder, subfolders) as parent:
                if not nofollow.unlink_regular(parent, leaf):
                    return 0
        except (FileNotFoundError, LocationError):
            return 0
        for depth in range(len(subfolders), 0, -1):
            with nofollow.opened(folder, subfolders[: depth - 1]) as parent:
                try:
                    os.rmdir(subfolders[depth - 1], dir_fd=parent)
                except OSError:  # not empty (or not a folder): it stays, and so do those above
                    break
        return 1

    def listing(self, page: str = "") -> Listing:
        """One page of the entries directly inside the folder; `page` is an offset."""
        folder = self.folder
        if not folder.is_dir():
            return Listing()
        entries = sorted(
            (item for item in folder.iterdir() if not item.name.startswith(".")),
            key=lambda p: p.name,
        )
        start = positive_int(page, 0)
        end = start + settings.BROWSE_PAGE_SIZE
        listing = Listing(next_page=str(end) if end < len(entries) else "")
        for item in entries[start:end]:
            if item.is_symlink():
                continue
            if item.is_dir():
                listing.folders.append(item.name)
            elif item.is_file():
                listing.files.append((item.name, item.stat().st_size))
        return listing

    def sizes(self, names: list[str]) -> dict[str, int]:
        """{name: size} for those of `names` that are files in the folder."""
        found = {}
        for name in names:
            path = self.folder / name
            if path.is_file():
                found[name] = path.stat().st_size
        return found

    def open_file(self, name: str):
        """A readable file handle for an artifact `name` inside the folder (links not followed)."""
        *subfolders, leaf = check_path(name).rstrip("/").split("/")
        handle = None
        try:
            with nofollow.opened(self.root, [*self._parts(), *subfolders]) as parent:
                handle = nofollow.open_regular(parent, leaf)
        except (FileNotFoundError, NotADirectoryError, LocationError):
            pass
        if handle is None:
            raise LocationError(_("No such file: %(name)s") % {"name": name})
        return handle
