"""The web process imports no worker module: not the pipeline, not the child launcher, no TensorFlow."""

import json
import subprocess
import sys

from tests.conftest import ROOT

WORKER_ONLY = (
    "conversions.pipeline",
    "conversions.isolation",
    "conversions.sandbox",
    "conversions.warm",
    "conversions.supervisor",
    "conversions.converters.tflite",
    "conversions.converters.tfsource",
    "conversions.converters.verify",
    "tensorflow",
    "keras",
)

SCRIPT = """
import json, sys
import django
django.setup()
from django.urls import get_resolver
import console.urls, console.wsgi, conversions.forms, conversions.admin, conversions.views_inspect

def walk(patterns):
    for pattern in patterns:
        walk(getattr(pattern, "url_patterns", []))
        getattr(pattern, "callback", None)

walk(get_resolver().url_patterns)
print(json.dumps(sorted(sys.modules)))
"""


def test_the_web_process_imports_no_worker_module(settings):
    env = {"DJANGO_SETTINGS_MODULE": "console.settings", "PATH": "/usr/bin:/bin"}
    env["SECRET_KEY"] = "web-imports-test-key-0123456789-0123456789-0123456789"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert "conversions.jobs" in loaded and "conversions.views" in loaded  # it did load the web
    found = [m for m in loaded if m in WORKER_ONLY or m.startswith(("tensorflow.", "keras."))]
    assert found == []
