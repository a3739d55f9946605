"""Tasks over the API: the same rules as the pages (forms, visible_to/editable_by, access, quota)."""

import mimetypes

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from api import serializers as s
from api.errors import ApiError
from conversions import actions, locations, specs
from conversions.forms import create_task
from conversions.listing import TaskQuery
from conversions.models import ConversionTask
from conversions.params import positive_int, positive_ints
from conversions.quota import active_task_refusal
from conversions.views import LIST_DEFERRED, LOG_PAGE, _artifacts

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer}


def _visible(request):
    return ConversionTask.objects.visible_to(request.user).select_related("template", "owner")


def _editable(request, task_id: int) -> ConversionTask:
    return get_object_or_404(
        ConversionTask.objects.editable_by(request.user).select_related("template", "owner"),
        pk=task_id,
    )


def _refused(refusal) -> ApiError:
    code = getattr(refusal, "code", "conflict")
    status_code = {"active_task_limit": 429, "location_refused": 403}.get(code, 409)
    return ApiError(code, str(refusal), status_code)


@extend_schema(
    methods=["GET"],
    operation_id="tasks_list",
    parameters=[
        OpenApiParameter("q", str, description="part of the task name"),
        OpenApiParameter("status", str, enum=ConversionTask.Status.values),
        OpenApiParameter("chip", str),
        OpenApiParameter("framework", str),
        OpenApiParameter(
            "sort", str, enum=["created", "-created", "name", "-name", "status", "-status"]
        ),
        OpenApiParameter("size", int, enum=[10, 20, 50]),
        OpenApiParameter("page", int),
    ],
    responses={200: s.TaskPageSerializer, 401: s.ErrorSerializer},
)
@extend_schema(
    methods=["POST"],
    request=s.SpecSerializer,
    responses={201: s.TaskDetailSerializer, 429: s.ErrorSerializer, **ERRORS},
    description="Create a task from a job spec, judged by the create form's rules and messages.",
)
@api_view(["GET", "POST"])
def tasks(request):
    if request.method == "POST":
        return _create(request)
    query = TaskQuery.from_params(request.query_params)
    found = query.apply(_visible(request).defer(*LIST_DEFERRED))
    page = Paginator(found, query.size).get_page(positive_int(request.query_params.get("page"), 1))
    return Response(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "size": query.size,
            "results": s.TaskSerializer(page.object_list, many=True).data,
        }
    )


def _create(request):
    refusal = active_task_refusal(request.user)
    if refusal:
        raise ApiError("active_task_limit", refusal, 429)
    task_form, options_form, errors = specs.forms(request.user, request.data)
    if errors or options_form is None:
        first = next((m for messages in errors.values() for m in messages), "")
        raise ApiError("validation_error", first, 400, fields=errors)
    task = create_task(request.user, task_form, options_form)
    return Response(s.TaskDetailSerializer(task).data, status=status.HTTP_201_CREATED)


@extend_schema(methods=["GET"], responses={200: s.TaskDetailSerializer, **ERRORS})
@extend_schema(
    methods=["DELETE"],
    parameters=[OpenApiParameter("delete_outputs", bool, description="also delete its files")],
    responses={204: None, 409: s.ErrorSerializer, **ERRORS},
)
@api_view(["GET", "DELETE"])
def task(request, task_id: int):
    if request.method == "DELETE":
        found = _editable(request, task_id)
        refusal = found.delete_refusal()
        outputs = request.query_params.get("delete_outputs") in ("1", "true")
        if refusal or not actions.delete([found], outputs=outputs)[0]:
            raise ApiError("conflict", refusal or found.delete_refusal(), 409)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(s.TaskDetailSerializer(get_object_or_404(_visible(request), pk=task_id)).data)


