"""Helpers the tests share (fixtures live in the conftest files): one place, imported by name."""

import time

from conversions.models import ConversionTask
from templates_registry.builtin import load_builtin_templates
from templates_registry.models import ConversionTemplate

TFLITE = "tensorflow-frozen-graph-to-tflite"

# The options of the small CNN (tests/modelkit.small_cnn) on the ARM frozen-graph template.
CNN_OPTIONS = {
    "input_tensor_names": "input",
    "output_tensor_names": "Identity",
    "quantization_precision": "32bit",
}

# Not a graph: a converter would refuse it as truncated. Only for tests where nothing converts.
PLACEHOLDER_PB = b"placeholder frozen graph: nothing converts it"

HTMX = {"HTTP_HX_REQUEST": "true"}


def wait_for(
    predicate, *, timeout: float = 120, interval: float = 0.2, what: str = "the condition"
):
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def builtin_template(slug: str = TFLITE) -> ConversionTemplate:
    """The built-in template `slug`, loading the catalogue only when it is missing: the data
    migration loaded it, and only a transactional test's flush removes it."""
    template = ConversionTemplate.objects.filter(slug=slug).first()
    if template is None:
        load_builtin_templates(ConversionTemplate)
        template = ConversionTemplate.objects.get(slug=slug)
    return template


def make_task(
    owner, name="convert-demo", status=ConversionTask.Status.INITIALIZING, slug=TFLITE, **fields
):
    """A task row as the console stores it (nothing is enqueued or converted)."""
    fields.setdefault("input_location", "models/cnn/")
    fields.setdefault("output_location", "out/cnn/")
    return ConversionTask.objects.create(
        owner=owner, name=name, template=builtin_template(slug), status=status, **fields
    )


def create_form(folder="models/cnn/", **overrides) -> dict:
    """The create page's POST data for the CNN on the ARM frozen-graph template."""
    data = {
        "name": "convert-ab12",
        "description": "first try",
        "template": TFLITE,
        "input_location": folder,
        "output_location": "out/cnn/",
        **{f"opt-{k}": v for k, v in CNN_OPTIONS.items()},
    }
    data.update(overrides)
    return data
