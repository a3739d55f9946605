"""Small bar charts of a conversion's report, drawn as server-side SVG (no chart library, no CDN)."""

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from conversions.converters.report import Report

LABEL_WIDTH = 150  # viewBox units left of the bars
BAR_SPACE = 230  # the longest bar
ROW = 22
WORST_LAYERS = 10


def _short(name: str, length: int = 16) -> str:
    return name if len(name) <= length else name[: length - 1] + "…"


def _rows(bars: list[tuple[str, float | None, str, str]]) -> dict:
    """Template rows for (label, fraction of the longest bar, value text, css class) bars; a
    fraction of None is a heading: the name of the scale the bars below it are drawn on."""
    rows = []
    for index, (label, fraction, value, css) in enumerate(bars):
        if fraction is None:
            rows.append({"label": label, "heading": True, "text_y": index * ROW + 16})
            continue
        width = round(BAR_SPACE * max(0.0, min(1.0, fraction)), 1)
        rows.append(
            {
                "label": label,
                "value": value,
                "css": css,
                "y": index * ROW + 4,
                "text_y": index * ROW + 16,
                "width": width,
                "value_x": LABEL_WIDTH + width + 4,
            }
        )
    return {"rows": rows, "height": len(rows) * ROW + 6, "bar_x": LABEL_WIDTH}


def verification_chart(report: Report) -> dict | None:
    """The model size before and after (scaled to the larger), then each output's cosine
    similarity on its worst sample on its own 0 to 1 scale, each group under a heading that names
    its scale. None when the report has no verification."""
    verification = report.verification
    if not verification:
        return None
    before = report.extra.get("input_model", {}).get("size_bytes") or 0
    after = report.extra.get("output_size_bytes") or 0
    largest = max(before, after, 1)
    bars = [
        (_("Model size (relative to the larger)"), None, "", ""),
        (_("Size before"), before / largest, filesizeformat(before), "before"),
        (_("Size after"), after / largest, filesizeformat(after), "after"),
        (_("Cosine similarity (0 to 1)"), None, "", ""),
    ]
    for row in verification.outputs:
        figures = [c for c in (row.cosine_similarity, row.worst_sample_cosine) if c is not None]
        cosine = max(0.0, min(1.0, min(figures, default=0.0)))
        bars.append((f"cos {_short(row.name)}", cosine, f"{cosine:.4f}", f"verdict-{row.verdict}"))
    return _rows(bars)


def layers_chart(report: Report) -> dict | None:
    """The WORST_LAYERS layers with the largest quantization error, scaled to the largest; layers
    kept in float are drawn apart. None without per-layer figures."""
    quantization = report.quantization
    layers = [x for x in (quantization.layers if quantization else []) if x.error is not None]
    if not layers:
        return None
    worst = layers[:WORST_LAYERS]
    largest = max((x.error for x in worst), default=0.0) or 1.0
    bars = [
        (
            _short(x.name, 22),
            x.error / largest,
            f"{x.error:.3g}",
            "kept-float" if x.kept_float else "quantized",
        )
        for x in worst
    ]
    return _rows(bars)


# (phase, its colour): SVG fill attributes, as the CSP forbids style attributes
PHASE_FILLS = (
    ("queue_wait", "#9aa5b1"),
    ("staging", "#6c8ebf"),
    ("child_start", "#d79b00"),
    ("audit", "#b5739d"),
    ("conversion", "#3c8d5a"),
    ("verification", "#2f6f9f"),
    ("publishing", "#7b6f5a"),
)
TIMELINE_WIDTH = 440
LEGEND_ROW = 18


def timings_chart(report: Report) -> dict | None:
    """One stacked bar of the task's phases (report.json's timings.task), with a legend below.
    None when the report has no task timings."""
    timings = (report.extra.get("timings") or {}).get("task") or {}
    labels = {
        "queue_wait": _("Queue wait"),
        "staging": _("Staging"),
        "child_start": _("Child start"),
        "audit": _("Audit"),
        "conversion": _("Conversion"),
        "verification": _("Verification"),
        "publishing": _("Publishing"),
    }
    phases = []
    for name, fill in PHASE_FILLS:
        seconds = timings.get(f"{name}_s")
        if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0:
            phases.append((name, fill, float(seconds)))
    total = sum(seconds for _name, _fill, seconds in phases)
    if not phases or total <= 0:
        return None
    segments, x = [], 0.0
    for index, (name, fill, seconds) in enumerate(phases):
        width = TIMELINE_WIDTH * seconds / total
        column, row = index % 2, index // 2
        segments.append(
            {
                "label": labels[name],
                "value": f"{seconds:.2f} s",
                "fill": fill,
                "x": round(x, 1),
                "width": round(width, 1),
                "key_x": column * TIMELINE_WIDTH / 2,
                "key_y": 30 + row * LEGEND_ROW,
                "text_x": column * TIMELINE_WIDTH / 2 + 16,
                "text_y": 40 + row * LEGEND_ROW,
            }
        )
        x += width
    rows = (len(segments) + 1) // 2
    return {
        "segments": segments,
        "total": f"{total:.2f} s",
        "warm": bool(timings.get("warm_child")),
        "height": 30 + rows * LEGEND_ROW + 4,
    }
