"""The compare page: two to four tasks the user may see, side by side."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from conversions import compare as comparing
from conversions.models import ConversionTask
from conversions.views import _list_url


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """GET ?ids=1&ids=2 (or ids=1,2): the page. POST (the list's Compare button, which shares the
    delete form's checkboxes): back to the list with a message, or on to the page's GET URL."""
    if request.method == "POST":
        try:
            ids = comparing.parse_ids(request.POST.getlist("ids"))
        except comparing.CompareError as exc:
            messages.error(request, str(exc))
            return redirect(_list_url(request.POST.get("next", "")))
        return redirect(reverse("conversions:compare") + "?" + urlencode({"ids": ids}, doseq=True))
    try:
        ids = comparing.parse_ids(request.GET.getlist("ids"))
        found = ConversionTask.objects.visible_to(request.user).select_related("template", "owner")
        by_id = {task.pk: task for task in found.filter(pk__in=ids)}
        if len(by_id) != len(ids):
            missing = ", ".join(str(i) for i in ids if i not in by_id)
            raise comparing.CompareError(
                _("No task %(ids)s among the tasks you can see: select them again in the list.")
                % {"ids": missing}
            )
    except comparing.CompareError as exc:
        return render(request, "conversions/compare.html", {"error": str(exc)}, status=400)
    tasks = [by_id[i] for i in ids]
    context = {"tasks": tasks, "sections": comparing.sections(tasks)}
    return render(request, "conversions/compare.html", context)
