"""The console's settings for the tests: a fixed test-only SECRET_KEY, set in the environment so
that every subprocess a test starts (workers, servers, management commands) gets it too."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-real-console-0123456789")

from console.settings import *  # noqa: E402, F403

# PBKDF2 costs about 1.4 s per user created on this machine, and most tests create one or two: the
# tests hash with MD5 (never a real console). The default hashers stay listed, so every hash verifies.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
