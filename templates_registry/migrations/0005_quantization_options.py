from django.db import migrations

VERIFIED_TEMPLATES = {
    "tensorflow-frozen-graph-to-tflite",
    "tensorflow-saved-model-to-tflite",
    "tensorflow-frozen-graph-to-tensorrt",
    "tensorflow-saved-model-to-tensorrt",
    "onnx-to-tensorrt",
}


def forward(apps, schema_editor):
    """Give the TFLite and TensorRT templates accuracy_tolerance (evaluation_data/), 8bit-mixed and
    keep_float_layers, and TFLite also 16x8."""
    from templates_registry.migrations._frozen import refresh

    refresh(
        apps.get_model("templates_registry", "ConversionTemplate"), VERIFIED_TEMPLATES
    )


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0004_tensorrt_templates")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
