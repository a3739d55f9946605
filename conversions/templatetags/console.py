"""Small display helpers for the console's pages."""

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """`0.8 s`, `42 s`, `3 min 05 s`, `2 h 04 min`; an en dash when there is none. Under ten
    seconds with a tenth: a task on a warm child ends in about a second, not "0 s"."""
    if value is None:
        return "–"
    if value.total_seconds() < 10:  # cut to the tenth, as longer ones are cut to the second
        return _("%(s).1f s") % {"s": max(int(value.total_seconds() * 10), 0) / 10}
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("%(s)d s") % {"s": seconds}
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": seconds}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}


@register.filter
def verdict_label(value: str) -> str:
    """A verdict ("pass", "warn", "fail") in the reader's language; anything else as it is."""
    labels = {
        "pass": pgettext("verdict", "pass"),
        "warn": pgettext("verdict", "warn"),
        "fail": pgettext("verdict", "fail"),
    }
    return labels.get(value, value)
