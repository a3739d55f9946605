from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def load_builtins(sender, apps=global_apps, using=DEFAULT_DB_ALIAS, **kwargs):
    """After every migrate: create the built-in templates the catalogue has and the database lacks
    (what `load_templates` does), also after a flush. Edited built-ins are left alone;
    `load_templates --reset` resets them."""
    from templates_registry.builtin import load_builtin_templates

    try:
        model = apps.get_model("templates_registry", "ConversionTemplate")
    except LookupError:  # migrated backwards past 0001
        return
    load_builtin_templates(model, using=using)


class TemplatesRegistryConfig(AppConfig):
    name = "templates_registry"
    verbose_name = "Conversion templates"

    def ready(self):
        post_migrate.connect(load_builtins, sender=self, dispatch_uid="templates_registry.builtins")
