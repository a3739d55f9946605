"""Loading the built-in catalogue into the database (used by data migrations and `load_templates`)."""

from templates_registry.catalogue import BUILTIN_TEMPLATES

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


def _values(entry: dict, position: int) -> dict:
    values = {field: entry[field] for field in FIELDS}
    values.update(option_schema=entry["options"], position=position, builtin=True)
    return values


def load_builtin_templates(model, *, overwrite: bool = False) -> tuple[int, int]:
    """Create missing built-ins; with `overwrite`, also reset edited ones. Returns (created, updated).

    `model` is the ConversionTemplate class, or its historical version inside a migration.
    """
    created = updated = 0
    for position, entry in enumerate(BUILTIN_TEMPLATES, start=1):
        values = _values(entry, position)
        template = model.objects.filter(slug=entry["slug"]).first()
        if template is None:
            model.objects.create(slug=entry["slug"], **values)
            created += 1
        elif overwrite:
            for field, value in values.items():
                setattr(template, field, value)
            template.save()
            updated += 1
    return created, updated


def refresh_builtin_templates(model, slugs: set[str]) -> None:
    """For a data migration that changes the catalogue: create the missing built-ins, reset the ones
    named in `slugs` to the catalogue (their enabled flag is kept), and put every built-in at its
    catalogue position."""
    load_builtin_templates(model)
    for position, entry in enumerate(BUILTIN_TEMPLATES, start=1):
        builtins = model.objects.filter(slug=entry["slug"], builtin=True)
        if entry["slug"] in slugs:
            builtins.update(**_values(entry, position))
        else:
            builtins.update(position=position)
