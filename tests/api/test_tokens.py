"""Personal API tokens: stored hashed, shown once, named, revoked; bearer and session auth."""

import hashlib

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from api.models import ApiToken

pytestmark = pytest.mark.django_db
TASKS = "/api/v1/tasks/"


def test_the_profile_page_creates_a_token_shown_once_and_stores_only_its_hash(client_alice, user):
    response = client_alice.post(reverse("profile"), {"name": "ci-pipeline"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    text = response.context["created_text"]
    assert text.startswith(f"mcc_{token.prefix}_") and text in response.content.decode()
    assert token.digest == hashlib.sha256(text.encode()).hexdigest() and token.name == "ci-pipeline"
    again = client_alice.get(reverse("profile")).content.decode()
    assert text not in again and token.prefix in again and "ci-pipeline" in again
    assert "<script>" not in again and " onclick" not in again


def test_a_token_needs_a_name(client_alice, user):
    response = client_alice.post(reverse("profile"), {"name": "  "})
    assert response.status_code == 400
    assert "Name the token with 1 to 60 characters" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_rename_and_revoke_are_the_owners_only(client_alice, user, other_user, token):
    mine = ApiToken.objects.get(user=user)
    theirs, _text = ApiToken.issue(other_user, "bob-ci")
    for name in ("profile_token_rename", "profile_token_revoke"):
        assert client_alice.post(reverse(name, args=[theirs.pk]), {"name": "x"}).status_code == 404
    client_alice.post(reverse("profile_token_rename", args=[mine.pk]), {"name": "nightly"})
    client_alice.post(reverse("profile_token_revoke", args=[mine.pk]))
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.name == "nightly" and mine.revoked is not None and theirs.revoked is None


def test_a_bearer_token_authenticates_and_records_its_last_use(api, user):
    assert ApiToken.objects.get(user=user).last_used is None
    response = api.get(TASKS)
    assert response.status_code == 200 and response.json()["count"] == 0
    assert ApiToken.objects.get(user=user).last_used is not None


@pytest.mark.parametrize(
    "header",
    ["Bearer mcc_00000000_nope", "Bearer", "Bearer a b", "Bearer \u00e9t\u00e9"],
)
def test_a_bad_token_is_401_json(header, user):
    client = APIClient()
    response = client.get(TASKS, HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_credentials_is_401_json():
    response = APIClient().get(TASKS)
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
    }


def test_a_revoked_token_and_an_inactive_user_are_refused(api, user):
    token = ApiToken.objects.get(user=user)
    token.revoke()
    assert api.get(TASKS).status_code == 401
    token2, text = ApiToken.issue(user, "again")
    user.is_active = False
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    assert client.get(TASKS).status_code == 401


def test_session_auth_works_and_needs_csrf_for_writes(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get(TASKS).status_code == 200
    response = client.post(TASKS, {}, content_type="application/json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["message"]


def test_staff_revoke_tokens_in_the_admin_without_seeing_digests(admin_client, user, token):
    found = ApiToken.objects.get(user=user)
    page = admin_client.get(reverse("admin:api_apitoken_change", args=[found.pk]))
    assert page.status_code == 200 and found.digest not in page.content.decode()
    admin_client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [found.pk]},
    )
    found.refresh_from_db()
    assert found.revoked is not None
