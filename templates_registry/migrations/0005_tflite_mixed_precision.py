from django.db import migrations

TFLITE_TEMPLATES = {"tensorflow-frozen-graph-to-tflite", "tensorflow-saved-model-to-tflite"}


def forward(apps, schema_editor):
    """Give the TFLite templates the 16x8 and 8bit-mixed precisions and keep_float_layers."""
    from templates_registry.builtin import refresh_builtin_templates

    refresh_builtin_templates(
        apps.get_model("templates_registry", "ConversionTemplate"), TFLITE_TEMPLATES
    )


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0004_tensorrt_templates")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
