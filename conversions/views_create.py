"""The create page: template cards, the task form and advanced options (inspection: views_inspect)."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversions import access, example, locations
from conversions.forms import OptionsForm, TaskForm, create_task, suggested_name
from conversions.models import ConversionTask
from conversions.params import positive_int
from conversions.views_workers import template_support
from templates_registry.models import ConversionTemplate

FILTERS = ("chip", "framework", "model_format", "q")


def _template_filters(request: HttpRequest) -> dict:
    """The card filters: from the query string, or after a submit from the form's hidden copies."""
    source = request.POST if request.method == "POST" else request.GET
    return {key: str(source.get(key, "")).strip()[:100] for key in FILTERS}


def _cards(templates, chosen) -> list:
    """The filtered cards; the chosen template stays on show (first) even when filtered out."""
    cards = list(templates)
    if chosen is not None and chosen not in cards:
        cards.insert(0, chosen)
    return cards


@login_required
def create(request: HttpRequest) -> HttpResponse:
    filters = _template_filters(request)
    templates = ConversionTemplate.objects.enabled().search(**filters)
    chosen_slug = request.POST.get("template") or request.GET.get("template", "")
    chosen = ConversionTemplate.objects.enabled().filter(slug=chosen_slug).first()
    output_note = ""
    if request.method == "POST":
        form = TaskForm(request.POST, owner=request.user)
        options_form = OptionsForm(chosen, request.POST) if chosen else None
        form_valid = form.is_valid()  # both forms checked: every error is said at once
        options_valid = options_form is not None and options_form.is_valid()
        if form_valid and options_valid:
            task = create_task(request.user, form, options_form)
            messages.success(request, _("Task %(name)s created.") % {"name": task.name})
            reason = template_support(task.template)
            if reason:  # created all the same: it runs once a worker that can comes up
                messages.warning(
                    request,
                    _(
                        "No live worker can run task %(name)s now; it waits in the queue until "
                        "one can. %(reason)s"
                    )
                    % {"name": task.name, "reason": reason},
                )
            return redirect("conversions:index")
    else:
        initial = {"name": suggested_name(), "template": chosen_slug}
        initial.update(_similar(request))
        if request.GET.get("example"):  # the empty list's "Try it"
            initial.update(example.initial(request.user))
        output_note = initial.pop("output_note", "")
        form = TaskForm(initial=initial, owner=request.user)
        chosen = (
            chosen
            or ConversionTemplate.objects.enabled().filter(slug=initial.get("template")).first()
        )
        options_form = OptionsForm(chosen, initial=initial.get("options", {})) if chosen else None
    context = {
        "form": form,
        "options_form": options_form,
        "templates": _cards(templates, chosen),
        "outside_filters": chosen is not None and chosen not in templates,
        "output_note": output_note,
        "chosen": chosen,
        "filters": filters,
        "chips": ConversionTemplate.Chip.choices,
        "frameworks": ConversionTemplate.Framework.choices,
        "formats": ConversionTemplate.ModelFormat.choices,
    }
    if request.method == "POST":
        context["error_summary"] = error_summary(form, options_form)
    template_name = "conversions/create.html"
    if request.htmx and request.htmx.target == "options":
        template_name += "#options"
    elif request.htmx and request.htmx.target == "template-cards":
        template_name += "#template-cards"
    return render(request, template_name, context)


@login_required
@require_POST
def try_example(request: HttpRequest) -> HttpResponse:
    """The empty list's "Try it": the example copied into the user's home (a folder already there
    is kept), then the create form filled in for it."""
    try:
        problem = example.provide(request.user)
    except locations.LocationError as exc:
        problem = str(exc)
    if problem:
        messages.error(request, problem)
        return redirect("conversions:index")
    return redirect(reverse("conversions:create") + "?example=mnist-cnn")


def error_summary(*forms) -> list[dict]:
    """Every error of the bound forms, in page order: {"href": "#field id" or "", "label", "message"}."""
    summary = []
    for form in forms:
        if form is None:
            continue
        summary += [{"href": "", "label": "", "message": m} for m in form.non_field_errors()]
        for field in form:
            for message in field.errors:
                href = "#template-cards" if field.name == "template" and form.prefix is None else ""
                summary.append(
                    {
                        "href": href or f"#{field.id_for_label}",
                        "label": field.label,
                        "message": message,
                    }
                )
    return summary


def _similar(request: HttpRequest) -> dict:
    """Initial values copied from another task (`?like=<id>`): after a failure, nothing is typed twice."""
    like = positive_int(request.GET.get("like"))
    if like is None:
        return {}
    task = ConversionTask.objects.visible_to(request.user).filter(pk=like).first()
    if task is None:
        return {}
    output = access.as_named_by(task.output_location, task.owner, request.user)
    fresh = fresh_output_folder(output, request.user)
    similar = {
        "description": task.description,
        "template": task.template.slug,
        "input_location": access.as_named_by(task.input_location, task.owner, request.user),
        "output_location": fresh or output,
        "options": task.options,
    }
    if fresh:
        similar["output_note"] = _(
            "A fresh output folder is suggested: %(fresh)s does not exist yet, while %(old)s holds "
            "the earlier task's output."
        ) % {"fresh": fresh, "old": output}
    return similar


def fresh_output_folder(location: str, user, tries: int = 20) -> str:
    """`out/cnn-2/` (or -3, …) for `out/cnn/`: the first such folder that does not exist yet and
    `user` may write; "" when none is found (the old folder is then offered as it was)."""
    stem = re.sub(r"-\d+$", "", location.rstrip("/"))
    if not stem or stem.endswith(("/", ":")):
        return ""
    for number in range(2, 2 + tries):
        candidate = f"{stem}-{number}/"
        try:
            if not locations.parse(candidate, user=user, need=locations.WRITE).is_folder():
                return candidate
        except locations.LocationError:  # refused, or the store cannot be asked: no suggestion
            return ""
    return ""
