"""Folder grants: access for a user or a group to a folder outside their home (conversions/access.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class GrantQuerySet(models.QuerySet):
    def for_user(self, user):
        """The grants given to `user` directly or to one of their groups."""
        return self.filter(Q(user=user) | Q(group__in=user.groups.all()))


class FolderGrant(models.Model):
    """Access for a user or a group to a folder outside their home (see conversions/access.py)."""

    class Access(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="folder_grants",
    )
    group = models.ForeignKey(
        "auth.Group",
        verbose_name=_("group"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="folder_grants",
    )
    location = models.CharField(
        _("folder"),
        max_length=1024,
        help_text=_(
            "A folder from the root of the data directory (/shared/models/), or "
            "obs://bucket/prefix/ or s3://bucket/prefix/. Everything below it is covered."
        ),
    )
    access = models.CharField(
        _("access"), max_length=16, choices=Access.choices, default=Access.READ
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["location", "pk"]
        verbose_name = _("folder grant")
        verbose_name_plural = _("folder grants")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="grant_to_user_or_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group}: {self.location} ({self.get_access_display()})"

    def clean(self):
        from django.core.exceptions import ValidationError

        from conversions.access import normalize_grant
        from conversions.locations import LocationError

        if (self.user_id is None) == (self.group_id is None):
            raise ValidationError(
                _("Give the grant to one user or to one group, not both and not neither.")
            )
        try:
            self.location = normalize_grant(self.location)
        except LocationError as exc:
            raise ValidationError({"location": str(exc)}) from None
