from django.core.management.base import BaseCommand

from templates_registry.builtin import load_builtin_templates
from templates_registry.models import ConversionTemplate


class Command(BaseCommand):
    help = "Load the built-in conversion templates (missing ones only, unless --reset)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Also restore built-ins edited in the admin."
        )

    def handle(self, *args, reset: bool = False, **options):
        created, updated = load_builtin_templates(ConversionTemplate, overwrite=reset)
        self.stdout.write(
            f"Built-in templates: {created} created, {updated} reset, {ConversionTemplate.objects.count()} in all."
        )
