"""A small ctypes binding to Linux Landlock: confine this process to a list of folders. No Django.

Landlock is an unprivileged access control: a process declares which file accesses, TCP ports and
scopes it will handle, allows some of them beneath chosen folders, and restricts itself. From then on,
it and every process it starts can do nothing else. A restricted process also cannot ptrace (or
read the /proc/<pid>/environ of) processes outside its domain.

ABI versions used here: 1 files, 2 REFER, 3 TRUNCATE, 4 TCP bind/connect, 5 device ioctl,
6 scoped signals and abstract unix sockets. Each right is handled only when the kernel knows it.
"""

import ctypes
import os
import platform
from dataclasses import dataclass

SYSCALLS = {  # landlock_create_ruleset, landlock_add_rule, landlock_restrict_self
    "x86_64": (444, 445, 446),
    "aarch64": (444, 445, 446),
}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13  # ABI 2
TRUNCATE = 1 << 14  # ABI 3
IOCTL_DEV = 1 << 15  # ABI 5
NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

FILE_RIGHTS = (
    EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
)  # the rights a file rule takes
READ = EXECUTE | READ_FILE | READ_DIR
WRITE = (
    READ
    | WRITE_FILE
    | REMOVE_DIR
    | REMOVE_FILE
    | MAKE_DIR
    | MAKE_REG
    | MAKE_SOCK
    | MAKE_FIFO
    | MAKE_SYM
    | REFER
    | TRUNCATE
)


class LandlockUnavailable(Exception):
    """Landlock cannot be used here; the message says why."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@dataclass(frozen=True)
class Confinement:
    """What landed: the ABI version and the folders that were missing (and so not allowed)."""

    abi: int
    skipped: tuple[str, ...] = ()

    def describe(self) -> str:
        net = "no TCP" if self.abi >= 4 else "TCP not restricted (ABI < 4)"
        scope = "signals scoped" if self.abi >= 6 else "signals not scoped (ABI < 6)"
        return f"Landlock ABI {self.abi}: files confined, {net}, {scope}"


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _numbers() -> tuple[int, int, int]:
    machine = platform.machine()
    if machine not in SYSCALLS:
        raise LandlockUnavailable(f"Landlock is not wired up for the {machine} architecture here.")
    return SYSCALLS[machine]


def abi_version() -> int:
    """The kernel's Landlock ABI version; LandlockUnavailable with the reason when there is none."""
    create, _add, _restrict = _numbers()
    libc = _libc()
    version = libc.syscall(
        create, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION)
    )
    if version < 0:
        errno = ctypes.get_errno()
        why = {
            38: "the kernel has no Landlock (Linux 5.13 or newer with CONFIG_SECURITY_LANDLOCK)",
            95: "Landlock is built in but disabled (add landlock to the lsm= boot parameter)",
            1: "a seccomp filter (container runtime) blocks the Landlock system calls",
        }.get(errno, os.strerror(errno))
        raise LandlockUnavailable(f"Landlock is unavailable: {why}.")
    return int(version)


def _handled_fs(abi: int) -> int:
    rights = WRITE | MAKE_CHAR | MAKE_BLOCK
    if abi < 2:
        rights &= ~REFER
    if abi < 3:
        rights &= ~TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def restrict(read: list[str], write: list[str], files: dict[str, int] | None = None) -> Confinement:
    """Confine this process: `read` folders read-only (and executable), `write` folders read-write,
    `files` {path: rights} single files; no TCP bind or connect; signals and abstract sockets scoped.

    Paths that do not exist are skipped (and listed in the answer). Irreversible for this process
    and its children. LandlockUnavailable when the kernel cannot do it.
    """
    create, add_rule, restrict_self = _numbers()
    abi = abi_version()
    handled = _handled_fs(abi)
    attr = _RulesetAttr(
        handled_access_fs=handled,
        handled_access_net=(NET_BIND_TCP | NET_CONNECT_TCP) if abi >= 4 else 0,
        scoped=(SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL) if abi >= 6 else 0,
    )
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    libc = _libc()
    ruleset = libc.syscall(create, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise LandlockUnavailable(
            f"Landlock refused the ruleset: {os.strerror(ctypes.get_errno())}."
        )
    skipped = []
    try:
        rules = [(p, READ) for p in read] + [(p, WRITE) for p in write]
        rules += list((files or {}).items())
        for path, rights in rules:
            if not _allow(libc, add_rule, ruleset, path, rights & handled):
                skipped.append(path)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LandlockUnavailable(f"no_new_privs: {os.strerror(ctypes.get_errno())}.")
        if libc.syscall(restrict_self, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            raise LandlockUnavailable(
                f"Landlock could not restrict the process: {os.strerror(ctypes.get_errno())}."
            )
    finally:
        os.close(ruleset)
    return Confinement(abi, tuple(skipped))


def _allow(libc, add_rule: int, ruleset: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        done = libc.syscall(
            add_rule,
            ctypes.c_int(ruleset),
            ctypes.c_int(RULE_PATH_BENEATH),
            ctypes.byref(rule),
            ctypes.c_uint32(0),
        )
        if done != 0:
            raise LandlockUnavailable(
                f"Landlock refused the rule for {path}: {os.strerror(ctypes.get_errno())}."
            )
        return True
    finally:
        os.close(fd)
