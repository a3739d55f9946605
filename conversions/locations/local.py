"""A folder inside the local data directory (settings.DATA_DIR)."""

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.locations.rules import (
    REPORT,
    REPORT_READ_LIMIT,
    Listing,
    LocationError,
    check_path,
    check_total,
    vouches_for_a_model,
)


@dataclass(frozen=True)
class LocalLocation:
    """A folder inside the data directory."""

    path: str  # normalized, ends with "/"; "" is the data directory itself

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

    def check_input(self) -> None:
        """LocationError unless the folder exists (the form's early check)."""
        if not self.is_folder():
            raise LocationError(
                _("The folder %(path)s does not exist in the data directory.") % {"path": self.path}
            )

    def holds_converted_model(self) -> bool:
        report = self.folder / REPORT
        if not report.is_file():
            return False
        with report.open("rb") as handle:
            return vouches_for_a_model(handle.read(REPORT_READ_LIMIT))

    def stage_into(self, destination: Path) -> None:
        """Copy the folder's files into `destination`; links are refused, not followed."""
        source = self.folder
        if not source.is_dir():
            raise LocationError(
                _("The input folder %(path)s does not exist in the data directory.")
                % {"path": self.path}
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

        An old report.json goes first, so it never vouches for a set that is being replaced.
        """
        folder = self.folder
        (folder / REPORT).unlink(missing_ok=True)
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

    def listing(self, page: str = "") -> Listing:
        """One page of the entries directly inside the folder; `page` is an offset."""
        folder = self.folder
        if not folder.is_dir():
            return Listing()
        entries = sorted(
            (item for item in folder.iterdir() if not item.name.startswith(".")),
            key=lambda p: p.name,
        )
        start = int(page) if page.isdigit() else 0
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
        """A readable file handle for an artifact `name` inside the folder."""
        target = (self.folder / check_path(name).rstrip("/")).resolve()
        if self.folder not in target.parents or not target.is_file():
            raise LocationError(_("No such file: %(name)s") % {"name": name})
        return target.open("rb")
