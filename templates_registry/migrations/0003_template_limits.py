# Per-template limits on one conversion; built-ins get the limits frozen in _catalogue_0007.json.

from django.db import migrations, models

from templates_registry.migrations._frozen import apply_limits


def forwards(apps, schema_editor):
    apply_limits(apps.get_model("templates_registry", "ConversionTemplate"))


class Migration(migrations.Migration):

    dependencies = [
        ('templates_registry', '0002_load_builtin_templates'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversiontemplate',
            name='cpu_seconds',
            field=models.PositiveIntegerField(blank=True, help_text="Empty: the worker's setting.", null=True, verbose_name='CPU time limit (s)'),
        ),
        migrations.AddField(
            model_name='conversiontemplate',
            name='memory_mb',
            field=models.PositiveIntegerField(blank=True, help_text="Empty: the worker's setting.", null=True, verbose_name='memory limit (MB)'),
        ),
        migrations.AddField(
            model_name='conversiontemplate',
            name='timeout_seconds',
            field=models.PositiveIntegerField(blank=True, help_text="Empty: the worker's setting.", null=True, verbose_name='wall-clock limit (s)'),
        ),        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
