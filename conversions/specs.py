"""Job specs: a task as JSON that re-creates it anywhere (the API's create, `convert --spec`).

The spec's fields are the contract: `template` (slug), `name`, `description`, `input_location`,
`output_location`, `overwrite`, `options` (key -> value, as the template's option schema names
them). Unknown top-level fields are refused, so a typo never passes silently.
"""

from django.utils.translation import gettext as _

from conversions import access
from conversions.forms import OptionsForm, TaskForm, suggested_name
from templates_registry.models import ConversionTemplate

FIELDS = ("template", "name", "description", "input_location", "output_location", "overwrite")
SPEC_FIELDS = (*FIELDS, "options")


def export(task, user) -> dict:
    """The spec of `task`, its folders written so that `user` names the same ones."""
    return {
        "template": task.template.slug,
        "name": task.name,
        "description": task.description,
        "input_location": access.as_named_by(task.input_location, task.owner, user),
        "output_location": access.as_named_by(task.output_location, task.owner, user),
        "overwrite": task.overwrite,
        "options": dict(task.options),
    }


def unknown_fields(spec: dict) -> str:
    """The refusal of a spec's unknown top-level fields, or ''."""
    unknown = sorted(set(spec) - set(SPEC_FIELDS))
    if not unknown:
        return ""
    return _("Unknown fields %(unknown)s; a job spec has: %(fields)s.") % {
        "unknown": ", ".join(unknown),
        "fields": ", ".join(SPEC_FIELDS),
    }


def forms(owner, spec) -> tuple[TaskForm | None, OptionsForm | None, dict[str, list[str]]]:
    """(task form, options form, errors by field): the create form's rules applied to `spec`.

    The forms are validated; errors use the forms' own messages, with option errors under
    `options.<key>` and "" for the spec as a whole."""
    if not isinstance(spec, dict):
        return None, None, {"": [_("Send the job spec as a JSON object.")]}
    if unknown_fields(spec):
        return None, None, {"": [unknown_fields(spec)]}
    data = {key: spec[key] for key in FIELDS if spec.get(key) not in (None, "")}
    data = {k: v if isinstance(v, bool) else str(v) for k, v in data.items()}
    data.setdefault("name", suggested_name())
    data.setdefault("description", "")
    task_form = TaskForm(data, owner=owner)
    errors: dict[str, list[str]] = {}
    for field, messages in task_form.errors.items():
        errors.setdefault("" if field == "__all__" else field, []).extend(map(str, messages))
    template = ConversionTemplate.objects.enabled().filter(slug=data.get("template", "")).first()
    options = {} if spec.get("options") is None else spec["options"]
    if not isinstance(options, dict):
        errors.setdefault("options", []).append(_("Send the options as a JSON object."))
        return task_form, None, errors
    if template is None:
        return task_form, None, errors
    options_form = OptionsForm(template, {f"opt-{k}": form_value(v) for k, v in options.items()})
    if not options_form.is_valid():
        for field, messages in options_form.errors.items():
            key = "" if field == "__all__" else f"options.{field}"
            errors.setdefault(key, []).extend(map(str, messages))
    unknown = sorted(set(options) - set(options_form.fields))
    if unknown:
        errors.setdefault("options", []).append(
            _("Unknown options %(unknown)s; %(template)s takes: %(known)s.")
            % {
                "unknown": ", ".join(unknown),
                "template": template.slug,
                "known": ", ".join(options_form.fields) or _("none"),
            }
        )
    return task_form, options_form, errors


def form_value(value):
    """An option value as the form reads it: lists stay lists (several choices), the rest text."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return "" if value is None else str(value)
