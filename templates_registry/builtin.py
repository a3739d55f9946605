"""Loading the built-in catalogue into the database (used by a data migration and `load_templates`)."""

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


# Limits that differ from the worker's settings, by converter: engine builds and ATC take longer and
# more memory than a TFLite conversion of the same model.
BUILTIN_LIMITS = {
    "tensorrt": {"timeout_seconds": 1800, "memory_mb": 6144},
    "ascend": {"timeout_seconds": 1800},
}


def _values(entry: dict, position: int, known: set[str]) -> dict:
    values = {field: entry[field] for field in FIELDS}
    values.update(option_schema=entry["options"], position=position, builtin=True)
    values.update(BUILTIN_LIMITS.get(entry["converter"], {}))
    return {field: value for field, value in values.items() if field in known}


def _known_fields(model) -> set[str]:
    """The model's fields: a migration's historical model may predate some of them."""
    return {f.name for f in model._meta.get_fields()}


def load_builtin_templates(model, *, overwrite: bool = False) -> tuple[int, int]:
    """Create missing built-ins; with `overwrite`, also reset edited ones. Returns (created, updated).

    `model` is the ConversionTemplate class, or its historical version inside a migration.
    """
    created = updated = 0
    known = _known_fields(model)
    for position, entry in enumerate(BUILTIN_TEMPLATES, start=1):
        values = _values(entry, position, known)
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


def apply_builtin_limits(model) -> None:
    """Give built-in templates the limits of BUILTIN_LIMITS (for databases made before limits existed)."""
    for converter, limits in BUILTIN_LIMITS.items():
        model.objects.filter(builtin=True, converter=converter).update(**limits)


def refresh_builtin_templates(model, slugs: set[str]) -> None:
    """For a data migration that changes the catalogue: create the missing built-ins, reset the ones
    named in `slugs` to the catalogue (their enabled flag is kept), and put every built-in at its
    catalogue position."""
    load_builtin_templates(model)
    known = _known_fields(model)
    for position, entry in enumerate(BUILTIN_TEMPLATES, start=1):
        builtins = model.objects.filter(slug=entry["slug"], builtin=True)
        if entry["slug"] in slugs:
            builtins.update(**_values(entry, position, known))
        else:
            builtins.update(position=position)
