"""Which folders the converter child may reach, and whether this worker can confine it. No Django.

The child (converters/confine.py) restricts itself with Landlock to:
- read-only: the Python installation in use (prefixes and site-packages), the project's
  `conversions/` package only (never the project root, where the SQLite database and local secret
  files live), the system's libraries and tools (/usr, /lib*, /bin), a few files of /etc and
  /proc (its own /proc/self, never another process's), /sys, and the tool folders of SANDBOX_READ_PATHS, ATC_PATH and CANN's ASCEND_* variables;
- read-write: its own work folder (TMPDIR and HOME point inside it), /dev/null and GPU devices.
  An inspection writes only to a tmp folder; the folder it inspects is read-only.
Nothing else: no TCP bind or connect, and it cannot signal or read the /proc of the worker.
"""

import logging
import os
import site
import sys
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from conversions.converters import landlock
from conversions.converters.confine import MODES, Policy

logger = logging.getLogger(__name__)
PROJECT = Path(__file__).resolve().parent.parent
SYSTEM_READ = ("/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/sys")
# Not all of /proc: Landlock stops ptrace and /proc/<pid>/mem, but this kernel still lets a confined
# process read another's /proc/<pid>/environ. /proc/self is resolved by the child: its own folder.
PROC_READ = (
    "/proc/self",
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/proc/stat",
    "/proc/loadavg",
    "/proc/version",
    "/proc/filesystems",
    "/proc/sys",
    "/proc/driver/nvidia",  # read by CUDA's driver library, where there is a GPU
)
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/etc/alternatives",
)
DEVICES_READ = ("/dev/zero", "/dev/urandom", "/dev/random", "/dev/full")
DEVICE_RW = landlock.READ_FILE | landlock.WRITE_FILE | landlock.TRUNCATE | landlock.IOCTL_DEV
ASCEND_FOLDERS = ("ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH", "ASCEND_OPP_PATH", "ASCEND_AICPU_PATH")


@dataclass(frozen=True)
class Sandbox:
    mode: str = "on"  # on | required | off (settings.SANDBOX)
    read_paths: tuple[str, ...] = ()  # settings.SANDBOX_READ_PATHS: tool folders, read-only

    @classmethod
    def from_settings(cls, settings) -> "Sandbox":
        return cls(settings.SANDBOX, tuple(settings.SANDBOX_READ_PATHS))

    def confine(self, policy: Policy, workdir: Path, *, inspect: bool = False) -> dict[str, str]:
        """Fill `policy` for a child working in `workdir`; the environment variables it needs."""
        if self.mode not in MODES:
            raise ValueError(f"SANDBOX must be one of {', '.join(MODES)}, not {self.mode!r}")
        scratch = workdir / "tmp"
        scratch.mkdir(exist_ok=True)
        policy.mode = self.mode
        policy.read = allowed_reads(self.read_paths)
        policy.write = [str(scratch)] if inspect else [str(workdir)]
        if inspect:
            policy.read.append(str(workdir))
        policy.files = {path: landlock.READ_FILE for path in DEVICES_READ}
        policy.files.update({path: DEVICE_RW for path in ["/dev/null", *glob("/dev/nvidia*")]})
        return {"TMPDIR": str(scratch), "HOME": str(scratch)}


def allowed_reads(extra: tuple[str, ...] = ()) -> list[str]:
    """The read-only paths of the child, without any that would expose the project root."""
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    python.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    python.update(site.getsitepackages())
    paths = [*sorted(python), str(PROJECT / "conversions"), *SYSTEM_READ, *PROC_READ, *ETC_FILES]
    paths += [*extra, *tool_folders()]
    root, kept = PROJECT.resolve(), []
    for path in paths:
        resolved = Path(path).resolve()
        if resolved == root or resolved in root.parents:
            logger.warning("sandbox: %s is not allowed: it holds the project folder", path)
        elif path not in kept:
            kept.append(path)
    return kept


def tool_folders() -> list[str]:
    """The folders of Huawei's ATC and CANN named by the worker's environment."""
    found = [os.environ[name] for name in ASCEND_FOLDERS if os.environ.get(name)]
    atc = os.environ.get("ATC_PATH", "").strip()
    if atc:
        where = Path(atc).resolve()
        folder = where.parent if where.is_file() else where
        found.append(str(folder.parent if folder.name == "bin" else folder))
    return [path for path in found if os.path.isabs(path)]


def status(mode: str) -> dict:
    """The worker's sandbox as the registry keeps it: {"available", "tools", "reason"}."""
    if mode == "off":
        return {"available": False, "tools": {}, "reason": "turned off (SANDBOX=off)"}
    try:
        abi = landlock.abi_version()
    except landlock.LandlockUnavailable as exc:
        return {"available": False, "tools": {}, "reason": str(exc)}
    return {"available": True, "tools": {"landlock": f"ABI {abi}"}, "reason": ""}
