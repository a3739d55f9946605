from django.db import migrations

CAFFE_TEMPLATES = {"caffe-to-tflite", "caffe-to-tensorrt", "caffe-to-onnx"}


def forward(apps, schema_editor):
    """Add caffe-to-tflite, caffe-to-tensorrt and caffe-to-onnx (issue 18) after onnx-to-tensorrt."""
    from templates_registry.migrations._frozen import refresh

    refresh(
        apps.get_model("templates_registry", "ConversionTemplate"), CAFFE_TEMPLATES
    )


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0006_caffe_ssd_option")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
