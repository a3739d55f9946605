import logging
import mimetypes
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversions import access, actions, example, locations
from conversions.charts import layers_chart, timings_chart, verification_chart
from conversions.converters.base import STAGES
from conversions.converters.report import Report
from conversions.listing import PAGE_SIZES, TaskQuery
from conversions.models import ConversionTask
from conversions.params import positive_int, positive_ints
from conversions.views_graph import INPUT, graph_links, layer_graph
from templates_registry.models import ConversionTemplate

LOG_PAGE = 500
# The create form's fields a folder browser fills in.
BROWSE_FIELDS = ("input_location", "output_location")
LIST_DEFERRED = (
    "options",
    "result",
    "description",
    "template__option_schema",
    "template__description_en",
    "template__description_zh",
)
logger = logging.getLogger(__name__)


def _tasks(request: HttpRequest):
    return ConversionTask.objects.visible_to(request.user).select_related("template", "owner")


def _editable(request: HttpRequest):
    return ConversionTask.objects.editable_by(request.user).select_related("template", "owner")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    query = TaskQuery.from_params(request.GET)
    # The list shows none of the JSON columns: decoding them (the template's option schema most of
    # all) was most of the page's time.
    tasks = _tasks(request).defer(*LIST_DEFERRED)
    number = positive_int(request.GET.get("page"), 1)  # past the end: get_page gives the last
    page = Paginator(query.apply(tasks), query.size).get_page(number)
    context = {
        "page": page,
        "query": query,
        "sort_links": query.sort_links(),
        "page_sizes": PAGE_SIZES,
        "statuses": ConversionTask.Status.choices,
        "chips": ConversionTemplate.Chip.choices,
        "frameworks": ConversionTemplate.Framework.choices,
        "filtered": any((query.q, query.status, query.chip, query.framework)),
    }
    if not page.object_list:
        context["example"] = example.offered(request.user)
        context["example_here"] = example.present(request.user)
    return render(request, "conversions/index.html", context)


