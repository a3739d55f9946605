"""The console's settings for the tests: a fixed test-only SECRET_KEY, set in the environment so
that every subprocess a test starts (workers, servers, management commands) gets it too."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-any-real-console-0123456789")

from console.settings import *  # noqa: E402, F403
