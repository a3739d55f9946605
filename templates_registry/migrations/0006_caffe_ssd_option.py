from django.db import migrations

CAFFE_TEMPLATES = {"caffe-to-ascend"}


def forward(apps, schema_editor):
    """Give caffe-to-ascend the ssd_detection_output option (refuse, rewrite or keep)."""
    from templates_registry.migrations._frozen import refresh

    refresh(
        apps.get_model("templates_registry", "ConversionTemplate"), CAFFE_TEMPLATES
    )


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0005_quantization_options")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