@login_required
def row(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(_tasks(request), pk=task_id)
    return render(request, "conversions/index.html#row", {"task": task})


def _stages(task: ConversionTask) -> list[dict]:
    """The stepper of the detail page: each stage done, current, failed or still to come."""
    reached = STAGES.get(task.stage, 0)
    stages = []
    for key, label in ConversionTask.Stage.choices[1:]:  # all but queued
        if task.status == ConversionTask.Status.SUCCEEDED or STAGES[key] < reached:
            state = "done"
        elif key == task.stage or (key == "staging" and task.stage in ("", "queued")):
            if task.is_active:
                state = "current"
            else:  # a canceled task stopped by choice: neutral, not an error
                state = "canceled" if task.status == ConversionTask.Status.CANCELED else "stopped"
        else:
            state = "todo"
        stages.append({"key": key, "label": label, "state": state})
    return stages


def _options(task: ConversionTask) -> list[dict]:
    """The task's advanced options under their labels in the reader's language (key as a tip)."""
    zh = (get_language() or "").startswith("zh")
    labels = {
        option["key"]: option["label_zh" if zh else "label_en"] or option["key"]
        for option in task.template.option_schema
    }
    return [{"key": k, "label": labels.get(k, k), "value": v} for k, v in task.options.items()]


@login_required
def detail(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(_tasks(request), pk=task_id)
    report = Report.from_dict(task.result)
    artifacts = _artifacts(task)
    graphs = graph_links(task, artifacts)
    for artifact_ in artifacts:
        artifact_["graph"] = graphs.get(artifact_["name"], "")
    context = {
        "task": task,
        "report": report,
        "artifacts": artifacts,
        "input_graph": graphs.get(INPUT, ""),
        "layer_graph": layer_graph(graphs),
        "stages": _stages(task),
        "options": _options(task),
        "chart": verification_chart(report),
        "layers_chart": layers_chart(report),
        "timings": timings_chart(report),
    }
    if request.htmx:  # the status poll: the log has its own poll
        return render(request, "conversions/detail.html#status", context)
    lines = list(task.log_lines.all()[:LOG_PAGE])
    context.update(lines=lines, after=lines[-1].seq if lines else 0)
    return render(request, "conversions/detail.html", context)


@login_required
def log(request: HttpRequest, task_id: int) -> HttpResponse:
    """Only the log lines after `after`, and a new tail that polls again while the task is active."""
    task = get_object_or_404(_tasks(request), pk=task_id)
    after = positive_int(request.GET.get("after"), 0)
    lines = list(task.log_lines.filter(seq__gt=after)[:LOG_PAGE])
    context = {
        "task": task,
        "lines": lines,
        "after": lines[-1].seq if lines else after,
        "append": True,
    }
    return render(request, "conversions/detail.html#log-tail", context)


def _artifacts(task: ConversionTask) -> list[dict]:
    if task.is_active:
        return []
    names = task.result.get("artifacts_published", []) + ["report.json"]
    try:
        sizes = task.output_folder(locations.READ).sizes(names)
    except locations.LocationError:  # the folder or its store is gone: show no files
        return []
    return [{"name": name, "size": sizes[name]} for name in names if name in sizes]


@login_required
def artifact(request: HttpRequest, task_id: int, name: str) -> HttpResponse:
    """One published file: a presigned redirect to object storage, or streamed by the console."""
    task = get_object_or_404(_tasks(request), pk=task_id)
    if name not in {a["name"] for a in _artifacts(task)}:
        raise Http404(_("No such artifact."))
    try:
        location = task.output_folder(locations.READ)
        if isinstance(location, locations.S3Location) and settings.ARTIFACT_DOWNLOAD == "redirect":
            return redirect(location.download_url(name))
        handle = location.open_file(name)
    except locations.LocationError as exc:
        messages.error(request, str(exc))
        return redirect("conversions:detail", task.pk)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        handle, as_attachment=True, filename=name.rsplit("/", 1)[-1], content_type=content_type
    )


def _delete(request: HttpRequest, tasks: list[ConversionTask]) -> int:
    """Delete tasks that are not active (re-checked in the database), with their outputs if asked."""
    outputs = bool(request.POST.get("delete_outputs"))
    count, files = actions.delete(tasks, outputs=outputs)
    if outputs:
        messages.info(request, _("%(count)d output files deleted.") % {"count": files})
    return count


@login_required
def delete(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(_editable(request), pk=task_id)
    refusal = task.delete_refusal()
    if request.method == "POST":
        if refusal or not _delete(request, [task]):
            messages.error(request, refusal or task.delete_refusal())
            return redirect("conversions:detail", task.pk)
        messages.success(request, _("Task %(name)s deleted.") % {"name": task.name})
        return redirect("conversions:index")
    return render(
        request,
        "conversions/delete.html",
        {"deletable": [] if refusal else [task], "refused": [(task, refusal)] if refusal else []},
    )


@login_required
@require_POST
def batch_delete(request: HttpRequest) -> HttpResponse:
    """First POST shows what will go and what cannot; the POST with `confirm` deletes the deletable."""
    ids = positive_ints(request.POST.getlist("ids"))
    tasks = list(_editable(request).filter(pk__in=ids))
    verdicts = [(task, task.delete_refusal()) for task in tasks]
    refused = [(task, reason) for task, reason in verdicts if reason]
    deletable = [task for task, reason in verdicts if not reason]
    back = _list_url(request.POST.get("next", ""))  # the list as it was filtered
    if not tasks:
        messages.error(request, _("Select the tasks to delete first."))
        return redirect(back)
    if request.POST.get("confirm"):
        # _delete re-checks in the database: a task may have started since the confirmation.
        count = _delete(request, deletable)
        messages.success(request, _("%(count)d tasks deleted.") % {"count": count})
        for _task, reason in refused:
            messages.error(request, reason)
        return redirect(back)
    return render(
        request,
        "conversions/delete.html",
        {"deletable": deletable, "refused": refused, "batch": True, "next": back},
    )


def _list_url(given: str) -> str:
    """The task list's URL with its filters from `given` (a `next` field), re-encoded from the
    parsed query; anything else is the plain list."""
    index = reverse("conversions:index")
    parts = urlsplit(given or "")
    if parts.scheme or parts.netloc or parts.path != index:
        return index
    params = QueryDict(parts.query)
    page = positive_int(params.get("page"))
    url = TaskQuery.from_params(params).url(**({"page": page} if page else {}))
    return index + url if url != "?" else index


@login_required
def browse(request: HttpRequest) -> HttpResponse:
    """One page of one folder level, for the folder browser of the create form.

    "" is the user's home, "/" the data directory; `obs://` and `s3://` list buckets,
    `obs://bucket/a/` one prefix. What the user may not read is refused (access.browse).
    """
    field = request.GET.get("field", "")
    if field not in BROWSE_FIELDS:
        field = BROWSE_FIELDS[0]
    # The Browse button sends the field's own value (hx-include); the browser's links send `path`.
    path = request.GET.get("path", request.GET.get(field, "")).strip()
    error, listing, where = "", locations.Listing(), path
    try:
        location = locations.locate(path, user=request.user, root_ok=True)
        where = str(location)
        listing = access.browse(request.user, location, request.GET.get("page", ""))
    except locations.LocationError as exc:
        error = str(exc)
    parent = "/".join(where.rstrip("/").split("/")[:-1])
    if parent:
        parent += "/"
    elif where.startswith("/") and where != "/":
        parent = "/"
    context = {
        "path": where,
        "parent": parent,
        "folders": listing.folders,
        "files": listing.files,
        "next_page": listing.next_page,
        "object_roots": access.roots(request.user) if not where else (),
        "error": error,
        "field": field,
    }
    return render(request, "conversions/browse.html", context)
