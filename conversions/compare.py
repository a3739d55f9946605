"""Two to four tasks side by side: the rows of the compare page, each value as the reader sees it.

Every row is a label and one display string per task; a row whose strings are not all equal is
marked `differs` (the page highlights it). The rows are built here, not in the template, so the
comparison compares what the reader reads.
"""

from dataclasses import dataclass, field

from django.utils.formats import localize
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from conversions.converters.report import Report
from conversions.models import ConversionTask
from conversions.params import positive_int
from conversions.templatetags.console import duration, verdict_label

FEWEST, MOST = 2, 4
DASH = "–"
# report.json's timing keys under their labels; a key not listed shows as it is.
TIMINGS = {
    "conversion_s": gettext_lazy("Conversion"),
    "verification_s": gettext_lazy("Verification"),
    "layer_analysis_s": gettext_lazy("Layer analysis"),
    "onnx_check_s": gettext_lazy("ONNX check"),
    "engine_build_s": gettext_lazy("Engine build"),
    "export_s": gettext_lazy("Export"),
    "precision_s": gettext_lazy("Precision"),
}


class CompareError(ValueError):
    """A list of ids the page cannot compare; the message says what to do."""


def parse_ids(values: list[str]) -> list[int]:
    """The ids to compare, in the order given and without repeats; a CompareError unless there
    are two to four of them, each a plain positive number (a comma-separated value counts too)."""
    ids: list[int] = []
    for value in values:
        for part in value.split(","):
            number = positive_int(part.strip())
            if number is None:
                raise CompareError(_("“%(value)s” is not a task number.") % {"value": part[:20]})
            if number not in ids:
                ids.append(number)
    if not FEWEST <= len(ids) <= MOST:
        raise CompareError(
            _("Select two to four tasks to compare (%(count)d selected).") % {"count": len(ids)}
        )
    return ids


@dataclass
class Row:
    label: str
    cells: list[str]
    tip: str = ""
    differs: bool = field(init=False)

    def __post_init__(self):
        self.differs = len(set(self.cells)) > 1


@dataclass
class Section:
    title: str
    rows: list[Row]


def _number(value, spec: str) -> str:
    return DASH if value is None else format(value, spec)


def _bytes(value) -> str:
    return DASH if value is None else _("%(n)s bytes") % {"n": localize(value, use_l10n=True)}


def _general(tasks, reports) -> Section:
    rows = [
        Row(_("Status"), [t.get_status_display() for t in tasks]),
        Row(_("Template"), [t.template.name for t in tasks]),
        Row(_("Target Chip/Device"), [t.template.get_chip_display() for t in tasks]),
        Row(_("Input location"), [t.input_location for t in tasks]),
        Row(_("Output location"), [t.output_location for t in tasks]),
        Row(_("Duration"), [duration(t.duration) for t in tasks]),
    ]
    return Section(_("Task"), rows)


def _options(tasks) -> Section:
    """One row per option any task has, under the label of the first template that names it."""
    zh = (get_language() or "").startswith("zh")
    labels: dict[str, str] = {}
    for task in tasks:
        for option in task.template.option_schema:
            labels.setdefault(
                option["key"], option["label_zh" if zh else "label_en"] or option["key"]
            )
    keys = list(dict.fromkeys(k for t in tasks for k in t.options))
    rows = [
        Row(labels.get(k, k), [_value(t.options[k]) if k in t.options else DASH for t in tasks], k)
        for k in keys
    ]
    return Section(_("Advanced options"), rows)


def _value(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return DASH if value in ("", None) else str(value)


def _model(reports) -> Section:
    def digest(report):
        model = report.extra.get("input_model") or {}
        return model.get("sha256") or _("not in the report")

    def size(report, key):
        value = report.extra.get(key)
        return value.get("size_bytes") if isinstance(value, dict) else value

    rows = [
        Row(_("Input digest (SHA-256)"), [digest(r) for r in reports]),
        Row(_("Input model size"), [_bytes(size(r, "input_model")) for r in reports]),
        Row(_("Converted model size"), [_bytes(size(r, "output_size_bytes")) for r in reports]),
    ]
    return Section(_("Model"), rows)


def _timings(reports) -> Section:
    timings = [r.extra.get("timings") or {} for r in reports]
    keys = list(dict.fromkeys(k for t in timings for k in t))
    rows = [Row(str(TIMINGS.get(k, k)), [_seconds(t.get(k)) for t in timings], k) for k in keys]
    return Section(_("Timings"), rows)


def _seconds(value) -> str:
    return DASH if not isinstance(value, (int, float)) else _("%(s)s s") % {"s": f"{value:.2f}"}


def _outputs(reports) -> Section:
    """Per output (by name): cosine over all samples, the worst sample's cosine, max abs error."""
    checks = [
        {o.name: o for o in (r.verification.outputs if r.verification else [])} for r in reports
    ]
    names = list(dict.fromkeys(name for c in checks for name in c))
    rows = []
    for name in names:
        found = [c.get(name) for c in checks]
        rows += [
            Row(
                _("%(output)s: cosine") % {"output": name},
                [DASH if o is None else _number(o.cosine_similarity, ".6f") for o in found],
            ),
            Row(
                _("%(output)s: worst sample") % {"output": name},
                [DASH if o is None else _worst(o) for o in found],
            ),
            Row(
                _("%(output)s: max abs error") % {"output": name},
                [DASH if o is None else _number(o.max_abs_error, ".3g") for o in found],
            ),
        ]
    return Section(_("Outputs"), rows)


def _worst(output) -> str:
    if output.worst_sample_cosine is None:
        return DASH
    return f"{output.worst_sample_cosine:.6f} (#{output.worst_sample})"


def _accuracy(reports) -> Section | None:
    if not any(r.accuracy for r in reports):
        return None
    accuracies = [r.accuracy for r in reports]

    def figure(attribute, spec=".2f"):
        return [DASH if a is None else _number(getattr(a, attribute), spec) for a in accuracies]

    rows = [
        Row(_("Original top-1 (%)"), figure("original")),
        Row(_("Converted top-1 (%)"), figure("converted")),
        Row(_("Drop (points)"), figure("drop_points")),
        Row(
            _("Accuracy verdict"),
            [DASH if a is None else verdict_label(a.verdict) for a in accuracies],
        ),
    ]
    return Section(_("Accuracy"), rows)


def _verdicts(tasks, reports) -> Section:
    def verification(report):
        return verdict_label(report.verification.verdict) if report.verification else DASH

    rows = [Row(_("Verification"), [verification(r) for r in reports])]
    errors = [t.error_message for t in tasks]
    if any(errors):
        rows.append(Row(_("Error"), [e or DASH for e in errors]))
    return Section(_("Verdict"), rows)


def sections(tasks: list[ConversionTask]) -> list[Section]:
    """The compare page's sections for `tasks`, in that order; empty sections are left out."""
    reports = [Report.from_dict(t.result) for t in tasks]
    found = [
        _general(tasks, reports),
        _options(tasks),
        _model(reports),
        _timings(reports),
        _outputs(reports),
        _accuracy(reports),
        _verdicts(tasks, reports),
    ]
    return [s for s in found if s and s.rows]
