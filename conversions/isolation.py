"""Run a converter in a child process with limits, streaming its events back. No Django here.

The child gets a scrubbed environment (no database or storage credentials), its own session (so the
whole process group can be killed) and a Policy (converters/confine.py) that it applies itself before
reading any model: PR_SET_PDEATHSIG (it dies with the worker), rlimits on CPU time and data memory,
and a Landlock sandbox (sandbox.py says which folders). The wall clock is watched here.
"""

import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from conversions.converters.confine import POLICY_ENV, Policy
from conversions.sandbox import Sandbox
from conversions.startup_notices import is_startup_notice
from conversions.warm import Forked, WarmSlot, slot, start_child

# Only these variables reach the child: enough for Python, numpy and TensorFlow to run.
ENV_ALLOWED = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    # Huawei's ATC: where it is, and what CANN's set_env.sh sets for it (ASCEND_* below too).
    "ATC_PATH",
    "LD_LIBRARY_PATH",
)
ENV_ALLOWED_PREFIXES = ("ASCEND_",)
KILL_GRACE_SECONDS = 5


@dataclass
class Limits:
    wall_seconds: int = 900
    cpu_seconds: int = 3600
    memory_mb: int = 4096


@dataclass
class Outcome:
    ok: bool
    result: dict = field(default_factory=dict)
    error: str = ""
    reason: str = ""  # "", "refused", "memory", "timeout", "cpu", "crash", "canceled"
    warm: bool = False  # a warm child (started ahead of the job) ran it


def child_env(extra: dict | None = None) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k in ENV_ALLOWED or k.startswith(ENV_ALLOWED_PREFIXES)
    }
    root = str(Path(__file__).resolve().parent.parent)
    env.update(
        {
            "PYTHONPATH": root,
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": "1",
            "CUDA_VISIBLE_DEVICES": "",
        }
    )
    if (
        "CUDA_VISIBLE_DEVICES" in os.environ
    ):  # the GPUs standard TensorRT may use (tensorrt/probe.py)
        env["WORKER_CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    env.update(extra or {})
    return env


def warm_slot(settings) -> WarmSlot | None:
    """This process's warm slot (None with WARM_CHILDREN=off): its children start in WORK_DIR with
    the scrubbed environment, named after the `manage.py worker` around them (WORKER_NAME)."""
    if not settings.WARM_CHILDREN:
        return None
    return slot(Path(settings.WORK_DIR), os.getenv("WORKER_NAME", ""), child_env())


def _pump(stream, kind: str, inbox: queue.SimpleQueue) -> None:
    for line in iter(stream.readline, ""):
        inbox.put((kind, line.rstrip("\n")))
    stream.close()


def run_child(
    job_path: Path,
    limits: Limits,
    on_event: Callable[[dict], None],
    on_output: Callable[[str], None],
    should_stop: Callable[[], bool] = lambda: False,
    poll_seconds: float = 0.5,
    command: tuple[str, ...] = ("run",),
    sandbox: Sandbox | None = None,
    warm: WarmSlot | None = None,
) -> Outcome:
    """Run `python -m conversions.converters run job_path`; report what became of it.

    `command` picks another entry of the child (("inspect", chip) inspects the folder `job_path`).
    The child's work folder is the folder holding `job_path`; `sandbox` confines it there (default:
    Sandbox(), confined where Landlock works). `warm`: the slot whose warm child forks the job's
    child (the slot starts one for the job when it has none); None, or a warm child that cannot
    be started, gives a cold child.

    The callbacks run in the calling thread (readers only queue lines), so they may use the database.
    """
    final: dict = {}
    inbox: queue.SimpleQueue = queue.SimpleQueue()

    def drain() -> None:
        while not inbox.empty():
            kind, line = inbox.get()
            event = _parse_event(line) if kind == "events" else None
            if event is None:
                if kind == "output" and is_startup_notice(line):
                    continue  # TensorFlow's start-up chatter (startup_notices.py)
                on_output(line)
            elif event.get("event") in ("result", "error"):
                final.update(event)
            else:
                on_event(event)

    workdir = Path(job_path).parent.resolve()
    sandbox = sandbox or Sandbox()
    policy = Policy(
        cpu_seconds=limits.cpu_seconds, memory_mb=limits.memory_mb, parent_pid=os.getpid()
    )
    extra = sandbox.confine(policy, workdir, inspect=command[0] == "inspect")
    argv = [command[0], str(job_path), *command[1:]]
    env = child_env({**extra, POLICY_ENV: policy.dumps()})
    process, template, warmed = None, None, False
    if warm is not None:
        template = warm.take()
        warmed = template is not None  # started before this job, its imports done or under way
        if template is None:
            warm.fill()  # a first job, or its warm child died: it starts one and forks into it
            template = warm.take()
        process = template.fork(argv, workdir, env) if template else None
        if process is None and template is not None:
            template.discard()
            template, warmed = None, False
            warm.fill()  # for the next job
    if process is None:
        process = start_child(argv, workdir, env, stdin=subprocess.DEVNULL)
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, "events", inbox), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, "output", inbox), daemon=True),
    ]
    for reader in readers:
        reader.start()
    deadline = time.monotonic() + limits.wall_seconds
    stopped = ""
    try:
        while process.poll() is None:
            drain()
            if time.monotonic() > deadline:
                stopped = "timeout"
            elif should_stop():
                stopped = "canceled"
            if stopped:
                _kill(process)
                break
            try:
                process.wait(timeout=poll_seconds)
            except subprocess.TimeoutExpired:
                pass
        process.wait()
        for reader in readers:
            reader.join(timeout=10)
        drain()
    finally:
        if process.poll() is None:  # a callback raised: the job's child does not outlive it
            _kill(process)
        if template is not None:  # the warm child stays this slot's, for the next job
            warm.give_back(template)
    outcome = _outcome(process.returncode, final, stopped, limits)
    outcome.warm = warmed
    return outcome


