"""Warm converter children: one per worker process, forking a fresh child for each job. No Django.

A warm child (`python -m conversions.converters warm NAME`, converters/template.py) starts with the
scrubbed environment of every converter child, imports TensorFlow and the converter library once,
and then takes orders on a socket: the argv, work folder and environment a cold child would get,
with the job's own events and output pipes attached. For each order it forks one single-threaded
child that confines itself (limits, death signal, Landlock) exactly as a cold child does, runs the
job and exits. The warm child itself never runs a job nor reads a model, so it stays for the next.
"""

import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)
MARK = b"conversions.converters\0warm\0"


def start_child(
    argv: list[str], cwd: Path, env: dict[str, str], stdin, output=subprocess.PIPE
) -> subprocess.Popen:
    """`python -m conversions.converters ARGV` in `cwd` with `env` (already scrubbed), in a session
    of its own, its events (stdout) and tool output (stderr) read as text: every converter child,
    cold or warm, starts here."""
    return subprocess.Popen(
        [sys.executable, "-m", "conversions.converters", *argv],
        stdin=stdin,
        stdout=output,
        stderr=output,
        text=True,
        errors="replace",
        cwd=str(cwd),
        env=env,
        start_new_session=True,
    )


class Forked:
    """The child a warm child forked for one job, read, waited for and stopped as a Popen is.

    Its pid and exit code come from the warm child (its parent); its events and output arrive on
    pipes this process made, as a cold child's do."""

    def __init__(self, warm: "WarmChild", events: int, output: int):
        self.warm = warm
        self.stdout = open(events, errors="replace")  # noqa: SIM115 (the reader thread closes it)
        self.stderr = open(output, errors="replace")  # noqa: SIM115
        self.pid: int | None = None
        self.returncode: int | None = None

    def poll(self) -> int | None:
        while self.returncode is None and self._read(0):
            pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("converter child", timeout)
            self._read(left)
        return self.returncode

    def signal_group(self, sig: int) -> None:
        """Signal the child's session; before its pid is known, end the warm child (and with it,
        by its death signal, a child it may have forked)."""
        self.poll()
        try:
            if self.pid is not None:
                os.killpg(self.pid, sig)
            elif self.returncode is None:
                self.warm.process.kill()
        except ProcessLookupError:
            pass

    def _read(self, timeout: float | None) -> bool:
        """Take one message from the warm child; False when none came within `timeout`."""
        if not select.select([self.warm.orders], [], [], timeout)[0]:
            return False
        try:
            message = json.loads(self.warm.orders.recv(4096) or b"null")
        except (OSError, ValueError):
            message = None
        if message is None:  # the warm child is gone, and the job's child with it (death signal)
            self.warm.lost = True
            self.returncode = -signal.SIGKILL
            if self.pid is not None:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        elif "exit" in message:
            self.returncode = int(message["exit"])
        else:
            self.pid = int(message["pid"])
        return True


class WarmChild:
    def __init__(self, process: subprocess.Popen, orders: socket.socket, folder: Path, env: dict):
        self.process, self.orders, self.folder, self.env = process, orders, folder, env
        self.lost = False  # its socket broke: it takes no more jobs

    def alive(self) -> bool:
        return not self.lost and self.process.poll() is None

    def fork(self, argv: list[str], cwd: Path, env: dict[str, str]) -> Forked | None:
        """Give this child one job to fork; None when it is gone (the caller starts a cold one).
        `env` is the whole environment of the job's child, as a cold child would get it."""
        if not self.alive():
            return None
        order = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}).encode()
        events, output = os.pipe(), os.pipe()
        try:
            socket.send_fds(self.orders, [order], [events[1], output[1]])
        except OSError:
            self.lost = True
            for fd in (events[0], output[0]):
                os.close(fd)
            return None
        finally:
            os.close(events[1])
            os.close(output[1])
        return Forked(self, events[0], output[0])

    def discard(self) -> None:
        """End this child and remove its folder. It holds no job and nothing to save, so it is
        killed at once: one still importing TensorFlow would otherwise see its closed socket only
        seconds later, and a worker's stop would wait for it."""
        self.orders.close()
        self.process.kill()
        self.process.wait()
        self.clean()

    def clean(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class WarmSlot:
    """The warm child of one worker process (a django-q worker runs one task at a time)."""

    def __init__(self, root: Path, name: str, env: dict[str, str]):
        self.root, self.name, self.env = Path(root), name, env
        self.child: WarmChild | None = None

    def fill(self) -> None:
        """Start a warm child unless one is waiting; a failure to start leaves the slot cold."""
        if self.child is not None and self.child.alive():
            return
        if self.child is not None:
            self.child.discard()
            self.child = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="warm-", dir=self.root))
            env = {**self.env, "TMPDIR": str(folder), "HOME": str(folder)}
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                process = start_child(
                    ["warm", self.name],
                    folder,
                    {**env, "WARM_PARENT": str(os.getpid())},
                    stdin=theirs.fileno(),
                    output=subprocess.DEVNULL,
                )
            finally:
                theirs.close()
        except OSError:
            logger.warning("could not start a warm converter child", exc_info=True)
            return
        self.child = WarmChild(process, ours, folder, dict(self.env))

    def take(self) -> WarmChild | None:
        """The waiting child, this caller's until `give_back`; None when none is alive or it was
        started with another environment than a child would get now."""
        child, self.child = self.child, None
        if child is not None and (not child.alive() or child.env != self.env):
            child.discard()
            return None
        return child

    def give_back(self, child: WarmChild) -> None:
        """A job's child ended: its warm child waits for the next job (or goes, if broken)."""
        if self.child is None and child.alive():
            self.child = child
        else:
            child.discard()

    def close(self) -> None:
        """End the waiting child."""
        if self.child is not None:
            self.child.discard()
            self.child = None


_slots: dict[int, WarmSlot] = {}


def slot(root: Path, name: str, env: dict[str, str]) -> WarmSlot:
    """This process's one slot; its next child starts in `root` with `env`."""
    found = _slots.setdefault(os.getpid(), WarmSlot(root, name, env))
    found.root, found.name, found.env = Path(root), name, env
    return found


def warm_children(name: str, proc: Path = Path("/proc")) -> list[dict]:
    """The warm children of worker `name`: [{"pid", "rss_mb"}].

    A child one of them forked for a job has the same command line and a warm child for its
    parent: it does not count.
    """
    marked: dict[int, int] = {}  # pid -> parent pid
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().find(MARK + name.encode() + b"\0") < 0:
                continue
            stat = (entry / "stat").read_text()
            marked[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return [
        {"pid": pid, "rss_mb": _rss_mb(proc / str(pid) / "status")}
        for pid, parent in sorted(marked.items())
        if parent not in marked
    ]


def _rss_mb(status: Path) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
