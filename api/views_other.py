"""Templates, folders and model inspection over the API."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response

from api import serializers as s
from api.errors import ApiError
from conversions import access, locations, views_inspect
from conversions.inspections import Inspection
from conversions.params import LIMIT
from templates_registry.models import ConversionTemplate

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer}
FILTERS = ("chip", "framework", "model_format", "q")


@extend_schema(
    parameters=[
        OpenApiParameter("chip", str, enum=ConversionTemplate.Chip.values),
        OpenApiParameter("framework", str, enum=ConversionTemplate.Framework.values),
        OpenApiParameter("model_format", str, enum=ConversionTemplate.ModelFormat.values),
        OpenApiParameter("q", str, description="part of the name, slug or description"),
    ],
    responses={200: s.TemplateSerializer(many=True), 401: s.ErrorSerializer},
)
@api_view(["GET"])
def templates(request):
    filters = {key: request.query_params.get(key, "").strip()[:100] for key in FILTERS}
    found = ConversionTemplate.objects.enabled().search(**filters)
    return Response(s.TemplateSerializer(found, many=True).data)


@extend_schema(responses={200: s.TemplateDetailSerializer, **ERRORS})
@api_view(["GET"])
def template(request, slug: str):
    found = get_object_or_404(ConversionTemplate.objects.enabled(), slug=slug)
    return Response(s.TemplateDetailSerializer(found).data)


@extend_schema(
    parameters=[
        OpenApiParameter("path", str, description='"" your home, "/" the data directory, obs://…'),
        OpenApiParameter("page", str, description="next_page of the previous answer"),
    ],
    responses={200: s.FolderSerializer, 403: s.ErrorSerializer, **ERRORS},
)
@api_view(["GET"])
def folders(request):
    path = request.query_params.get("path", "").strip()
    try:
        location = locations.locate(path, user=request.user, root_ok=True)
        listing = access.browse(request.user, location, request.query_params.get("page", ""))
    except locations.LocationError as exc:
        raise ApiError("location_refused", str(exc), 403) from None
    where = str(location)
    return Response(
        {
            "path": where,
            "folders": listing.folders,
            "files": [{"name": name, "size": size} for name, size in listing.files],
            "next_page": listing.next_page,
            "roots": access.roots(request.user) if not where else [],
        }
    )


def _inspection(found: Inspection, note: str = "") -> dict:
    data = s.InspectionSerializer(found).data
    return {**data, "note": note} if note else data


@extend_schema(
    request=s.InspectRequestSerializer,
    responses={202: s.InspectionSerializer, **ERRORS},
    description="Queue an inspection of a model folder (one per user at a time); poll its URL.",
)
@api_view(["POST"])
def inspect(request):
    body = request.data if isinstance(request.data, dict) else {}
    location, slug = str(body.get("input_location") or ""), str(body.get("template") or "")
    found, note, error = views_inspect.queue(request.user, location, slug)
    if error:
        raise ApiError("inspection_refused", error, 400)
    return Response(_inspection(found, note), status=status.HTTP_202_ACCEPTED)


@extend_schema(responses={200: s.InspectionSerializer, **ERRORS})
@api_view(["GET"])
def inspection(request, inspection_id: int):
    found = None
    if inspection_id <= LIMIT:
        found = Inspection.objects.filter(owner=request.user, pk=inspection_id).first()
    if found is None:
        raise ApiError("not_found", "This inspection is no longer available: inspect again.", 404)
    found.expire_if_late()
    return Response(_inspection(found))
