"""Personal API tokens: shown once, stored as a SHA-256 digest with a short prefix to recognise.

A token reads `mcc_<prefix>_<secret>`; only its digest is stored, so a leaked database gives no
usable token. The prefix (8 characters) is shown on the profile page to tell tokens apart.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SCHEME = "mcc_"
LAST_USED_EVERY = timedelta(minutes=1)  # last_used is written at most this often per token


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(revoked__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=8, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = TokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str) -> tuple["ApiToken", str]:
        """A new token for `user`: (the stored row, the token text to show once)."""
        prefix = secrets.token_hex(4)
        text = f"{SCHEME}{prefix}_{secrets.token_urlsafe(32)}"
        return cls.objects.create(user=user, name=name, prefix=prefix, digest=digest(text)), text

    @classmethod
    def find(cls, text: str) -> "ApiToken | None":
        """The live token of an active user that `text` is, or None."""
        if not text.startswith(SCHEME) or len(text) > 200:
            return None
        found = (
            cls.objects.live()
            .select_related("user")
            .filter(digest=digest(text), user__is_active=True)
            .first()
        )
        if found is not None:
            found.touch()
        return found

    def touch(self, now=None) -> None:
        now = now or timezone.now()
        if self.last_used is None or now - self.last_used >= LAST_USED_EVERY:
            ApiToken.objects.filter(pk=self.pk).update(last_used=now)
            self.last_used = now

    def revoke(self) -> bool:
        changed = ApiToken.objects.filter(pk=self.pk, revoked__isnull=True).update(
            revoked=timezone.now()
        )
        return bool(changed)


# Registered with this app here; the webhooks live in their own module.
from api.webhooks import Delivery, Webhook  # noqa: E402

__all__ = ["ApiToken", "Delivery", "Webhook"]
