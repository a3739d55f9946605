import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from hypothesis import settings as hypothesis_settings

from tests import modelkit
from tests.helpers import PLACEHOLDER_PB

ROOT = Path(__file__).resolve().parent.parent

# The fuzz tests (tests/security/test_fuzz.py) try 60 query strings per view; `make test-fast` loads
# the `fast` profile (--hypothesis-profile=fast), `make test` fuzzes in full.
hypothesis_settings.register_profile("full", max_examples=60)
hypothesis_settings.register_profile("fast", max_examples=15)
hypothesis_settings.load_profile("full")


# A test that asks for one of these fixtures builds real TensorFlow models (and, mostly, converts
# them) or starts worker processes: it is marked so whatever it is named, and `make test-fast`
# (-m "not slow and not worker and not browser") leaves it to `make test`.
REAL_MODELS = {
    "cnn_pb",
    "cnn_folder",
    "cnn_saved_model",
    "biased_cnn_pb",
    "outlier_dir",
    "mobilenet_dirs",
}
WORKERS = {"worker", "workers"}


# Rough seconds a test of each mark costs, to start the heaviest modules first (below).
COST = {"worker": 10, "browser": 2, "slow": 1.5}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & REAL_MODELS:
            item.add_marker(pytest.mark.slow)
        if used & WORKERS:
            item.add_marker(pytest.mark.worker)

    # The heaviest modules first, each module's tests kept together and in order: `make test` hands
    # modules to two processes as they free up (pytest-xdist --dist loadfile), and a long module
    # started last would leave one core idle at the end.
    def module(item) -> str:
        return item.nodeid.split("::")[0]

    cost: dict[str, float] = {}
    for item in items:
        marks = {mark.name for mark in item.iter_markers()}
        spent = max((COST[name] for name in marks & COST.keys()), default=0.1)
        cost[module(item)] = cost.get(module(item), 0) + spent
    items.sort(key=lambda item: -cost[module(item)])


@pytest.fixture(scope="session", autouse=True)
def translations():
    """Compiled catalogues, as `make setup` leaves them (the .mo files are not in git)."""
    from conversions.management.commands.compile_translations import compile_catalogues

    compile_catalogues()


@pytest.fixture(autouse=True)
def dirs(settings, tmp_path):
    """A private data directory and work directory for every test."""
    settings.DATA_DIR = tmp_path / "data"
    settings.WORK_DIR = tmp_path / "work"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def home(dirs):
    """home(user_or_name) -> the user's home folder (made), where their `models/x/` lies."""
    from conversions import access

    def home_of(user) -> Path:
        name = user if isinstance(user, str) else user.get_username()
        folder = dirs / access.USERS / access.home_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    return home_of


@pytest.fixture
def alice_home(home) -> Path:
    """alice's home folder: the `user` fixture's `models/x/` and `out/x/` are here."""
    return home("alice")


@pytest.fixture(scope="session")
def cnn_pb(tmp_path_factory) -> Path:
    """A small Keras CNN (32x32x3 -> 10) frozen to model/cnn.pb; input `input:0`, output `Identity:0`."""
    folder = modelkit.built_once(
        tmp_path_factory, "cnn", lambda at: modelkit.freeze(modelkit.small_cnn(), at / "cnn.pb")
    )
    return folder / "cnn.pb"


@pytest.fixture(scope="session")
def cnn_saved_model(tmp_path_factory) -> Path:
    """The same small CNN as a SavedModel folder, built once per run: tests copy it
    (shutil.copytree) before they add to it."""

    def build(folder):
        modelkit.save_saved_model(modelkit.small_cnn(), folder / "cnn_saved_model")

    return modelkit.built_once(tmp_path_factory, "cnn-saved-model", build) / "cnn_saved_model"


@pytest.fixture
def cnn_folder(alice_home, cnn_pb) -> str:
    """models/cnn/ in alice's home, laid out for the ARM frozen-graph template, with the real CNN:
    for tests that convert or inspect it (asking for it marks a test `slow`)."""
    target = alice_home / "models" / "cnn" / "model"
    target.mkdir(parents=True)
    shutil.copy(cnn_pb, target / "cnn.pb")
    return "models/cnn/"


@pytest.fixture
def cnn_placeholder(alice_home) -> str:
    """models/cnn/ laid out like `cnn_folder`, with a placeholder model/cnn.pb: for form, view and
    access tests, where nothing converts or inspects it (the form checks that the folder exists,
    the worker's layout check runs on the worker). No TensorFlow."""
    target = alice_home / "models" / "cnn" / "model"
    target.mkdir(parents=True)
    (target / "cnn.pb").write_bytes(PLACEHOLDER_PB)
    return "models/cnn/"


@pytest.fixture
def builtin_templates(db):
    """The built-in templates, again: transactional tests flush what the data migration loaded."""
    from templates_registry.builtin import load_builtin_templates
    from templates_registry.models import ConversionTemplate

    load_builtin_templates(ConversionTemplate)


@pytest.fixture
def client_alice(client, user):
    """The test client, logged in as `user` (alice)."""
    client.force_login(user)
    return client


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass-123")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass-123")


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-pass-123", is_staff=True)


def database_url() -> str:
    """The URL of the database under test (SQLite file or PostgreSQL), for processes we start."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{django_settings.DATABASES['default']['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(settings) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        DATA_DIR=str(settings.DATA_DIR),
        WORK_DIR=str(settings.WORK_DIR),
        DJANGO_SETTINGS_MODULE="console.settings",
        HEARTBEAT_INTERVAL="1",
    )
    return env


@pytest.fixture
def worker(transactional_db, builtin_templates, settings, tmp_path):
    """A real django-q2 worker process (`manage.py qcluster`) on the test database.

    With --skip-checks, as `manage.py worker` starts its qclusters (conversions/supervisor.py):
    the system checks would import every URLconf and view, ~1 s of CPU per start.
    """
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster", "--skip-checks"],
        cwd=ROOT,
        env=worker_env(settings),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    yield process
    if process.poll() is None:
        process.send_signal(
            signal.SIGTERM
        )  # to the cluster only: it stops its own processes in order
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log.close()
