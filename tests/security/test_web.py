"""Web hardening: no request value in script, a strict CSP, strict numbers, a real key, lockout."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from conversions.models import ConversionTask
from conversions.params import positive_int, positive_ints
from tests.helpers import make_task

ROOT = Path(__file__).resolve().parent.parent.parent
PAYLOAD = "x');alert(document.domain);//"
TAG = '<img src=x onerror="alert(1)">'
pytestmark = pytest.mark.django_db


# --- no request value in script ---------------------------------------------------------------


def handlers(page: str) -> list[str]:
    """The inline event handler attributes (onclick=...) and inline scripts of an HTML page."""
    found = []

    class Parser(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(f"{tag} {name}" for name, _value in attrs if name.startswith("on"))
            if tag == "script" and not dict(attrs).get("src"):
                found.append("inline <script>")

    Parser().feed(page)
    return found


def test_the_browse_xss_payload_lands_nowhere_as_script(client_alice, alice_home):
    (alice_home / "models" / TAG).mkdir(parents=True)
    response = client_alice.get(
        reverse("conversions:browse"), {"field": PAYLOAD, "path": "models/"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "alert(document.domain)" not in page  # `field` is one of two names, never echoed
    assert "<img" not in page  # a folder's name is escaped
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert handlers(page) == []
    assert 'data-fill="id_input_location"' in page


def test_the_browse_button_sends_the_fields_value_as_the_path(client_alice, alice_home):
    (alice_home / "models" / "cnn").mkdir(parents=True)
    response = client_alice.get(
        reverse("conversions:browse"),
        {"field": "output_location", "output_location": "models/"},
    )
    page = response.content.decode()
    assert 'data-fill="id_output_location" data-value="models/cnn/"' in page


INLINE = [
    (r"\son[a-z]+\s*=", "an inline event handler"),
    (r"<script(?![^>]*\bsrc=)", "an inline <script>"),
    (r"hx-on", "hx-on (htmx evaluates it)"),
    (r"javascript:", "a javascript: URL"),
    (r"""hx-vals=['"]\s*js:""", "hx-vals with js: (htmx evaluates it)"),
]


def test_no_template_holds_inline_script():
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE:
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(ROOT)}:{line}: {what}")
    assert found == []


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


@pytest.mark.parametrize("name", ["login", "conversions:index", "conversions:create"])
def test_every_page_carries_a_strict_content_security_policy(client_alice, name):
    response = client_alice.get(reverse(name))
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["default-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    page = response.content.decode()
    assert """<meta name="htmx-config" content='{"allowEval":false""" in page


def test_the_admin_loads_under_the_policy(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    response = client.get(reverse("admin:auth_user_change", args=[staff_user.pk]))
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert handlers(response.content.decode()) == []


# --- strict numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0", 0),
        ("42", 42),
        ("²", None),
        ("٣", None),
        ("４２", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1e3", None),
        ("", None),
        (None, None),
        ("9" * 19, None),
        ("9223372036854775807", None),  # 19 digits: longer than an id or offset gets
        ("999999999999999999", 999999999999999999),
    ],
)
def test_positive_int_takes_only_ascii_digits(text, expected):
    assert positive_int(text) == expected


def test_positive_ints_leave_out_what_is_not_a_number():
    assert positive_ints(["1", "²", "x", "", "3", "9" * 25]) == [1, 3]


def test_unicode_digits_and_huge_numbers_are_the_default_or_a_404(client_alice, user):
    task = make_task(user, status=ConversionTask.Status.SUCCEEDED)
    for url in (
        reverse("conversions:index") + "?page=²",
        reverse("conversions:index") + "?page=" + "9" * 30,
        reverse("conversions:index") + "?size=²",
        reverse("conversions:create") + "?like=²",
        reverse("conversions:create") + "?like=" + "9" * 25,
        reverse("conversions:log", args=[task.pk]) + "?after=²",
        reverse("conversions:log", args=[task.pk]) + "?after=" + "9" * 25,
        reverse("conversions:browse") + "?page=²",
        reverse("conversions:browse") + "?page=" + "9" * 25,
    ):
        assert client_alice.get(url).status_code == 200, url
    for url in ("/tasks/99999999999999999999999/", "/tasks/٣/", "/tasks/²/log/"):
        assert client_alice.get(url).status_code == 404, url


def test_batch_delete_ignores_ids_that_are_not_ascii_numbers(client_alice, user):
    task = make_task(user, status=ConversionTask.Status.FAILED)
    response = client_alice.post(
        reverse("conversions:batch_delete"), {"ids": ["²", "9" * 25], "confirm": "1"}
    )
    assert response.status_code == 302  # "Select the tasks to delete first."
    assert ConversionTask.objects.filter(pk=task.pk).exists()


# --- the secret key ---------------------------------------------------------------------------


def settle(env: dict, code: str = "import django; django.setup(); print('started')"):
    """Import the console's settings in a fresh interpreter with exactly these variables."""
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "PRODUCTION")}
    base.update(DJANGO_SETTINGS_MODULE="console.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": "dev-only-insecure-secret-change-me"},
        {"SECRET_KEY": "dev-only-insecure-secret-change-me", "PRODUCTION": "false"},
        {"SECRET_KEY": "dev-only-insecure-secret-change-me", "PRODUCTION": "true"},
        {"SECRET_KEY": ""},
        {"SECRET_KEY": "   "},
        {},  # no key and no key file
    ],
    ids=[
        "placeholder",
        "placeholder-not-production",
        "placeholder-production",
        "empty",
        "blank",
        "none",
    ],
)
def test_the_console_refuses_to_start_without_a_real_key(env, tmp_path):
    done = settle({"SECRET_KEY_FILE": str(tmp_path / "absent"), **env})
    assert done.returncode != 0 and "started" not in done.stdout
    assert "ImproperlyConfigured" in done.stderr
    assert "make setup" in done.stderr and "SECRET_KEY" in done.stderr


