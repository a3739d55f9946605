"""Warm converter children: started ahead of the job, forking a fresh, confined, scrubbed child
for each job."""

import json
import os
import sys
from pathlib import Path

import pytest

from conversions.isolation import Limits, child_env, run_child
from conversions.sandbox import Sandbox
from conversions.warm import WarmSlot, warm_children
from tests.helpers import wait_for

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="Linux only (Landlock, /proc)"),
    pytest.mark.slow,  # every warm child imports TensorFlow (seconds of CPU each)
]

PAYLOAD = """
import json, os

def listed(path):
    try:
        return os.listdir(path)
    except PermissionError:
        return "refused"

def refused(action):  # True when the kernel says no (EPERM or EACCES)
    try:
        action()
    except PermissionError:
        return True
    return False

def main():
    spec = json.load(open("spec.json"))
    if spec["task"] == "cpu":
        while True:
            pass
    if spec["task"] == "memory":
        hog = bytearray(3 * 1024 ** 3)
        return {"allocated": len(hog)}
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return {
        "env": sorted(os.environ),
        "tmpdir": os.environ["TMPDIR"],
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "threads": int(status["Threads"]),
        "outside": listed(spec["outside"]),
        "parent": os.getppid(),
        "signal_parent": refused(lambda: os.kill(os.getppid(), 0)),
        "parent_memory": refused(lambda: open(f"/proc/{os.getppid()}/mem", "rb").read(1)),
        "parent_environ": refused(lambda: open(f"/proc/{os.getppid()}/environ", "rb").read(1)),
        "descriptors": descriptors(),
    }

def descriptors():
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return found
"""


@pytest.fixture(scope="module")
def module_slot(tmp_path_factory):
    """One slot for the module, in a worker whose environment holds secrets; as in a worker, a
    warm child outlives its jobs, and one killed by a test is replaced by the next job (each warm
    child imports TensorFlow: seconds of CPU)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DATABASE_URL", "postgres://console:secret@db/console")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-for-children")
        slot = WarmSlot(tmp_path_factory.mktemp("warm") / "work", "test-host:1", child_env())
        yield slot
        slot.close()


@pytest.fixture
def warm(module_slot):
    """The module's slot with a live warm child waiting (a new one if a test killed it)."""
    module_slot.fill()
    return module_slot


def payload(tmp_path, slot, task: str, limits: Limits | None = None, on_event=None):
    workdir = tmp_path / "work" / f"job-{task}"
    workdir.mkdir(parents=True)
    (workdir / "payload.py").write_text(PAYLOAD)
    (workdir / "spec.json").write_text(json.dumps({"task": task, "outside": str(tmp_path)}))
    lines = []

    def event(line):
        lines.append(line)
        if on_event:
            on_event(line)

    outcome = run_child(
        workdir / "payload.py",
        limits or Limits(wall_seconds=120),
        on_event=event,
        on_output=lines.append,
        command=("payload",),
        sandbox=Sandbox("on"),
        warm=slot,
    )
    return outcome, lines, workdir


