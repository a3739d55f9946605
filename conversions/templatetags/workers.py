from django import template

from conversions.models import Worker
from conversions.views_workers import template_support

register = template.Library()


@register.simple_tag(takes_context=True)
def template_support_reason(context, conversion_template) -> str:
    """Why no live worker can run this template now, or ''. Live workers are read once a page."""
    request = context.get("request")
    workers = getattr(request, "_live_workers", None)
    if workers is None:
        workers = list(Worker.objects.live())
        if request is not None:
            request._live_workers = workers
    return template_support(conversion_template, workers)
