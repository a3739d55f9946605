import json

from django import forms
from django.contrib import admin, messages

from templates_registry.builtin import FIELDS
from templates_registry.models import ConversionTemplate


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
        return {"option_schema": json.dumps([])}
