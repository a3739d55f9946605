"""`python manage.py move_to_home USER [FOLDER ...]`: move folders of an old data directory into
a user's home, for the upgrade to folder spaces (README, "Upgrading: folder spaces").

Before folder spaces, `models/x/` named DATA_DIR/models/x/; now it names a folder in its owner's
home, DATA_DIR/users/<name>/models/x/. A task stores its folders as its owner wrote them, so once
a folder moves into the owner's home, that owner's tasks that name it work again unchanged. Tasks
of other users that named the moved folder are rewritten to its new place from the root
(`/users/<name>/models/x/`): they need a grant (or staff) to reach it, and the command lists them.
"""

import shutil
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q

from conversions import access
from conversions.locations import LocationError, check_path
from conversions.models import ConversionTask


class Command(BaseCommand):
    help = "Move top-level folders of the data directory into a user's home folder."

    def add_arguments(self, parser):
        parser.add_argument("user", help="the user whose home receives the folders")
        parser.add_argument(
            "folders",
            nargs="*",
            help="top-level folders of the data directory (default: every folder the user's "
            "tasks name)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would move, move nothing"
        )

    def handle(self, *args, **opts):
        try:
            user = access.acting_user(opts["user"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        root = Path(settings.DATA_DIR)
        names = opts["folders"] or self._named_by(user)
        moves = [self._check(root, name, user) for name in names]
        home = access.home_folder(user, create=not opts["dry_run"])
        for name, source in moves:
            target = home / name
            self.stdout.write(
                f"{'would move' if opts['dry_run'] else 'moving'} {source} -> {target}"
            )
            if opts["dry_run"]:
                continue
            shutil.move(str(source), str(target))
            self._rewrite_others(user, name)
        if not moves:
            self.stdout.write("Nothing to move.")

    def _named_by(self, user) -> list[str]:
        """The top-level local folders the user's tasks name, that are still at the root."""
        found = set()
        for task in ConversionTask.objects.filter(owner=user):
            for location in (task.input_location, task.output_location):
                if "://" not in location and not location.startswith("/"):
                    found.add(location.split("/")[0])
        return sorted(found - {access.USERS})

    def _check(self, root: Path, name: str, user) -> tuple[str, Path]:
        try:
            clean = check_path(name).rstrip("/")
        except LocationError as exc:
            raise CommandError(f"{name}: {exc}") from None
        if "/" in clean or clean == access.USERS:
            raise CommandError(
                f"{name}: name a top-level folder of the data directory (not users)."
            )
        source = root / clean
        if source.is_symlink() or not source.is_dir():
            raise CommandError(f"{name}: there is no folder {source}.")
        if (access.home_folder(user, create=False) / clean).exists():
            raise CommandError(
                f"{name}: {access.home_path(user)}{clean} exists already; nothing was moved."
            )
        return clean, source

    @transaction.atomic
    def _rewrite_others(self, user, name: str) -> None:
        """Other users' tasks that named `name/...` now name it from the root, in the user's home."""
        moved = f"/{access.home_path(user)}"
        for field in ("input_location", "output_location"):
            hits = Q(**{f"{field}__startswith": f"{name}/"}) | Q(**{field: name})
            for task in ConversionTask.objects.filter(hits).exclude(owner=user):
                old = getattr(task, field)
                setattr(task, field, moved + old)
                task.save(update_fields=[field])
                self.stdout.write(
                    f"task {task.pk} of {task.owner}: {field} {old} -> {moved + old} "
                    "(needs a grant to reach it)"
                )
