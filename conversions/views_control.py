"""Cancel and retry: POST-only, CSRF-protected, for those who may edit the task (its owner, staff)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversions import locations
from conversions.jobs import enqueue
from conversions.models import ConversionTask
from conversions.quota import active_task_refusal


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
    if task.mark_canceled():
        task.append_log([("info", _("Canceled by %(user)s.") % {"user": request.user})])
        messages.success(request, _("Task %(name)s canceled.") % {"name": task.name})
    else:
        messages.error(
            request,
            _("Task %(name)s has already ended (%(status)s): nothing to cancel.")
            % {"name": task.name, "status": task.get_status_display().lower()},
        )
    return redirect("conversions:detail", task.pk)


@login_required
@require_POST
def retry(request: HttpRequest, task_id: int) -> HttpResponse:
    """Run a failed or canceled task again with the same parameters, as a new attempt."""
    task = _editable_task(request, task_id)
    try:  # the owner's access now, not at creation: a revoked grant is said here, not by the worker
        task.input_folder()
        task.output_folder(locations.WRITE)
    except locations.LocationError as exc:
        messages.error(request, str(exc))
        return redirect("conversions:detail", task.pk)
    refusal = active_task_refusal(task.owner) if task.status in task.RETRYABLE else ""
    if refusal:
        messages.error(request, refusal)
    elif task.retry():
        task.append_log([("info", _("Retried by %(user)s.") % {"user": request.user})])
        enqueue(task)
        messages.success(request, _("Task %(name)s queued again.") % {"name": task.name})
    else:
        messages.error(
            request,
            _("Task %(name)s is %(status)s: only failed or canceled tasks can be retried.")
            % {"name": task.name, "status": task.get_status_display().lower()},
        )
    return redirect("conversions:detail", task.pk)
