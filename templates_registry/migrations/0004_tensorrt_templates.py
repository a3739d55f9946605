from django.db import migrations

TENSORRT_TEMPLATES = {
    "tensorflow-frozen-graph-to-tensorrt",
    "tensorflow-saved-model-to-tensorrt",
    "onnx-to-tensorrt",
}


def forward(apps, schema_editor):
    """Add onnx-to-tensorrt; give the TensorRT templates their target GPU, engine builder and opset options."""
    from templates_registry.migrations._frozen import refresh

    refresh(apps.get_model("templates_registry", "ConversionTemplate"), TENSORRT_TEMPLATES)


def backward(apps, schema_editor):
    apps.get_model("templates_registry", "ConversionTemplate").objects.filter(
        slug="onnx-to-tensorrt", builtin=True, tasks__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0003_template_limits")]
    operations = [migrations.RunPython(forward, backward)]
