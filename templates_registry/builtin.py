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


def load_builtin_templates(model, *, overwrite: bool = False) -> tuple[int, int]:
    """Create missing built-ins; with `overwrite`, also reset edited ones. Returns (created, updated).

    `model` is the ConversionTemplate class, or its historical version inside a migration.
    """
    created = updated = 0
    for position, entry in enumerate(BUILTIN_TEMPLATES, start=1):
        values = {field: entry[field] for field in FIELDS}
        values.update(option_schema=entry["options"], position=position, builtin=True)
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
