"""Inspect model, from the create form: a POST queues an inspection, the page polls for its report.

The web process never runs the converter child (a large model would hold a web worker for
minutes): POST /tasks/inspect/ checks the location, stores an Inspection row and enqueues it on
INSPECT_QUEUE; the fragment it returns polls GET /tasks/inspect/<id>/ every second until the
report (and the chosen template's options, filled out of band) or a message replaces it.
"""

from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from conversions.forms import OptionsForm
from conversions.inspection import InspectionError, layout_hint, resolve
from conversions.inspections import Inspection, forget_ended_of
from conversions.jobs import enqueue_inspection
from templates_registry.models import ConversionTemplate

FRAGMENT = "conversions/create.html#inspection"
BIGGEST_ID = 2**63 - 1


@login_required
@require_POST
def inspect(request: HttpRequest) -> HttpResponse:
    """Queue an inspection of the input folder; one per user in flight (a second one rejoins it)."""
    location = request.POST.get("input_location", "").strip()
    typed = {
        key[len("opt-") :]: value
        for key, value in request.POST.items()
        if key.startswith("opt-") and value.strip()
    }
    found, note, error = queue(request.user, location, request.POST.get("template", ""), typed)
    if error:
        return _fragment(request, error=error, location=location)
    return _fragment(request, inspection=found, location=found.location, note=note)


def queue(user, location: str, template_slug: str = "", typed: dict | None = None):
    """(inspection, note, error): queue an inspection of `location` for `user`, or rejoin the one
    already in flight (the note says so), or the reason it cannot start (the page and the API)."""
    location = location.strip()
    if not location:
        return None, "", _("Enter the input folder first.")
    try:
        resolve(location, user)
    except InspectionError as exc:
        return None, "", str(exc)
    running = _in_flight(user)
    if running is None:
        chosen = _template(template_slug)
        forget_ended_of(user)
        try:
            with transaction.atomic():
                inspection = Inspection.objects.create(
                    owner=user,
                    location=location,
                    chip=chosen.chip if chosen else "",
                    template_slug=chosen.slug if chosen else "",
                    typed_options=typed or {},
                )
                enqueue_inspection(inspection)
        except IntegrityError:  # another request of this user queued one a moment ago
            running = _in_flight(user)
        else:
            return inspection, "", ""
    if running is None:
        return None, "", _("Inspect model could not start: try again.")
    note = _(
        "The inspection of %(location)s you asked for earlier is still in progress: its result "
        "shows here, then you can inspect another folder."
    ) % {"location": running.location}
    return running, note, ""


@login_required
@require_GET
def inspection(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """The poll: the waiting fragment again, or the report and the filled options, or the error."""
    found = None
    if inspection_id <= BIGGEST_ID:
        found = Inspection.objects.filter(owner=request.user, pk=inspection_id).first()
    if found is None:
        message = _("This inspection is no longer available: choose Inspect model again.")
        return _fragment(request, error=message)
    found.expire_if_late()
    if found.status == Inspection.Status.FAILED:
        return _fragment(request, error=found.error, location=found.location)
    if found.is_active:
        return _fragment(request, inspection=found, location=found.location)
    return _report(request, found)


def _in_flight(user) -> Inspection | None:
    """The user's queued or running inspection, unless it has just been given up as too late."""
    running = Inspection.objects.filter(owner=user).active().first()
    if running is not None and running.expire_if_late():
        return None
    return running


def _template(slug: str) -> ConversionTemplate | None:
    return ConversionTemplate.objects.enabled().filter(slug=slug).first() if slug else None


def _fragment(request: HttpRequest, **context) -> HttpResponse:
    context.setdefault("location", "")
    inspection = context.get("inspection")
    if inspection is not None:
        context["waiting"] = inspection.status == Inspection.Status.QUEUED
    return render(request, FRAGMENT, {"inspect_error": context.pop("error", ""), **context})


def _report(request: HttpRequest, found: Inspection) -> HttpResponse:
    """The report, and the chosen template's empty tensor options filled from it (typed ones win)."""
    report, chosen = found.result, _template(found.template_slug)
    context = {"report": report, "location": found.location, "chosen": chosen}
    if report:
        context["layout_hint"] = layout_hint(report, chosen.chip if chosen else found.chip)
    html = render(request, FRAGMENT, context).content.decode()
    if report and chosen:
        keys = {option["key"] for option in chosen.option_schema}
        filled = {k: v for k, v in report.get("suggested_options", {}).items() if k in keys and v}
        initial = {**filled, **found.typed_options}
        context = {"options_form": OptionsForm(chosen, initial=initial), "oob": True}
        html += render(request, "conversions/create.html#options", context).content.decode()
    return HttpResponse(html)
