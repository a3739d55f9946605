from conversions.models import ConversionTask
from templates_registry.builtin import load_builtin_templates
from templates_registry.models import ConversionTemplate

TFLITE = "tensorflow-frozen-graph-to-tflite"


def make_task(
    owner, name="convert-demo", status=ConversionTask.Status.INITIALIZING, slug=TFLITE, **fields
):
    load_builtin_templates(
        ConversionTemplate
    )  # transactional tests flush what the data migration loaded
    template = ConversionTemplate.objects.get(slug=slug)
    fields.setdefault("input_location", "models/cnn/")
    fields.setdefault("output_location", "out/cnn/")
    return ConversionTask.objects.create(
        owner=owner, name=name, template=template, status=status, **fields
    )
