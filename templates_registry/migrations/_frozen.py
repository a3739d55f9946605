"""The built-in catalogue as migration 0007 left it, frozen for the data migrations 0002-0007.

A migration must not run today's catalogue code: the catalogue moves on (templates_registry's
post_migrate handler loads what it adds), while these migrations keep doing what they did when they
were written. `_catalogue_0007.json` holds the catalogue's templates and limits as they were then.
The leading underscore keeps Django's migration loader away from this module.
"""

import json
from pathlib import Path

_DATA = json.loads((Path(__file__).with_name("_catalogue_0007.json")).read_text(encoding="utf-8"))
TEMPLATES = _DATA["templates"]
LIMITS = _DATA["limits"]
FIELDS = (
    "name_en",
    "name_zh",
    "description_en",
    "description_zh",
    "chip",
    "framework",
    "model_format",
    "output_format",
    "converter",
    "queue",
)


def _values(entry: dict, position: int, known: set[str]) -> dict:
    values = {field: entry[field] for field in FIELDS}
    values.update(option_schema=entry["options"], position=position, builtin=True)
    values.update(LIMITS.get(entry["converter"], {}))
    return {field: value for field, value in values.items() if field in known}


def _known_fields(model) -> set[str]:
    """The historical model's fields: it may predate some of them."""
    return {f.name for f in model._meta.get_fields()}


def load(model) -> None:
    """Create the missing built-ins."""
    known = _known_fields(model)
    for position, entry in enumerate(TEMPLATES, start=1):
        if not model.objects.filter(slug=entry["slug"]).exists():
            model.objects.create(slug=entry["slug"], **_values(entry, position, known))


def apply_limits(model) -> None:
    """Give built-in templates the frozen limits (databases made before limits existed)."""
    for converter, limits in LIMITS.items():
        model.objects.filter(builtin=True, converter=converter).update(**limits)


def refresh(model, slugs: set[str]) -> None:
    """Create the missing built-ins, reset those named in `slugs` (their enabled flag is kept), and
    put every built-in at its position."""
    load(model)
    known = _known_fields(model)
    for position, entry in enumerate(TEMPLATES, start=1):
        builtins = model.objects.filter(slug=entry["slug"], builtin=True)
        if entry["slug"] in slugs:
            builtins.update(**_values(entry, position, known))
        else:
            builtins.update(position=position)
