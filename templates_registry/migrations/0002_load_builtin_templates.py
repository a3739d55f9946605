from django.db import migrations


def load(apps, schema_editor):
    from templates_registry.migrations._frozen import load

    load(apps.get_model("templates_registry", "ConversionTemplate"))


def unload(apps, schema_editor):
    apps.get_model("templates_registry", "ConversionTemplate").objects.filter(builtin=True, tasks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("templates_registry", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