def test_debug_accepts_the_placeholder_for_development(tmp_path):
    done = settle(
        {"DEBUG": "true", "SECRET_KEY_FILE": str(tmp_path / "absent")},
        "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "dev-only-insecure-secret-change-me"


def test_the_key_file_is_made_once_private_and_used(tmp_path):
    path = tmp_path / ".secret_key"
    env = {"SECRET_KEY_FILE": str(path)}
    made = settle(env, "import console.secret_key as k; print(k.create())")
    assert made.stdout.strip() == "True" and path.stat().st_mode & 0o777 == 0o600
    key = path.read_text().strip()
    assert len(key) >= 50
    again = settle(env, "import console.secret_key as k; print(k.create())")
    assert again.stdout.strip() == "False" and path.read_text().strip() == key
    used = settle(env, "from django.conf import settings; print(settings.SECRET_KEY)")
    assert used.stdout.strip() == key
    wins = settle({**env, "SECRET_KEY": "from-the-environment-" + "x" * 40}, used.args[-1])
    assert wins.stdout.strip() == "from-the-environment-" + "x" * 40


PRODUCTION = {
    "SECRET_KEY": "aZ3-production-only-Q9x_7mTvL2pW8rKc5nB1yH4jD6fG0sE-uI",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "console.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://console.example.com",
    "HTTPS_PROXY": "1",
    "TRUSTED_PROXIES": "1",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SANDBOX": "required",
}


def test_check_deploy_is_clean_with_the_production_environment_of_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name, value in PRODUCTION.items():
        if name != "SECRET_KEY":
            assert f"{name}={value}" in readme, f"README's production section lacks {name}={value}"
    # The browser tests' conftest sets DJANGO_ALLOW_ASYNC_UNSAFE for this process; no console has it.
    unset = ("SECRET_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="console.settings")
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout


# --- login throttling -------------------------------------------------------------------------


def log_in(client, username, password, address="10.0.0.7"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_the_sixth_wrong_password_locks_out_that_user_from_that_address(client, user, other_user):
    for _ in range(5):
        log_in(client, "alice", "wrong")
    locked = log_in(client, "alice", "alice-pass-123")
    assert locked.status_code == 429
    assert "Login locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from the same address, and alice from elsewhere, still log in.
    assert log_in(client, "bob", "bob-pass-123").status_code == 302
    client.logout()
    assert log_in(client, "alice", "alice-pass-123", address="10.0.0.8").status_code == 302


def test_an_administrator_unlocks_a_locked_user(client, user, staff_user):
    from axes.models import AccessAttempt

    for _ in range(6):
        log_in(client, "alice", "wrong")
    assert log_in(client, "alice", "alice-pass-123").status_code == 429
    staff_user.is_superuser = True
    staff_user.save()
    admin = type(client)()
    admin.force_login(staff_user)
    attempts = reverse("admin:axes_accessattempt_changelist")
    assert admin.get(attempts).status_code == 200
    attempt = AccessAttempt.objects.get(username="alice")
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert log_in(client, "alice", "alice-pass-123").status_code == 302


def test_behind_a_proxy_the_lockout_counts_the_address_the_proxy_saw(client, settings, user):
    settings.TRUSTED_PROXIES = 1

    def via_proxy(password, forwarded):
        return client.post(
            reverse("login"),
            {"username": "alice", "password": password},
            REMOTE_ADDR="10.0.0.1",  # the proxy, for every request
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for attempt in range(6):  # a forged first entry does not make each try a new address
        via_proxy("wrong", f"192.0.2.{attempt}, 198.51.100.7")
    assert via_proxy("alice-pass-123", "198.51.100.7").status_code == 429
    assert via_proxy("alice-pass-123", "198.51.100.8").status_code == 302
