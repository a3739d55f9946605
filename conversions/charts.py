"""A small bar chart of a conversion's report, drawn as server-side SVG (no chart library, no CDN)."""

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

LABEL_WIDTH = 150  # viewBox units left of the bars
BAR_SPACE = 230  # the longest bar
ROW = 22


def verification_chart(result: dict) -> dict | None:
    """Rows of bars for the template: the model size before and after, and the cosine similarity of
    each output (on a 0 to 1 scale). None when the result has no verification."""
    verification = result.get("verification")
    if not verification:
        return None
    before = result.get("input_model", {}).get("size_bytes") or 0
    after = result.get("output_size_bytes") or 0
    largest = max(before, after, 1)
    bars = [
        (_("Size before"), before / largest, filesizeformat(before), "before"),
        (_("Size after"), after / largest, filesizeformat(after), "after"),
    ]
    for row in verification.get("outputs", []):
        cosine = max(0.0, min(1.0, float(row.get("cosine_similarity") or 0.0)))
        name = row.get("name", "")
        short = name if len(name) <= 16 else name[:15] + "…"
        bars.append((f"cos {short}", cosine, f"{cosine:.4f}", f"verdict-{row.get('verdict', '')}"))
    rows = []
    for index, (label, fraction, value, css) in enumerate(bars):
        width = round(BAR_SPACE * fraction, 1)
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
