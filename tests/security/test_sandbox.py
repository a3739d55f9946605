"""The converter child runs in a Landlock sandbox: probed from inside, through the real launcher.

A payload script placed in the child's work folder runs under the same confinement as a converter
(`python -m conversions.converters payload SCRIPT`) and reports what it could reach. The same probe
run with SANDBOX=off reaches everything: the probes can tell.
"""

import json
import logging
import os
import socket
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from conversions.converters import confine, landlock
from conversions.converters.confine import Policy, SandboxRefused
from conversions.isolation import Limits, run_child, warm_slot
from conversions.sandbox import Sandbox, allowed_reads
from conversions.supervisor import Supervisor, register

PROJECT = Path(__file__).resolve().parent.parent.parent

PROBE = """
import json, os, socket, sqlite3

def attempt(action):
    try:
        action()
        return "ok"
    except Exception as exc:
        return type(exc).__name__

def read(path):
    with open(path, "rb") as handle:
        handle.read(16)

def write(path):
    with open(path, "w") as handle:
        handle.write("written by the child")

def database(path):
    sqlite3.connect(path).execute("select count(*) from sqlite_master").fetchall()

def main():
    given = json.load(open("probe.json"))
    return {
        "data_dir_file": attempt(lambda: read(given["secret"])),
        "project_settings": attempt(lambda: read(given["settings_file"])),
        "worker_environ": attempt(lambda: read(f"/proc/{given['worker_pid']}/environ")),
        "database": attempt(lambda: database(given["database"])),
        "tcp_connect": attempt(lambda: socket.create_connection(("127.0.0.1", given["port"]), 5).close()),
        "signal_worker": attempt(lambda: os.kill(given["worker_pid"], 0)),
        "write_outside": attempt(lambda: write(given["outside"])),
        "write_data_dir": attempt(lambda: write(given["data_file"])),
        "write_work_folder": attempt(lambda: write("inside.txt")),
        "write_tmpdir": attempt(lambda: write(os.path.join(os.environ["TMPDIR"], "t.txt"))),
        "import_numpy": attempt(lambda: __import__("numpy").ones(3).sum()),
        "own_proc": attempt(lambda: read("/proc/self/status")),
    }
"""
REACHABLE = {"write_work_folder", "write_tmpdir", "import_numpy", "own_proc"}

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Landlock is Linux only")
# A warm child imports TensorFlow (seconds of CPU) unless this process has one: slow, as
# converting tests are.
WARM_OR_COLD = [
    pytest.param(False, id="cold"),
    pytest.param(True, id="warm", marks=pytest.mark.slow),
]


def landlock_abi() -> int:
    try:
        return landlock.abi_version()
    except landlock.LandlockUnavailable:
        return 0


