"""Cancel and retry: POST-only, CSRF-protected, for those who may edit the task (its owner, staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversions import actions
from conversions.models import ConversionTask


def _editable_task(request: HttpRequest, task_id: int) -> ConversionTask:
    return get_object_or_404(
        ConversionTask.objects.editable_by(request.user).select_related("template", "owner"),
        pk=task_id,
    )


@login_required
@require_POST
def cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    """Cancel an initializing or running task; a running converter is killed by its worker.

    A first POST (the detail page's Cancel) asks for confirmation; the confirmation posts `confirm`.
    """
    task = _editable_task(request, task_id)
    if task.is_active and not request.POST.get("confirm"):
        return render(request, "conversions/cancel.html", {"task": task})
    refusal = actions.cancel(task, request.user)
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _("Task %(name)s canceled.") % {"name": task.name})
    return redirect("conversions:detail", task.pk)


@login_required
@require_POST
def retry(request: HttpRequest, task_id: int) -> HttpResponse:
    """Run a failed or canceled task again with the same parameters, as a new attempt."""
    task = _editable_task(request, task_id)
    refusal = actions.retry(task, request.user)
    if refusal:
        messages.error(request, refusal)
    else:
        messages.success(request, _("Task %(name)s queued again.") % {"name": task.name})
    return redirect("conversions:detail", task.pk)
