"""Loading the built-in catalogue into the database (the post_migrate handler and `load_templates`).

The catalogue is every registered target's templates (conversions/converters/targets); a built-in
template gets its target's limits. The data migrations use a frozen copy (migrations/_frozen.py).
"""

from conversions.converters.targets import TARGETS, builtin_templates

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
    values.update(TARGETS[entry["converter"]].limits)
    return {field: value for field, value in values.items() if field in known}


def load_builtin_templates(
    model, *, overwrite: bool = False, using: str = "default"
) -> tuple[int, int]:
    """Create missing built-ins; with `overwrite`, also reset edited ones. Returns (created, updated).

    `model` is the ConversionTemplate class, or its historical version after a migrate.
    """
    created = updated = 0
    known = {f.name for f in model._meta.get_fields()}
    manager = model.objects.using(using)
    for position, entry in enumerate(builtin_templates(), start=1):
        values = _values(entry, position, known)
        template = manager.filter(slug=entry["slug"]).first()
        if template is None:
            manager.create(slug=entry["slug"], **values)
            created += 1
        elif overwrite:
            for field, value in values.items():
                setattr(template, field, value)
            template.save(using=using)
            updated += 1
    return created, updated