@pytest.fixture
def listener():
    """A TCP socket listening on 127.0.0.1: connecting to it works unless something forbids it."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def probe(dirs, tmp_path, listener, settings):
    """Run the probe payload through the launcher; returns {probe: "ok" or the exception}."""
    secret = dirs / "models" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("another user's model")
    outside = tmp_path / "outside.txt"
    data_file = dirs / "planted.txt"

    def run(mode: str, warm: bool = False) -> dict:
        workdir = Path(settings.WORK_DIR) / f"probe-{mode}-{warm}"
        workdir.mkdir(parents=True)
        (workdir / "probe.py").write_text(PROBE)
        given = {
            "secret": str(secret),
            "settings_file": str(PROJECT / "console" / "settings.py"),
            "worker_pid": os.getpid(),
            "database": django_settings.DATABASES["default"]["NAME"],
            "port": listener,
            "outside": str(outside),
            "data_file": str(data_file),
        }
        (workdir / "probe.json").write_text(json.dumps(given))
        lines = []
        # warm: this process's own warm child, as a worker process's jobs get it (started here
        # unless an earlier test of this process left one)
        slot = warm_slot(settings) if warm else None
        if slot:
            slot.fill()
        outcome = run_child(
            workdir / "probe.py",
            Limits(wall_seconds=120),
            on_event=lines.append,
            on_output=lines.append,
            command=("payload",),
            sandbox=Sandbox(mode),
            warm=slot,
        )
        assert outcome.ok, (outcome.error, lines)
        assert outcome.warm == warm
        assert (workdir / "inside.txt").is_file()
        return {"answers": outcome.result, "log": lines}

    return run


@pytest.mark.skipif(landlock_abi() < 6, reason="needs Landlock ABI 6 (Linux 6.12)")
@pytest.mark.parametrize("warm", WARM_OR_COLD)
def test_the_sandboxed_child_reaches_only_its_work_folder(probe, tmp_path, dirs, warm):
    found = probe("required", warm)
    answers = found["answers"]
    assert {name for name, answer in answers.items() if answer == "ok"} == REACHABLE, answers
    assert answers["data_dir_file"] == "PermissionError"
    assert answers["worker_environ"] == "PermissionError"
    assert answers["database"] == "OperationalError"  # sqlite3: unable to open database file
    assert answers["tcp_connect"] == "PermissionError"
    assert answers["signal_worker"] == "PermissionError"
    assert not (tmp_path / "outside.txt").exists() and not (dirs / "planted.txt").exists()
    assert any("Sandbox: Landlock ABI" in str(line) for line in found["log"])


@pytest.mark.parametrize("warm", WARM_OR_COLD)
def test_without_the_sandbox_the_same_probe_reaches_everything(probe, tmp_path, warm):
    found = probe("off", warm)
    assert set(found["answers"].values()) == {"ok"}, found["answers"]
    assert (tmp_path / "outside.txt").read_text() == "written by the child"
    assert any("Sandbox: off (SANDBOX=off)" in str(line) for line in found["log"])


def test_the_child_reads_only_the_code_folder_of_the_project(tmp_path):
    reads = [Path(p).resolve() for p in allowed_reads()]
    assert PROJECT / "conversions" in reads
    assert all(p != PROJECT and p not in PROJECT.parents for p in reads)
    assert Path(django_settings.DATABASES["default"]["NAME"]).resolve().parent == PROJECT
    policy = Policy()
    Sandbox().confine(policy, tmp_path, inspect=True)
    assert policy.write == [str(tmp_path / "tmp")] and str(tmp_path) in policy.read
    Sandbox().confine(policy, tmp_path)
    assert policy.write == [str(tmp_path)]


def test_a_required_sandbox_that_cannot_be_set_up_refuses_to_start(monkeypatch):
    def unavailable(*args):
        raise landlock.LandlockUnavailable("Landlock is unavailable: a seccomp filter blocks it.")

    monkeypatch.setattr(confine, "_set_limits", lambda policy: None)  # not on the test process
    monkeypatch.setattr(landlock, "restrict", unavailable)
    with pytest.raises(SandboxRefused, match="the sandbox is required .*seccomp filter"):
        confine.confine(Policy(mode="required"))
    assert confine.confine(Policy(mode="on")).startswith("Sandbox: off. Landlock is unavailable")


@pytest.mark.django_db
def test_a_worker_without_the_sandbox_says_so_once_and_the_workers_page_shows_it(
    client, user, settings, caplog
):
    settings.SANDBOX = "off"
    supervisor = Supervisor(["cpu"])
    supervisor.worker = register("plain:1", ["cpu"])
    with caplog.at_level(logging.WARNING, logger="conversions.supervisor"):
        supervisor._say_sandbox()
    assert [r.getMessage() for r in caplog.records] == [
        "converter sandbox OFF: turned off (SANDBOX=off). Converters run with this worker's "
        "file access."
    ]
    settings.SANDBOX = "on"
    confined = register("boxed:2", ["cpu"])
    assert confined.sandbox["available"] is (landlock_abi() > 0)
    assert "sandbox" not in confined.converters and "tflite" in confined.converters
    client.force_login(user)
    page = client.get(reverse("conversions:workers")).content.decode()
    plain = page[page.index('data-worker="plain:1"') :]
    assert 'class="sandbox-off"' in plain[: plain.index("</tr>")]
    assert "turned off (SANDBOX=off)" in plain[: plain.index("</tr>")]
    if landlock_abi():
        boxed = page[page.index('data-worker="boxed:2"') :]
        assert f"Landlock ABI {landlock_abi()}" in boxed[: boxed.index("</tr>")]
