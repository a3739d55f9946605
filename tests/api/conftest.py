import pytest
from rest_framework.test import APIClient

from api.models import ApiToken


@pytest.fixture
def token(user) -> str:
    return ApiToken.issue(user, "ci")[1]


@pytest.fixture
def api(token) -> APIClient:
    """An API client that sends alice's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api_bob(other_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(other_user, 'b')[1]}")
    return client


@pytest.fixture
def api_staff(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(staff_user, 's')[1]}")
    return client
