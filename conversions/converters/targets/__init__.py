"""The targets: one Django-free spec per converter key, registered once (issue 17).

The converter registry, the probes, the queue routing, the built-in templates' limits and the
catalogue all read ``TARGETS``. The built-in targets are in this package, one module each; a new
one calls ``register(Target(...))`` (see the README, "Adding a target").
"""

from conversions.converters.targets.spec import Option, Target, Template, load, table

TARGETS: dict[str, Target] = {}


def register(target: Target) -> Target:
    """Add a target; its key and its template slugs must be new, its templates' option keys in its
    table (or their overrides)."""
    if target.key in TARGETS:
        raise ValueError(f"Target {target.key} is registered twice.")
    taken = {t.slug for other in TARGETS.values() for t in other.templates}
    twice = sorted(taken.intersection(t.slug for t in target.templates))
    if twice:
        raise ValueError(f"Template {', '.join(twice)} belongs to another target already.")
    for template in target.templates:
        replaced = {option.key for option in template.overrides}
        missing = [k for k in template.options if k not in target.options and k not in replaced]
        if missing:
            raise ValueError(f"Template {template.slug}: no option {', '.join(missing)}.")
    TARGETS[target.key] = target
    return target


def builtin_templates() -> list[dict]:
    """Every target's built-in templates, in catalogue order."""
    pairs = [(target, template) for target in TARGETS.values() for template in target.templates]
    pairs.sort(key=lambda pair: (pair[1].position, pair[1].slug))
    return [target.entry(template) for target, template in pairs]


def queue_for(converter: str, template_queue: str, options: dict) -> str:
    """The queue a task goes to: its target's rule, else the template's queue."""
    target = TARGETS.get(converter)
    if target is None or not target.queue_rule:
        return template_queue
    return load(target.queue_rule)(template_queue, options)


# The built-in targets register themselves on import.
from conversions.converters.targets import ascend, onnx, tensorrt, tflite  # noqa: E402, F401

__all__ = [
    "TARGETS",
    "Option",
    "Target",
    "Template",
    "builtin_templates",
    "load",
    "queue_for",
    "register",
    "table",
]
