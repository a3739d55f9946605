"""`python manage.py compile_translations`: .po -> .mo for every catalogue under LOCALE_PATHS.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh machine may lack; polib is pure
Python. A catalogue is compiled again only when its .po is newer than its .mo.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


def compile_catalogues(force: bool = False) -> list[Path]:
    """Compile stale catalogues; returns the .mo files written."""
    written = []
    for root in settings.LOCALE_PATHS:
        for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            if force or not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime:
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                written.append(mo_path)
    return written


class Command(BaseCommand):
    help = "Compile the translation catalogues (.po) into .mo files, without GNU gettext."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="compile even fresh catalogues")

    def handle(self, *args, **options):
        for path in compile_catalogues(options["force"]):
            self.stdout.write(f"compiled {path}")
