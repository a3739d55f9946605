import json

from django import forms
from django.contrib import admin, messages

from templates_registry.builtin import FIELDS
from templates_registry.models import ConversionTemplate


class PrettyJSONField(forms.JSONField):
    """The option schema as indented JSON, one field per line, Chinese as it is written."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value  # what the admin typed, shown again with its error
        return json.dumps(value, ensure_ascii=False, indent=2)


class TemplateAdminForm(forms.ModelForm):
    class Meta:
        model = ConversionTemplate
        fields = [
            "slug",
            *FIELDS,
            "option_schema",
            "timeout_seconds",
            "cpu_seconds",
            "memory_mb",
            "enabled",
            "position",
        ]
        field_classes = {"option_schema": PrettyJSONField}
        help_texts = {
            "option_schema": (
                "A list of options. Each needs key, label_en and type; label_zh, choices, "
                "default, required, pattern, min_value, max_value, max_length, help_en and "
                "help_zh may be left out (empty, none or false)."
            )
        }
        widgets = {
            "option_schema": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "monospace"})
        }

    class Media:
        # A stylesheet, not a style attribute: the Content-Security-Policy allows no inline style.
        css = {"all": ["css/admin.css"]}


@admin.register(ConversionTemplate)
class ConversionTemplateAdmin(admin.ModelAdmin):
    form = TemplateAdminForm
    list_display = (
        "slug",
        "name_en",
        "name_zh",
        "chip",
        "framework",
        "model_format",
        "converter",
        "queue",
        "enabled",
        "builtin",
    )
    list_filter = ("enabled", "chip", "framework", "model_format", "converter", "builtin")
    list_editable = ("enabled",)
    search_fields = ("slug", "name_en", "name_zh", "description_en")
    readonly_fields = ("builtin",)
    actions = ("enable", "disable")

    @admin.action(description="Enable the selected templates")
    def enable(self, request, queryset):
        self.message_user(
            request, f"{queryset.update(enabled=True)} templates enabled.", messages.SUCCESS
        )

    @admin.action(description="Disable the selected templates")
    def disable(self, request, queryset):
        self.message_user(
            request, f"{queryset.update(enabled=False)} templates disabled.", messages.SUCCESS
        )

    def get_changeform_initial_data(self, request):
        return {"option_schema": []}
