from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken, Delivery, Webhook


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff see and revoke tokens; the digest is never shown and tokens are made on the profile page."""

    list_display = ("name", "user", "prefix", "created", "last_used", "revoked")
    list_filter = ("revoked",)
    search_fields = ("name", "user__username", "prefix")
    fields = ("user", "name", "prefix", "created", "last_used", "revoked")
    readonly_fields = ("user", "prefix", "created", "last_used")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            token.revoke()


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("url", "user", "created")
    search_fields = ("url", "user__username")
    exclude = ("secret",)

    def has_add_permission(self, request):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event",
        "task_id",
        "webhook",
        "attempts",
        "status_code",
        "delivered",
        "created",
    )
    list_filter = ("delivered",)

    def has_add_permission(self, request):
        return False