def _parse_event(line: str) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and "event" in event else None


def _kill(process) -> None:
    """SIGTERM to the child's session, SIGKILL after the grace period (a Popen or a Forked)."""
    try:
        _signal_group(process, signal.SIGTERM)
        process.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _signal_group(process, sig: int) -> None:
    if isinstance(process, Forked):
        process.signal_group(sig)
    else:
        os.killpg(process.pid, sig)


def _outcome(code: int, final: dict, stopped: str, limits: Limits) -> Outcome:
    if stopped == "timeout":
        return Outcome(
            False,
            error=f"The conversion timed out after {limits.wall_seconds} s.",
            reason="timeout",
        )
    if stopped == "canceled":
        return Outcome(False, error="Canceled by the user.", reason="canceled")
    memory = f"The conversion exceeded the {_size(limits.memory_mb)} memory limit."
    if final.get("event") == "result" and code == 0:
        return Outcome(True, result=final.get("result", {}))
    if final.get("reason") == "memory":
        return Outcome(False, error=memory, reason="memory")
    if final.get("event") == "error":
        return Outcome(
            False,
            result=final.get("result") or {},
            error=final["message"],
            reason="refused" if code == 2 else "crash",
        )
    if code == -signal.SIGXCPU:
        return Outcome(
            False,
            error=f"The conversion used more than its {limits.cpu_seconds} s of CPU time.",
            reason="cpu",
        )
    if code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGKILL):
        return Outcome(
            False,
            error=f"The converter crashed (signal {-code}); it may have run out of its "
            f"{_size(limits.memory_mb)} memory limit. See job_log.txt for its last words.",
            reason="crash",
        )
    return Outcome(
        False,
        error=f"The converter stopped with exit code {code} and no result. See job_log.txt.",
        reason="crash",
    )


def _size(megabytes: int) -> str:
    return f"{megabytes // 1024} GB" if megabytes % 1024 == 0 else f"{megabytes} MB"
