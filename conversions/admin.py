from django.contrib import admin

from conversions.models import ConversionTask, FolderGrant, Worker


@admin.register(ConversionTask)
class ConversionTaskAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "template", "status", "stage", "created", "finished")
    list_filter = ("status", "template__chip", "template")
    search_fields = ("name", "owner__username")
    readonly_fields = (
        "status",
        "stage",
        "progress",
        "attempt",
        "heartbeat",
        "worker",
        "started",
        "finished",
        "result",
        "error_message",
    )


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("name", "state", "queues", "started", "last_seen")
    list_filter = ("state",)
    readonly_fields = ("name", "host", "pid", "queues", "capabilities", "started", "last_seen")


@admin.register(FolderGrant)
class FolderGrantAdmin(admin.ModelAdmin):
    """Grants are validated by the model's clean(): the folder must parse, one user or one group."""

    list_display = ("location", "user", "group", "access", "note", "created")
    list_filter = ("access",)
    search_fields = ("location", "user__username", "group__name", "note")
    readonly_fields = ("created",)
