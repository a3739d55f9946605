"""The console's SECRET_KEY: the environment's, else the git-ignored local file `make setup` makes.

SECRET_KEY signs sessions, CSRF tokens and django-q2's pickled task messages: whoever knows it can
run code in a worker. So the published placeholder and an empty key are refused unless DEBUG is on.

`python -m console.secret_key` creates the file once (mode 0600) and leaves an existing one alone.
That needs no settings, so it works before the settings can load.
"""

import os
import secrets
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

PLACEHOLDER = "dev-only-insecure-secret-change-me"
DEFAULT_FILE = Path(__file__).resolve().parent.parent / ".secret_key"


def key_file() -> Path:
    return Path(os.getenv("SECRET_KEY_FILE", DEFAULT_FILE))


def create(path: Path | None = None) -> bool:
    """Write a new random key to `path` unless it exists; True when one was written."""
    path = path or key_file()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50) + "\n")
    return True


def load(*, debug: bool) -> str:
    """The key to use: SECRET_KEY from the environment wins, then the key file.

    Raises ImproperlyConfigured (with an actionable message) for a missing, empty or placeholder key unless
    `debug`, where the placeholder stands in for a missing key.
    """
    key = os.getenv("SECRET_KEY")
    source = "the SECRET_KEY environment variable"
    if key is None:
        path = key_file()
        source = str(path)
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = None
        except OSError as exc:
            raise ImproperlyConfigured(
                f"Cannot read the secret key file {path}: {exc.strerror}."
            ) from exc
    key = (key or "").strip()
    if key and key != PLACEHOLDER:
        return key
    if debug:
        return key or PLACEHOLDER
    if not key and source != "the SECRET_KEY environment variable" and not key_file().exists():
        problem = "No SECRET_KEY is set and there is no key file"
    elif not key:
        problem = f"The secret key in {source} is empty"
    else:
        problem = f"The secret key in {source} is the published placeholder"
    raise ImproperlyConfigured(
        f"{problem}. Run `make setup` (or `python -m console.secret_key`) to create "
        f"{key_file()} with a random key, or set SECRET_KEY to a long random value "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))"), the same for the web '
        "process and every worker. DEBUG=true accepts the placeholder for development only."
    )


if __name__ == "__main__":
    target = key_file()
    if create(target):
        print(f"Created {target} with a new random SECRET_KEY (keep it private, back it up).")
    sys.exit(0)
