"""The workers page, and which templates a live worker can run now."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from conversions.models import ConversionTask, Worker


def template_support(template, workers=None) -> str:
    """Why no live worker can run `template` now, or '' when one can.

    A worker can run it when it serves the template's queue and its probe for the template's
    converter key said available. `workers`: the live workers, when the caller already has them.
    """
    workers = list(Worker.objects.live()) if workers is None else workers
    serving = [w for w in workers if template.queue in w.queues]
    if not serving:
        return _("No live worker serves the %(queue)s queue.") % {"queue": template.queue}
    answers = [w.capabilities.get(template.converter) or {} for w in serving]
    if any(answer.get("available") for answer in answers):
        return ""
    reasons = sorted({a.get("reason", "") for a in answers if a.get("reason")})
    return _("No live worker of the %(queue)s queue can run it: %(reasons)s") % {
        "queue": template.queue,
        "reasons": " ".join(reasons) or _("its converter is not installed."),
    }


@login_required
def workers(request: HttpRequest) -> HttpResponse:
    rows = list(Worker.objects.all())
    running = ConversionTask.objects.filter(status=ConversionTask.Status.RUNNING).exclude(worker="")
    tasks_by_worker: dict[str, int] = {}
    for name in running.values_list("worker", flat=True):
        tasks_by_worker[name] = tasks_by_worker.get(name, 0) + 1
    for worker in rows:
        worker.running_tasks = tasks_by_worker.get(worker.name, 0)
    rows.sort(key=lambda w: (not w.is_live, w.host, w.pid))
    return render(request, "conversions/workers.html", {"workers": rows})
