from django.db import migrations

QUANTIZING_TEMPLATES = {
    "tensorflow-frozen-graph-to-tflite",
    "tensorflow-saved-model-to-tflite",
    "tensorflow-frozen-graph-to-tensorrt",
    "tensorflow-saved-model-to-tensorrt",
    "onnx-to-tensorrt",
}


def forward(apps, schema_editor):
    """Give the TFLite and TensorRT templates 8bit-mixed and keep_float_layers, TFLite also 16x8."""
    from templates_registry.builtin import refresh_builtin_templates

    refresh_builtin_templates(
        apps.get_model("templates_registry", "ConversionTemplate"), QUANTIZING_TEMPLATES
    )


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0004_tensorrt_templates")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
