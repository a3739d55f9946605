"""What a target is: its options, its built-in templates and how the console runs it. Plain data.

Option schemas are declared once by key in a table (``Option``); a variant is a
``dataclasses.replace`` of the table's entry. A template lists its option keys in form order, as
the ModelArts spec's tables do, and may replace an entry of its target's table (``overrides``).
"""

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Option:
    """One advanced option of a template (the fields of templates_registry/options.py)."""

    key: str
    label_en: str
    label_zh: str
    type: str  # string, integer, choice, multichoice
    help_en: str
    help_zh: str
    choices: tuple[str, ...] = ()
    default: str | int | None = None
    required: bool = False
    pattern: str = ""  # matched against the whole value (re.fullmatch); "" is no pattern
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None

    def as_dict(self) -> dict:
        """The option as a template's option_schema holds it (JSON-ready)."""
        return {
            "key": self.key,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "type": self.type,
            "choices": list(self.choices),
            "default": self.default,
            "required": self.required,
            "pattern": self.pattern,
            "min_value": self.min_value,
            "max_value": self.max_value,
            "max_length": self.max_length,
            "help_en": self.help_en,
            "help_zh": self.help_zh,
        }


def table(*options: Option) -> dict[str, Option]:
    """An option table: the options by key (a key given twice is a mistake)."""
    by_key = {option.key: option for option in options}
    if len(by_key) != len(options):
        raise ValueError("An option table names a key twice.")
    return by_key


@dataclass(frozen=True)
class Template:
    """A built-in template of a target: what the console lists and the options it takes."""

    slug: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    framework: str  # caffe, tensorflow, onnx
    model_format: str  # caffemodel, frozen_graph, saved_model, onnx
    options: tuple[str, ...] = ()  # keys of the target's option table, in form order
    overrides: tuple[Option, ...] = ()  # replacements of table entries for this template only
    position: int = 1000  # place in the catalogue (the spec's order); ties go by slug


@dataclass(frozen=True)
class Target:
    """Everything the console needs to know about one converter key."""

    key: str  # the converter key templates name
    chip: str  # ascend, arm, gpu
    output_format: str  # om, tflite, engine, onnx
    converter: str  # dotted path of the converter class (imported in the converter child only)
    probe: str  # dotted path of a function () -> capabilities.Capability (cheap, imports nothing heavy)
    layout: str  # what the converter writes under model/ (for people: the README and the pages)
    options: dict[str, Option] = field(default_factory=dict)  # the option table
    templates: tuple[Template, ...] = ()
    limits: dict[str, int] = field(default_factory=dict)  # template limits other than the worker's
    queue: str = "cpu"  # the queue of the built-in templates
    queue_rule: str = (
        ""  # dotted path of (template_queue, options) -> queue; "" keeps the template's
    )

    def schema(self, template: Template) -> list[dict]:
        """The option schema of one of this target's templates."""
        replaced = {option.key: option for option in template.overrides}
        return [replaced.get(key, self.options.get(key)).as_dict() for key in template.options]

    def entry(self, template: Template) -> dict:
        """One template as the catalogue lists it."""
        return {
            "slug": template.slug,
            "name_en": template.name_en,
            "name_zh": template.name_zh,
            "description_en": template.description_en,
            "description_zh": template.description_zh,
            "chip": self.chip,
            "framework": template.framework,
            "model_format": template.model_format,
            "output_format": self.output_format,
            "converter": self.key,
            "queue": self.queue,
            "options": self.schema(template),
        }


def load(path: str) -> Any:
    """The object at a dotted path ("package.module.name")."""
    module_name, _, name = path.rpartition(".")
    return getattr(import_module(module_name), name)
