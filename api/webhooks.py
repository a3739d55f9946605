"""Webhooks: a signed JSON event to a user's URLs when one of their tasks ends.

Each hook has its own secret. A delivery POSTs the event with
`X-MCC-Timestamp: <unix seconds>` and `X-MCC-Signature: sha256=<hex>`, the HMAC-SHA256 of
`<timestamp>.<body>` under the secret: a receiver recomputes it and refuses an old timestamp, so a
captured request cannot be replayed later. Deliveries run on a worker of WEBHOOK_QUEUE; a failure
(no answer, or a status outside 2xx) is retried up to WEBHOOK_ATTEMPTS times with a doubling pause
(WEBHOOK_BACKOFF seconds first). Redirects are not followed. A URL whose host resolves to a
private, loopback, link-local or reserved address is refused, when registered and again before
each attempt, unless WEBHOOK_ALLOW_PRIVATE is set.
"""

import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_q.tasks import async_task

EVENTS = ("succeeded", "failed", "canceled")
KEEP_DELIVERIES = timedelta(days=30)  # older delivery records go when new ones are made
logger = logging.getLogger(__name__)


class WebhookError(ValueError):
    """Why a URL may not receive webhooks (a message for the user)."""


def check_url(url: str) -> str:
    """`url` if it may receive webhooks, else WebhookError with the reason."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise WebhookError(_("Enter an http:// or https:// URL of at most 500 characters."))
    if parts.username or parts.password:
        raise WebhookError(_("Leave the user name and password out of the URL."))
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return url.strip()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        raise WebhookError(
            _("The host %(host)s could not be resolved.") % {"host": parts.hostname}
        ) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise WebhookError(
                _(
                    "The host %(host)s is a private or loopback address (%(address)s): webhooks "
                    "go to public addresses only, unless an administrator allows private ones."
                )
                % {"host": parts.hostname, "address": address}
            )
    return url.strip()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Webhook(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(_lazy("URL"), max_length=500)
    secret = models.CharField(max_length=64, editable=False)
    created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return self.url

    @classmethod
    def register(cls, user, url: str) -> "Webhook":
        """A new hook for `user` (WebhookError when the URL is refused); its secret is fresh."""
        return cls.objects.create(user=user, url=check_url(url), secret=secrets.token_hex(32))


class Delivery(models.Model):
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    task_id = models.BigIntegerField()
    event = models.CharField(max_length=32)
    body = models.TextField()
    created = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    delivered = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.event} -> {self.webhook_id}"


def event_body(task) -> dict:
    return {
        "event": f"task.{task.status}",
        "task": {
            "id": task.pk,
            "name": task.name,
            "owner": task.owner.get_username(),
            "template": task.template.slug,
            "status": task.status,
            "error_message": task.error_message,
            "finished": task.finished.isoformat() if task.finished else None,
            "url": f"/api/v1/tasks/{task.pk}/",
        },
    }


def task_ended(sender, task, **kwargs) -> None:
    """Queue one delivery per hook of the task's owner once the state change commits; a failure
    here is logged, never raised into the worker that ended the task."""
    if task.status not in EVENTS:
        return
    try:
        _queue_deliveries(task)
    except Exception:
        logger.exception("task %s: webhook deliveries not queued", task.pk)


def _queue_deliveries(task) -> None:
    hooks = list(Webhook.objects.filter(user_id=task.owner_id))
    if not hooks:
        return
    Delivery.objects.filter(created__lt=timezone.now() - KEEP_DELIVERIES).delete()
    body = json.dumps(event_body(task), sort_keys=True)
    for hook in hooks:
        delivery = Delivery.objects.create(
            webhook=hook, task_id=task.pk, event=f"task.{task.status}", body=body
        )
        transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))


def enqueue(delivery_id: int) -> None:
    async_task(
        "api.webhooks.deliver",
        delivery_id,
        cluster=settings.QUEUE_NAMESPACE + settings.WEBHOOK_QUEUE,
        task_name=f"webhook-{delivery_id}",
    )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx is the answer, not a hop to somewhere else


OPENER = urllib.request.build_opener(_NoRedirects)


def _attempt(delivery: Delivery) -> tuple[int | None, str]:
    """(status code or None, error) of one POST."""
    try:
        check_url(delivery.webhook.url)
    except WebhookError as exc:
        return None, str(exc)
    timestamp, body = int(time.time()), delivery.body.encode()
    request = urllib.request.Request(
        delivery.webhook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "model-conversion-console-webhook/1",
            "X-MCC-Event": delivery.event,
            "X-MCC-Delivery": str(delivery.pk),
            "X-MCC-Timestamp": str(timestamp),
            "X-MCC-Signature": sign(delivery.webhook.secret, timestamp, body),
        },
    )
    try:
        with OPENER.open(request, timeout=settings.WEBHOOK_TIMEOUT) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except (OSError, ValueError) as exc:
        return None, str(exc)[:300]


def deliver(delivery_id: int) -> str:
    """The worker job: POST the event, retrying with a doubling pause until 2xx or out of tries."""
    delivery = Delivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.delivered:
        return "skipped"
    pause = settings.WEBHOOK_BACKOFF
    while delivery.attempts < settings.WEBHOOK_ATTEMPTS:
        started = time.monotonic()
        status_code, error = _attempt(delivery)
        delivery.attempts += 1
        delivery.status_code, delivery.error = status_code, error
        delivery.duration_ms = int((time.monotonic() - started) * 1000)
        delivery.delivered = status_code is not None and 200 <= status_code < 300
        delivery.save()
        if delivery.delivered:
            return "delivered"
        if delivery.attempts < settings.WEBHOOK_ATTEMPTS:
            time.sleep(pause)
            pause *= 2
    return "failed"
