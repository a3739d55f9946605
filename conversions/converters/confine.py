"""The converter child confines itself before it reads any model. No Django here.

The worker hands the child a Policy (JSON in the CONVERTER_POLICY variable): its resource limits and
the folders it may touch. The child applies them first thing, in its own process (a `preexec_fn` in
the worker would run between fork and exec while the heartbeat thread holds locks), then Landlock
makes the folders the only ones it and its own children can reach.
"""

import ctypes
import json
import os
import resource
import signal
from dataclasses import asdict, dataclass, field

from conversions.converters import landlock

POLICY_ENV = "CONVERTER_POLICY"
PR_SET_PDEATHSIG = 1
MODES = ("on", "required", "off")  # on: confine where Landlock works; required: refuse without it


class SandboxRefused(Exception):
    """The sandbox is required and cannot be set up; the message says why."""


@dataclass
class Policy:
    mode: str = "on"
    read: list[str] = field(default_factory=list)  # read-only (and executable) folders or files
    write: list[str] = field(default_factory=list)  # read-write folders
    files: dict[str, int] = field(default_factory=dict)  # single files: path -> Landlock rights
    cpu_seconds: int = 3600
    memory_mb: int = 4096
    parent_pid: int = 0

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def loads(cls, text: str) -> "Policy":
        return cls(**json.loads(text))


def confine_from_env() -> str:
    """Apply the worker's policy (none given: nothing to apply); the line for the task log."""
    text = os.environ.pop(POLICY_ENV, "")
    return confine(Policy.loads(text)) if text else ""


def confine(policy: Policy) -> str:
    """Limits, death signal and Landlock for this process; SandboxRefused when `required` fails."""
    _set_limits(policy)
    if policy.mode == "off":
        return "Sandbox: off (SANDBOX=off): the converter runs with the worker's own file access."
    try:
        done = landlock.restrict(policy.read, policy.write, policy.files)
    except landlock.LandlockUnavailable as exc:
        if policy.mode == "required":
            raise SandboxRefused(
                f"The converter was not started: the sandbox is required (SANDBOX=required), "
                f"but {exc} Run the worker on Linux 5.13 or newer with Landlock enabled."
            ) from None
        return f"Sandbox: off. {exc}"
    return f"Sandbox: {done.describe()}."


def _set_limits(policy: Policy) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if policy.parent_pid and os.getppid() != policy.parent_pid:
        os._exit(70)  # the worker died before the death signal was armed
    memory = policy.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (policy.cpu_seconds, policy.cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.umask(0o027)
