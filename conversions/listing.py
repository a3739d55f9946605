"""The task list's query: filters, sort and page size from the URL, and links that keep them."""

from dataclasses import dataclass, fields
from urllib.parse import urlencode

from django.http import QueryDict

from conversions.models import ConversionTask
from conversions.params import positive_int
from templates_registry.models import ConversionTemplate

PAGE_SIZES = (10, 20, 50)
# URL value -> ORM ordering; "-" means descending. Ties are broken by the newest id.
SORTS = {
    "created": ("created", "id"),
    "-created": ("-created", "-id"),
    "name": ("name", "-id"),
    "-name": ("-name", "-id"),
    "status": ("status", "-created", "-id"),
    "-status": ("-status", "-created", "-id"),
}
SORTABLE = ("name", "status", "created")


@dataclass
class TaskQuery:
    q: str = ""
    status: str = ""
    chip: str = ""
    framework: str = ""
    sort: str = "-created"
    size: int = PAGE_SIZES[0]

    @classmethod
    def from_params(cls, params: QueryDict) -> "TaskQuery":
        """Read the URL's parameters; unknown values fall back to the defaults, never to an error."""
        query = cls(q=params.get("q", "").strip()[:100])
        if params.get("status") in ConversionTask.Status.values:
            query.status = params["status"]
        if params.get("chip") in ConversionTemplate.Chip.values:
            query.chip = params["chip"]
        if params.get("framework") in ConversionTemplate.Framework.values:
            query.framework = params["framework"]
        if params.get("sort") in SORTS:
            query.sort = params["sort"]
        size = positive_int(params.get("size"))
        if size in PAGE_SIZES:
            query.size = size
        return query

    def apply(self, tasks):
        if self.q:
            tasks = tasks.filter(name__icontains=self.q)
        if self.status:
            tasks = tasks.filter(status=self.status)
        if self.chip:
            tasks = tasks.filter(template__chip=self.chip)
        if self.framework:
            tasks = tasks.filter(template__framework=self.framework)
        return tasks.order_by(*SORTS[self.sort])

    def url(self, **changes) -> str:
        """`?…` for this query with `changes`; defaults are left out so URLs stay short."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | changes
        defaults = TaskQuery()
        kept = {
            k: v
            for k, v in values.items()
            if v not in ("", None) and v != getattr(defaults, k, None)
        }
        return "?" + urlencode(kept)

    def sort_links(self) -> dict[str, dict]:
        """Per sortable column: the link that sorts by it (toggling direction) and its aria-sort."""
        links = {}
        for column in SORTABLE:
            current = self.sort.lstrip("-") == column
            descending = self.sort.startswith("-")
            target = column if current and descending else f"-{column}"
            if column == "name" and not current:
                target = "name"  # names read best A to Z first
            state = ("descending" if descending else "ascending") if current else "none"
            links[column] = {"url": self.url(sort=target), "aria": state}
        return links