@extend_schema(
    request=s.DeleteRequestSerializer,
    responses={200: s.DeleteResultSerializer, **ERRORS},
    description="Delete several tasks: the ones that may go, and a refusal for each that may not.",
)
@api_view(["POST"])
def delete_many(request):
    body = request.data if isinstance(request.data, dict) else {}
    raw = body.get("ids")
    ids = positive_ints(str(i) for i in raw) if isinstance(raw, list) else []
    chosen = list(ConversionTask.objects.editable_by(request.user).filter(pk__in=ids))
    if not chosen:
        raise ApiError("nothing_selected", "Name the tasks to delete in ids: [1, 2, …].", 400)
    refused = [
        {"id": t.pk, "message": str(t.delete_refusal())} for t in chosen if t.delete_refusal()
    ]
    deletable = [t for t in chosen if not t.delete_refusal()]
    before = {t.pk for t in deletable}
    count, files = actions.delete(deletable, outputs=bool(body.get("delete_outputs")))
    gone = before - set(ConversionTask.objects.filter(pk__in=before).values_list("pk", flat=True))
    return Response({"deleted": sorted(gone), "refused": refused, "output_files_deleted": files})


@extend_schema(
    parameters=[OpenApiParameter("after", int, description="only the lines after this seq")],
    responses={200: s.LogSerializer, **ERRORS},
)
@api_view(["GET"])
def log(request, task_id: int):
    found = get_object_or_404(_visible(request), pk=task_id)
    after = positive_int(request.query_params.get("after"), 0)
    lines = list(found.log_lines.filter(seq__gt=after)[:LOG_PAGE])
    return Response(
        {
            "lines": s.LogLineSerializer(lines, many=True).data,
            "after": lines[-1].seq if lines else after,
            "active": found.is_active or len(lines) == LOG_PAGE,
        }
    )


def _acted(request, task_id: int, action) -> Response:
    """Cancel or retry through the pages' rule (conversions/actions.py): the task, or its refusal."""
    found = _editable(request, task_id)
    refusal = action(found, request.user)
    if refusal:
        raise _refused(refusal)
    return Response(s.TaskDetailSerializer(found).data)


@extend_schema(
    request=None, responses={200: s.TaskDetailSerializer, 409: s.ErrorSerializer, **ERRORS}
)
@api_view(["POST"])
def cancel(request, task_id: int):
    return _acted(request, task_id, actions.cancel)


@extend_schema(
    request=None,
    responses={
        200: s.TaskDetailSerializer,
        403: s.ErrorSerializer,
        409: s.ErrorSerializer,
        429: s.ErrorSerializer,
        **ERRORS,
    },
)
@api_view(["POST"])
def retry(request, task_id: int):
    return _acted(request, task_id, actions.retry)


@extend_schema(
    parameters=[OpenApiParameter("download", bool, description="as a job.json attachment")],
    responses={200: s.SpecSerializer, **ERRORS},
)
@api_view(["GET"])
def spec(request, task_id: int):
    found = get_object_or_404(_visible(request), pk=task_id)
    response = Response(specs.export(found, request.user))
    if request.query_params.get("download") in ("1", "true"):
        response["Content-Disposition"] = f'attachment; filename="{found.name}.json"'
    return response


@extend_schema(responses={200: s.ArtifactSerializer(many=True), **ERRORS})
@api_view(["GET"])
def artifacts(request, task_id: int):
    found = get_object_or_404(_visible(request), pk=task_id)
    return Response(
        [
            {**item, "url": reverse("api:artifact", args=[found.pk, item["name"]])}
            for item in _artifacts(found)
        ]
    )


@extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, **ERRORS})
@api_view(["GET"])
def artifact(request, task_id: int, name: str):
    """One published file (through the same access check as the page's download)."""
    found = get_object_or_404(_visible(request), pk=task_id)
    if name not in {a["name"] for a in _artifacts(found)}:
        raise ApiError("not_found", "No such artifact.", 404)
    try:
        location = found.output_folder(locations.READ)
        if isinstance(location, locations.S3Location) and settings.ARTIFACT_DOWNLOAD == "redirect":
            return HttpResponseRedirect(location.download_url(name))
        handle = location.open_file(name)
    except locations.LocationError as exc:
        raise ApiError("location_refused", str(exc), 403) from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        handle, as_attachment=True, filename=name.rsplit("/", 1)[-1], content_type=content_type
    )
