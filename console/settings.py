"""Settings for the Model Conversion Console, driven by the environment.

An empty environment runs the embedded default: SQLite, django-q2's ORM broker and the local data
directory ./data. See README.md for every variable.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console import secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    return os.getenv(name, default).strip().lower() in ("1", "true", "yes", "on")


def envint(name: str, default: int) -> int:
    return int(os.getenv(name, str(default)))


DEBUG = envbool("DEBUG", "false")
# The environment's SECRET_KEY, else the local .secret_key that `make setup` creates; the published
# placeholder or an empty key stops the console unless DEBUG is on (console/secret_key.py).
SECRET_KEY = secret_key.load(debug=DEBUG)
ALLOWED_HOSTS = [h for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Behind a TLS-terminating proxy (README, "Production"). HTTPS_PROXY=1 trusts the proxy's
# X-Forwarded-Proto; TRUSTED_PROXY_HEADER names another header (`X-Forwarded-Proto` form).
# Only set either when the proxy overwrites that header on every request.
_proxy_header = os.getenv("TRUSTED_PROXY_HEADER", "").strip()
if not _proxy_header and envbool("HTTPS_PROXY", "false"):
    _proxy_header = "X-Forwarded-Proto"
if _proxy_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", "false")
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "false")
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", "false")
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", "false")
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_htmx",
    "template_partials",
    "django_q",
    "templates_registry",
    "conversions",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user from one
# address, that user is locked out from that address for AXES_COOLOFF_MINUTES (0: until a staff
# member deletes the lockout in admin, "Access attempts"). Other users and addresses are unaffected.
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
# How many reverse proxies append to X-Forwarded-For in front of the console (0: none, the address
# is REMOTE_ADDR). Set it exactly: one too many trusts an address the client wrote itself.
TRUSTED_PROXIES = envint("TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "console.client_ip.client_ip"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=envint("AXES_COOLOFF_MINUTES", 30)) or None
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content-Security-Policy (django-csp): scripts and styles only from the console's own static
# files, so a value that slips into a page cannot run script. No inline script, no inline handler.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# The REST API (api/): personal tokens or the session (with CSRF); JSON in and out; errors as
# {"code", "message"} (api/errors.py).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "api.errors.handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Model Conversion Console API",
    "DESCRIPTION": "Convert models from scripts: templates, tasks, folders, inspections.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the console's own static files (no CDN; script-src 'self').
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]

# SQLite is the embedded default. WAL plus IMMEDIATE transactions let the web process and the worker
# write the same file without "database is locked".
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
DATABASE_URL = os.getenv("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["OPTIONS"] = SQLITE_OPTIONS
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file so that a worker process can see what the test wrote.
    DATABASES["default"]["TEST"] = {
        "NAME": os.getenv("TEST_DB_PATH", str(BASE_DIR / ".test-db.sqlite3"))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.getenv("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Serve straight from static/ and the apps too, so a console started without collectstatic works.
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "conversions:index"
LOGOUT_REDIRECT_URL = "login"

# Batch delete posts one id per task; 1,000 selected tasks plus the form's own fields must fit.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000

# Where local locations live. Relative locations such as `models/resnet50/` resolve inside it.
DATA_DIR = Path(os.getenv("DATA_DIR", BASE_DIR / "data")).resolve()
# Private scratch space for staging and converting; one folder per attempt, removed afterwards.
WORK_DIR = Path(os.getenv("WORK_DIR", BASE_DIR / "work")).resolve()

# Object storage for obs:// and s3:// locations: one S3-protocol store (Huawei OBS, AWS S3, MinIO).
# Users name buckets and folders only; endpoint and credentials live here and never reach the
# converter child. OBS: S3_ENDPOINT_URL=https://obs.<region>.myhuaweicloud.com, S3_REGION=<region>.
S3_ENDPOINT_URL = os.getenv("S3_ENDPOINT_URL", "")
S3_REGION = os.getenv("S3_REGION", "")
S3_ACCESS_KEY_ID = os.getenv("S3_ACCESS_KEY_ID", "")
S3_SECRET_ACCESS_KEY = os.getenv("S3_SECRET_ACCESS_KEY", "")
S3_ENABLED = envbool("S3_ENABLED", "true" if S3_ENDPOINT_URL or S3_ACCESS_KEY_ID else "false")
S3_ADDRESSING_STYLE = os.getenv("S3_ADDRESSING_STYLE", "auto")  # auto, path or virtual
S3_SIGNATURE_VERSION = os.getenv("S3_SIGNATURE_VERSION", "s3v4")
S3_CONNECT_TIMEOUT = envint("S3_CONNECT_TIMEOUT", 10)  # seconds
S3_READ_TIMEOUT = envint("S3_READ_TIMEOUT", 60)
S3_MAX_ATTEMPTS = envint("S3_MAX_ATTEMPTS", 3)  # per request, transient errors only
S3_MULTIPART_THRESHOLD_MB = envint("S3_MULTIPART_THRESHOLD_MB", 64)
S3_MULTIPART_CHUNK_MB = envint("S3_MULTIPART_CHUNK_MB", 16)
S3_MAX_CONCURRENCY = envint("S3_MAX_CONCURRENCY", 4)
S3_PRESIGN_SECONDS = envint("S3_PRESIGN_SECONDS", 300)
# "redirect": artifacts download from the store through a presigned URL; "stream": through the
# console, for stores the users' browsers cannot reach.
ARTIFACT_DOWNLOAD = os.getenv("ARTIFACT_DOWNLOAD", "redirect")
# The largest input folder a task may stage, from any location.
MAX_MODEL_SIZE_MB = envint("MAX_MODEL_SIZE_MB", 2048)
# Entries per page in the create form's folder browser.
BROWSE_PAGE_SIZE = envint("BROWSE_PAGE_SIZE", 100)

# Limits for the converter child process (per-template values may override).
CONVERSION_TIMEOUT = envint("CONVERSION_TIMEOUT", 900)  # seconds of wall clock
CONVERSION_CPU_SECONDS = envint("CONVERSION_CPU_SECONDS", 3600)
CONVERSION_MEMORY_MB = envint("CONVERSION_MEMORY_MB", 4096)
# The converter child's Landlock sandbox: "on" (confined where the kernel allows, else it runs
# unconfined and the workers page says so), "required" (no conversion without it; for production)
# or "off". SANDBOX_READ_PATHS: extra read-only folders the child needs, separated by ":" (standard
# TensorRT's libraries, a CANN install that ATC_PATH and ASCEND_* do not name).
SANDBOX = os.getenv("SANDBOX", "on").strip().lower()
if SANDBOX not in ("on", "required", "off"):
    raise ImproperlyConfigured(f"SANDBOX must be on, required or off, not {SANDBOX!r}.")
# Each worker process keeps one converter child started ahead of its job, TensorFlow imported
# (conversions/warm.py): a task skips the child's start. Off: every job starts a cold child.
WARM_CHILDREN = os.getenv("WARM_CHILDREN", "on").strip().lower()
if WARM_CHILDREN not in ("on", "off"):
    raise ImproperlyConfigured(f"WARM_CHILDREN must be on or off, not {WARM_CHILDREN!r}.")
WARM_CHILDREN = WARM_CHILDREN == "on"
SANDBOX_READ_PATHS = [p for p in os.getenv("SANDBOX_READ_PATHS", "").split(os.pathsep) if p]
# Two tasks never write one output folder at once: the later one waits this many seconds for the
# earlier to finish publishing, then fails plainly.
OUTPUT_CLAIM_WAIT = envint("OUTPUT_CLAIM_WAIT", 60)
# Running tasks and workers beat this often (seconds). A task or worker silent for WORKER_LOST_AFTER
# is lost: the reaper, which every worker runs each REAPER_INTERVAL, fails its task ("worker lost").
HEARTBEAT_INTERVAL = envint("HEARTBEAT_INTERVAL", 5)
WORKER_LOST_AFTER = envint("WORKER_LOST_AFTER", 30)
REAPER_INTERVAL = envint("REAPER_INTERVAL", 10)
# SIGTERM to `manage.py worker`: a running conversion may finish within this many seconds, else it
# fails with "worker stopped".
WORKER_STOP_GRACE = envint("WORKER_STOP_GRACE", 60)

# "Inspect model" on the create form runs on a worker of this queue; an inspection not done within
# INSPECT_TIMEOUT seconds of being asked for (waiting for a worker included) is given up with a message.
INSPECT_QUEUE = os.getenv("INSPECT_QUEUE", "cpu")
INSPECT_TIMEOUT = envint("INSPECT_TIMEOUT", 300)
# Webhooks (api/webhooks.py): delivered by a worker of WEBHOOK_QUEUE, WEBHOOK_ATTEMPTS tries with a
# pause doubling from WEBHOOK_BACKOFF seconds, WEBHOOK_TIMEOUT seconds each. Destinations on
# private, loopback or link-local addresses are refused unless WEBHOOK_ALLOW_PRIVATE=true.
WEBHOOK_QUEUE = os.getenv("WEBHOOK_QUEUE", "cpu")
WEBHOOK_ATTEMPTS = envint("WEBHOOK_ATTEMPTS", 5)
WEBHOOK_BACKOFF = envint("WEBHOOK_BACKOFF", 2)
WEBHOOK_TIMEOUT = envint("WEBHOOK_TIMEOUT", 10)
WEBHOOK_ALLOW_PRIVATE = envbool("WEBHOOK_ALLOW_PRIVATE", "false")
# Initializing or running tasks one user may have at once (staff too); creating or retrying one
# more is refused. 0: no limit.
MAX_ACTIVE_TASKS_PER_USER = envint("MAX_ACTIVE_TASKS_PER_USER", 4)
# `manage.py worker` lowers its CPU priority (and its converters') by this much (0-19), so a web
# process on the same host stays responsive while models convert.
WORKER_NICE = envint("WORKER_NICE", 0)

# The queues this worker serves, comma-separated (`cpu`, `gpu`); each template names its queue.
WORKER_QUEUES = [q.strip() for q in os.getenv("WORKER_QUEUE", "cpu").split(",") if q.strip()]
WORKER_QUEUE = WORKER_QUEUES[0]
# Prefix of the broker's queue names, so two consoles (or two test runs) can share one Redis.
QUEUE_NAMESPACE = os.getenv("QUEUE_NAMESPACE", "")
# How often (seconds) an idle qcluster asks the database broker for a task: the pick-up delay. A
# Redis broker does not poll (it blocks on BLPOP and gets each task as it is pushed).
QUEUE_POLL_SECONDS = float(os.getenv("QUEUE_POLL_SECONDS", "0.1"))
# How often `manage.py convert --wait` reads the task's state and new log lines.
CONVERT_POLL_SECONDS = float(os.getenv("CONVERT_POLL_SECONDS", "0.1"))
Q_CLUSTER = {
    # `name` salts the signed payloads: the same for every process of the site (web and workers).
    "name": "console",
    # The queue this qcluster pulls from; `manage.py worker` starts one qcluster per queue.
    "cluster_name": QUEUE_NAMESPACE + WORKER_QUEUE,
    "workers": envint("WORKER_COUNT", 1),
    "orm": "default",
    # The task row is the source of truth: never redeliver (a model that crashed a converter will
    # crash it again), and retry must exceed timeout or a long conversion goes to a second worker.
    "timeout": CONVERSION_TIMEOUT + 120,
    "retry": CONVERSION_TIMEOUT + 600,
    "max_attempts": 1,
    "ack_failures": True,
    "save_limit": 1000,
    "catch_up": False,
    "poll": QUEUE_POLL_SECONDS,
    # Prefetch as little as possible: what a qcluster holds in memory is lost if it is killed.
    "queue_limit": 1,
}
REDIS_URL = os.getenv("REDIS_URL", "")
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": sys.stderr}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    # axes: lockouts are warnings; every successful login at INFO is noise.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
