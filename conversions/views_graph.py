"""The Graph view: Netron's viewer, shipped in its PyPI wheel and served by the console itself (no
CDN), opening a task's input model or a converted artifact from an authenticated URL.

The viewer's page needs inline styles (its index.html has a <style> block and style attributes), so
that one page relaxes style-src with 'unsafe-inline'; scripts stay 'self' (Netron's browser host
uses no eval) and connect-src stays 'self', so its update check, consent look-up and telemetry
cannot reach out. Its index.html is served without the version and date that turn them on, and
with one script of ours (static/js/graph.js), which reveals the layer `?node=NAME` names: the
detail page's per-layer error table links each layer to the converted model's graph that way.
The model file goes through the same check as a download: a task the user may see, and for an
artifact one that the task published, for the input the model its report names.
"""

import mimetypes
import re
from functools import cache
from pathlib import Path

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from conversions import locations
from conversions.converters.report import Report
from conversions.models import ConversionTask
from conversions.params import positive_int

# The model files Netron opens, by how their names end.
GRAPH_SUFFIXES = (".pb", ".tflite", ".onnx", ".prototxt", ".caffemodel", ".om")
# What the viewer's folder may serve: its scripts, metadata, stylesheet and icons.
ASSET_SUFFIXES = (".js", ".json", ".css", ".png", ".ico", ".svg", ".woff", ".woff2", ".ttf")
INPUT, OUTPUT = "input", "output"


@cache
def netron_folder() -> Path | None:
    """The folder of Netron's viewer in its installed wheel, or None without the package."""
    try:
        import netron
    except ImportError:
        return None
    folder = Path(netron.__file__).parent
    return folder if (folder / "index.html").is_file() else None


def graphable(name: str) -> bool:
    return name.lower().endswith(GRAPH_SUFFIXES)


def input_model(task: ConversionTask) -> str:
    """The input model's file inside the input folder, as the task's report names it ("" if none):
    a SavedModel folder is opened by its saved_model.pb."""
    model = Report.from_dict(task.result).extra.get("input_model") or {}
    path = str(model.get("path") or "").strip("/")
    if path and not graphable(path) and not path.endswith("saved_model.pb"):
        path = f"{path}/saved_model.pb" if "." not in path.rsplit("/", 1)[-1] else ""
    return path if graphable(path) else ""


def graph_links(task: ConversionTask, artifacts: list[dict]) -> dict:
    """Viewer URLs for the detail page: the input model ("input") and each graphable artifact."""
    base = reverse("conversions:graph")
    links = {}
    if not task.is_active and input_model(task):
        links[INPUT] = f"{base}?task={task.pk}&side={INPUT}"
    for artifact in artifacts:
        if graphable(artifact["name"]):
            links[artifact["name"]] = f"{base}?task={task.pk}&side={OUTPUT}&name={artifact['name']}"
    return links


def layer_graph(links: dict) -> str:
    """The viewer URL that the per-layer error table's names open (with `&node=<name>`): the
    converted TFLite model's, else the ONNX model's (a TensorRT engine is not drawn); "" if none."""
    for suffix in (".tflite", ".onnx"):
        for name, url in links.items():
            if name != INPUT and name.lower().endswith(suffix):
                return url
    return ""


def _tasks(request: HttpRequest):
    return ConversionTask.objects.visible_to(request.user).select_related("template", "owner")


def _located(task: ConversionTask, side: str, name: str) -> tuple:
    """(location, file name) of the model the viewer may open, or Http404."""
    if side == INPUT:
        wanted = input_model(task)
        if not wanted or (name and name != wanted):
            raise Http404(_("This task's report names no input model to show."))
        return task.input_folder(), wanted
    from conversions.views import _artifacts  # views imports this module

    if side == OUTPUT and graphable(name) and name in {a["name"] for a in _artifacts(task)}:
        return task.output_folder(locations.READ), name
    raise Http404(_("No such artifact."))


@login_required
def model_file(request: HttpRequest, task_id: int, side: str, name: str) -> HttpResponse:
    """The model file itself, streamed by the console (never a redirect: the viewer reads it with
    a same-origin request)."""
    task = get_object_or_404(_tasks(request), pk=task_id)
    try:
        location, name = _located(task, side, name)
        handle = location.open_file(name)
    except locations.LocationError as exc:
        raise Http404(str(exc)) from None
    return FileResponse(handle, content_type="application/octet-stream")


@login_required
@csp_update({"style-src": ["'unsafe-inline'"]})
def graph(request: HttpRequest) -> HttpResponse:
    """Netron's page, told (in its meta tags) which model URL to open."""
    folder = netron_folder()
    task = get_object_or_404(_tasks(request), pk=positive_int(request.GET.get("task"), 0))
    if folder is None:
        messages.error(request, _("The graph viewer is not installed: pip install netron."))
        return redirect("conversions:detail", task.pk)
    side, name = request.GET.get("side", ""), request.GET.get("name", "")
    try:
        _location, name = _located(task, side, name)
    except locations.LocationError as exc:
        messages.error(request, str(exc))
        return redirect("conversions:detail", task.pk)
    # Netron resolves the file against the page's folder (/graph/), where model_file lies
    url = reverse("conversions:model_file", args=[task.pk, side, name])
    url = url.removeprefix(reverse("conversions:graph"))
    meta = (
        '<meta name="type" content="Console">\n'
        f'<meta name="file" content="{escape(url)}">\n'
        f'<meta name="name" content="{escape(name.rsplit("/", 1)[-1])}">\n'
        f'<script src="{escape(static("js/graph.js"))}" defer></script>'
    )
    page = (folder / "index.html").read_text(encoding="utf-8")
    page = re.sub(r'<meta name="date" content="[^"]*">\n?', "", page)
    page = re.sub(r'<meta name="version" content="[^"]*">', lambda _m: meta, page)
    response = HttpResponse(page)
    # Netron asks a consent once per browser before anything else: nothing is collected here.
    response.set_cookie("consent", "console", path=reverse("conversions:graph"), samesite="Lax")
    return response


@login_required
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """One file of the viewer (script, metadata, stylesheet, icon) from Netron's wheel."""
    folder = netron_folder()
    if folder is None or not name.lower().endswith(ASSET_SUFFIXES):
        raise Http404(_("No such file."))
    path = (folder / name).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise Http404(_("No such file."))
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        content_type = "text/javascript"
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response