def test_a_warm_child_forks_a_fresh_confined_scrubbed_child_for_each_job(tmp_path, warm):
    template = warm.child.process
    # The workers page finds it (and only for its worker) with the memory of its imports.
    found = wait_for(
        lambda: [c for c in warm_children("test-host:1") if c["rss_mb"] > 50],
        timeout=120,
        what="the warm child to import its libraries",
    )
    assert [c["pid"] for c in found] == [template.pid]
    assert warm_children("another-host:1") == []
    outcome, lines, workdir = payload(tmp_path, warm, "probe")
    assert outcome.ok and outcome.warm, (outcome.error, lines)
    found = outcome.result
    # The job's environment is a cold child's: scrubbed, with the job's own TMPDIR and folder.
    assert "DATABASE_URL" not in found["env"] and "AWS_SECRET_ACCESS_KEY" not in found["env"]
    assert "CONVERTER_POLICY" not in found["env"] and "WARM_PARENT" not in found["env"]
    assert found["tmpdir"] == str(workdir / "tmp") and found["cwd"] == str(workdir)
    # Confined as one thread (a fork of the warm child), so Landlock holds for the whole process.
    assert found["threads"] == 1 and found["pid"] != template.pid
    assert any("Sandbox: Landlock ABI" in str(line) for line in lines)
    assert found["outside"] == "refused"  # the test's own folder, outside the work folder
    # What a model does in the fork cannot reach the warm child (its parent), which serves the
    # next jobs: no signal (Landlock ABI 6 scopes them), no ptrace-guarded /proc file, no socket.
    assert found["parent"] == template.pid
    assert found["parent_memory"] is found["parent_environ"] is True
    if any("signals scoped" in str(line) for line in lines):
        assert found["signal_parent"] is True
    assert not [d for d in found["descriptors"] if d.startswith("socket:")], found["descriptors"]
    # The warm child stays for the next job, which gets a child of its own, and its import folder
    # is gone: it ran nothing and keeps nothing on disk.
    assert template.poll() is None and warm.child.process is template
    assert not [p for p in warm.root.iterdir() if p.name.startswith("warm-")]
    again, lines, _ = payload(tmp_path, warm, "probe-again")
    assert again.ok and again.warm, (again.error, lines)
    assert again.result["pid"] not in (found["pid"], template.pid)
    assert again.result["threads"] == 1 and again.result["outside"] == "refused"


def test_the_limits_hold_in_a_warm_child(tmp_path, warm):
    outcome, lines, _ = payload(tmp_path, warm, "cpu", Limits(wall_seconds=120, cpu_seconds=1))
    assert (outcome.warm, outcome.reason) == (True, "cpu"), (outcome.error, lines)
    outcome, lines, _ = payload(tmp_path, warm, "memory", Limits(wall_seconds=120, memory_mb=1024))
    assert (outcome.warm, outcome.reason) == (True, "memory"), (outcome.error, lines)
    assert outcome.error == "The conversion exceeded the 1 GB memory limit."


def test_a_warm_child_that_died_is_replaced_and_the_job_still_runs(tmp_path, warm):
    warm.child.process.kill()
    warm.child.process.wait()
    outcome, lines, _ = payload(tmp_path, warm, "probe")
    assert outcome.ok and not outcome.warm, (outcome.error, lines)
    assert warm.child is not None and warm.child.process.poll() is None


def test_a_warm_child_killed_mid_job_takes_the_jobs_child_with_it(tmp_path, warm):
    template = warm.child.process
    # The job spins until its CPU limit; once it is confined (its first event), its warm child
    # is killed: the job's child dies with it (its death signal), well before the limit.
    outcome, lines, workdir = payload(
        tmp_path,
        warm,
        "cpu",
        Limits(wall_seconds=120, cpu_seconds=60),
        on_event=lambda _: template.kill(),
    )
    assert (outcome.ok, outcome.reason) == (False, "crash"), (outcome.error, lines)
    assert "signal 9" in outcome.error
    assert template.wait(timeout=10) == -9
    # The next job gets a new warm child, started for it.
    again, lines, _ = payload(tmp_path, warm, "probe")
    assert again.ok and not again.warm, (again.error, lines)
    assert warm.child.process.pid != template.pid and warm.child.process.poll() is None


def test_a_callback_that_raises_ends_the_jobs_child_and_keeps_the_warm_child(tmp_path, warm):
    template = warm.child.process

    def fail(_event):
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        payload(tmp_path, warm, "cpu", Limits(wall_seconds=120, cpu_seconds=60), on_event=fail)
    workdir = str(tmp_path / "work" / "job-cpu")
    wait_for(
        lambda: not [p for p in Path("/proc").glob("[0-9]*") if _cwd(p) == workdir],
        timeout=30,
        what="the spinning job's child to be killed",
    )
    assert warm.child is not None and warm.child.process is template
    assert template.poll() is None


def _cwd(proc: Path) -> str:
    try:
        return os.readlink(proc / "cwd")
    except OSError:
        return ""
