"""Fair use: how many tasks one user may have initializing or running at once.

MAX_ACTIVE_TASKS_PER_USER (default 4, 0 = no limit) holds for everyone, staff included. The create
form (web and `manage.py convert`) and retry ask `active_task_refusal` before a task becomes active.
It is checked, not locked: two creations at the very same moment may pass it together.
"""

from django.conf import settings
from django.utils.translation import gettext as _

from conversions.models import ConversionTask


def active_task_refusal(user) -> str:
    """Why `user` may not start one more task now, or ''."""
    limit = settings.MAX_ACTIVE_TASKS_PER_USER
    if not limit or user is None:
        return ""
    active = ConversionTask.objects.filter(owner=user).active().count()
    if active < limit:
        return ""
    return _(
        "You already have %(count)d tasks initializing or running, and %(limit)d at once is the "
        "limit: wait until one of them ends, or cancel one, then try again."
    ) % {"count": active, "limit": limit}
