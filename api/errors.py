"""Every API error is JSON `{"code": "...", "message": "..."}`; validation errors add `fields`.

Codes are stable (clients branch on them): not_authenticated, authentication_failed,
permission_denied, not_found, method_not_allowed, unsupported_media_type, parse_error,
validation_error, throttled, active_task_limit, conflict, location_refused.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
}


class ApiError(exceptions.APIException):
    """An error with its own code: ApiError("conflict", "Task x has already ended.", 409)."""

    def __init__(self, code: str, message: str, status_code: int = 400, fields=None):
        super().__init__(message)
        self.code, self.message, self.status_code, self.fields = code, message, status_code, fields


def error(code: str, message: str, status_code: int = 400, **extra) -> Response:
    return Response({"code": code, "message": str(message), **extra}, status=status_code)


def form_errors(*forms) -> dict[str, list[str]]:
    """The forms' messages by field ("" for the form as a whole), in the form's own words."""
    fields: dict[str, list[str]] = {}
    for form in forms:
        for field, messages in form.errors.items():
            key = "" if field == "__all__" else field
            fields.setdefault(key, []).extend(str(m) for m in messages)
    return fields


def handler(exc, context):
    if isinstance(exc, ApiError):
        extra = {"fields": exc.fields} if exc.fields else {}
        return error(exc.code, exc.message, exc.status_code, **extra)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
        fields = {
            k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()
        }
        first = next((m for msgs in fields.values() for m in msgs), "Invalid request.")
        response.data = {"code": "validation_error", "message": first, "fields": fields}
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), "error")
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = {"code": code, "message": str(detail)}
    return response
