"""Warm converter children: one started ahead of its job per worker process. No Django here.

A warm child (`python -m conversions.converters warm NAME`) starts with the scrubbed environment of
every converter child, imports TensorFlow and the converter library, and waits for one order on its
stdin: the argv, work folder and policy a cold child would get. It then forks a single-threaded
child that confines itself (limits, death signal, Landlock) exactly as a cold child does, runs the job
and exits; the warm child exits with it. No child ever takes a second job: the slot starts a new one
as soon as a job is handed over.
"""

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)
MARK = b"conversions.converters\0warm\0"


def start_child(argv: list[str], cwd: Path, env: dict[str, str], stdin) -> subprocess.Popen:
    """`python -m conversions.converters ARGV` in `cwd` with `env` (already scrubbed), in a session
    of its own, its events (stdout) and tool output (stderr) read as text: every converter child,
    cold or warm, starts here."""
    return subprocess.Popen(
        [sys.executable, "-m", "conversions.converters", *argv],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        cwd=str(cwd),
        env=env,
        start_new_session=True,
    )


class WarmChild:
    def __init__(self, process: subprocess.Popen, folder: Path):
        self.process, self.folder = process, folder

    def hand_over(self, argv: list[str], cwd: Path, env: dict[str, str]) -> bool:
        """Give this child its one job; False when it is gone (the caller starts a cold one)."""
        if self.process.poll() is not None:
            return False
        order = {"argv": argv, "cwd": str(cwd), "env": env}
        try:
            self.process.stdin.write(json.dumps(order) + "\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            return False
        return True

    def discard(self) -> None:
        """End an unused child and remove its folder. It holds no job and nothing to save, so it is
        killed at once: one still importing TensorFlow would otherwise read its closed stdin only
        seconds later, and a worker's stop would wait for it."""
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except (OSError, AttributeError):
                pass
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
        self.started = False  # filled once: a slot nobody filled (a test process) stays cold

    def fill(self) -> None:
        """Start a warm child unless one is waiting; a failure to start leaves the slot cold."""
        self.started = True
        if self.child is not None and self.child.process.poll() is None:
            return
        if self.child is not None:
            self.child.clean()
            self.child = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix="warm-", dir=self.root))
            env = {**self.env, "TMPDIR": str(folder), "HOME": str(folder)}
            process = start_child(
                ["warm", self.name],
                folder,
                {**env, "WARM_PARENT": str(os.getpid())},
                stdin=subprocess.PIPE,
            )
        except OSError:
            logger.warning("could not start a warm converter child", exc_info=True)
            return
        self.child = WarmChild(process, folder)

    def take(self) -> WarmChild | None:
        """The waiting child, now this caller's; None when there is none alive."""
        child, self.child = self.child, None
        if child is not None and child.process.poll() is not None:
            child.clean()
            return None
        return child

    def close(self) -> None:
        """End the waiting child; the slot stays cold until filled again."""
        self.started = False
        if self.child is not None:
            self.child.discard()
            self.child = None


_slots: dict[int, WarmSlot] = {}


def slot(root: Path, name: str, env: dict[str, str]) -> WarmSlot:
    """This process's one slot; its next child starts in `root` with `env`."""
    found = _slots.setdefault(os.getpid(), WarmSlot(root, name, env))
    found.root, found.name, found.env = Path(root), name, env
    return found


def idle_children(name: str, proc: Path = Path("/proc")) -> list[dict]:
    """The warm children of worker `name` waiting for a job: [{"pid", "rss_mb"}].

    A warm child that took its job has a child of its own (the confined one, whose command line is
    the same): neither counts.
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
    busy = set(marked.values())
    found = []
    for pid, parent in sorted(marked.items()):
        if pid in busy or parent in marked:
            continue
        found.append({"pid": pid, "rss_mb": _rss_mb(proc / str(pid) / "status")})
    return found


def _rss_mb(status: Path) -> int:
    try:
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
