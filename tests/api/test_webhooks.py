"""Webhooks: registered on the profile page, signed, delivered by the worker job, retried after a
500, private destinations refused unless allowed."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from api.webhooks import Delivery, Webhook, deliver
from conversions.models import ConversionTask
from tests.helpers import make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


@pytest.fixture
def receiver():
    """A local HTTP server answering each POST with the next status of `statuses` (then 200)."""
    received, statuses = [], []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() waits for the loop's next poll: 0.5 s by default, on every test
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received, statuses
    server.shutdown()
    server.server_close()


@pytest.fixture
def allow_private(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_BACKOFF = 0
    settings.WEBHOOK_ATTEMPTS = 3


def test_an_ended_task_is_delivered_signed_and_retried_after_a_500(
    user, receiver, allow_private, django_capture_on_commit_callbacks
):
    url, received, statuses = receiver
    hook = Webhook.register(user, url)
    task = make_task(user, status=S.RUNNING)
    statuses.append(500)
    with django_capture_on_commit_callbacks(execute=True):
        task.mark_failed("the model is broken")
    delivery = Delivery.objects.get()
    assert OrmQ.objects.filter(key="cpu").count() == 1  # on the worker queue
    assert deliver(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.delivered and delivery.attempts == 2 and delivery.status_code == 200
    assert delivery.duration_ms is not None and len(received) == 2
    headers, body = received[-1]
    expected = hmac.new(
        hook.secret.encode(), f"{headers['x-mcc-timestamp']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["x-mcc-signature"], f"sha256={expected}")
    event = json.loads(body)
    assert event["event"] == "task.failed" and event["task"]["id"] == task.pk
    assert event["task"]["error_message"] == "the model is broken"


def test_a_destination_that_keeps_failing_is_given_up_after_the_attempts(
    user, receiver, allow_private
):
    url, received, statuses = receiver
    statuses.extend([500, 502, 503])
    task = make_task(user, status=S.RUNNING)
    Webhook.register(user, url)
    task.mark_canceled()
    assert deliver(Delivery.objects.get().pk) == "failed"
    delivery = Delivery.objects.get()
    assert delivery.attempts == 3 and delivery.status_code == 503 and not delivery.delivered


def test_only_the_owners_hooks_hear_of_a_task_and_only_when_it_ends(
    user, other_user, receiver, allow_private
):
    url, _received, _statuses = receiver
    Webhook.register(other_user, url)
    task = make_task(user, status=S.INITIALIZING)
    task.claim("w")
    task.mark_canceled()
    assert not Delivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/x",
        "http://localhost/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/x",
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
    ],
)
def test_private_and_odd_destinations_are_refused_on_the_profile_page(client_alice, user, url):
    response = client_alice.post(reverse("profile_webhook_add"), {"url": url})
    assert response.status_code == 400
    assert not Webhook.objects.exists()


def test_a_private_destination_registered_while_allowed_is_refused_at_delivery(
    user, receiver, allow_private, settings
):
    url, received, _statuses = receiver
    Webhook.register(user, url)
    task = make_task(user, status=S.RUNNING)
    task.mark_canceled()
    settings.WEBHOOK_ALLOW_PRIVATE = False
    assert deliver(Delivery.objects.get().pk) == "failed"
    assert not received and "private or loopback" in Delivery.objects.get().error


def test_the_profile_page_adds_shows_the_secret_once_and_deletes(
    client_alice, user, other_user, allow_private
):
    response = client_alice.post(reverse("profile_webhook_add"), {"url": "http://127.0.0.1:9/h"})
    hook = Webhook.objects.get(user=user)
    assert response.status_code == 200 and hook.secret in response.content.decode()
    page = client_alice.get(reverse("profile")).content.decode()
    assert hook.secret not in page and "http://127.0.0.1:9/h" in page
    assert "<title>API tokens</title>" in page and page.count("<h2>Webhooks</h2>") == 1
    theirs = Webhook.register(other_user, "http://127.0.0.1:9/b")
    assert client_alice.post(reverse("profile_webhook_delete", args=[theirs.pk])).status_code == 404
    client_alice.post(reverse("profile_webhook_delete", args=[hook.pk]))
    assert list(Webhook.objects.all()) == [theirs]


def test_delivery_records_older_than_30_days_go_when_new_ones_are_made(
    user, receiver, allow_private
):
    from datetime import timedelta

    from django.utils import timezone

    url, _received, _statuses = receiver
    hook = Webhook.register(user, url)
    old = Delivery.objects.create(
        webhook=hook,
        task_id=1,
        event="task.failed",
        body="{}",
        created=timezone.now() - timedelta(days=31),
    )
    make_task(user, status=S.RUNNING).mark_canceled()
    assert list(Delivery.objects.values_list("event", flat=True)) == ["task.canceled"]
    assert not Delivery.objects.filter(pk=old.pk).exists()
