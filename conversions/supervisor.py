"""What `manage.py worker` does around django-q2's qcluster: register, beat, reap, stop in order.

One supervisor per worker host process. It starts one qcluster per queue it serves (each in a
session of its own: qcluster stops cleanly only when its main process alone gets the signal),
registers itself with its tools, beats every HEARTBEAT_INTERVAL and runs the reaper every
REAPER_INTERVAL. On SIGTERM or Ctrl-C it stops taking work, lets a running conversion finish within
WORKER_STOP_GRACE seconds, then fails what is left with "worker stopped": nothing stays `running`.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils.translation import gettext as _

from conversions.converters.capabilities import probe_all
from conversions.isolation import KILL_GRACE_SECONDS
from conversions.models import Worker
from conversions.reaper import fail_running_on, reap
from conversions.sandbox import status as sandbox_status
from conversions.warm import warm_children

logger = logging.getLogger(__name__)


def register(name: str, queues: list[str]) -> Worker:
    """Register (or re-register) this worker with its tools and its sandbox."""
    capabilities = {**probe_all(), Worker.SANDBOX: sandbox_status(settings.SANDBOX)}
    worker, _created = Worker.objects.update_or_create(
        name=name,
        defaults={
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "queues": queues,
            "capabilities": capabilities,
            "state": Worker.State.RUNNING,
        },
    )
    return worker


class Supervisor:
    def __init__(self, queues: list[str]):
        self.queues = queues
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.stop_requested = threading.Event()
        self.clusters: list[subprocess.Popen] = []
        self.worker: Worker | None = None

    def run(self) -> int:
        """Serve until a signal or a qcluster's own exit; returns the exit code."""
        signal.signal(signal.SIGTERM, self._request_stop)  # before the clusters: none is orphaned
        signal.signal(signal.SIGINT, self._request_stop)
        self.worker = register(self.name, self.queues)
        self._say_sandbox()
        for queue in self.queues:
            self.clusters.append(self._start_cluster(queue))
        next_reap = 0.0
        while not self.stop_requested.wait(settings.HEARTBEAT_INTERVAL):
            if any(cluster.poll() is not None for cluster in self.clusters):
                logger.error("a qcluster of %s exited on its own; stopping the worker", self.name)
                self._stop(_("its qcluster exited unexpectedly"))
                return 1
            self._tick()
            if time.monotonic() >= next_reap:
                self._reap()
                next_reap = time.monotonic() + settings.REAPER_INTERVAL
        self._stop(_("it was asked to stop (SIGTERM)"))
        return 0

    def _say_sandbox(self) -> None:
        """Once, at start: a worker whose converters run unconfined says so in its log."""
        sandbox = self.worker.sandbox
        if sandbox.get("available"):
            logger.info("converter sandbox: Landlock %s", sandbox["tools"].get("landlock", ""))
        elif settings.SANDBOX == "required":
            logger.error(
                "converter sandbox unavailable (%s): SANDBOX=required, so every conversion "
                "on this worker will be refused",
                sandbox.get("reason"),
            )
        else:
            logger.warning(
                "converter sandbox OFF: %s. Converters run with this worker's file access.",
                sandbox.get("reason"),
            )

    def _start_cluster(self, queue: str) -> subprocess.Popen:
        env = {**os.environ, "WORKER_QUEUE": queue, "WORKER_NAME": self.name}
        # --skip-checks: `manage.py worker` ran the system checks on these settings a moment ago;
        # repeating them would import every URLconf and view (~1 s of CPU) in each qcluster.
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster", "--skip-checks"],
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,
        )

    def _request_stop(self, signum, frame) -> None:
        self.stop_requested.set()

    def _tick(self) -> None:
        try:
            if not self.worker.beat():
                # Declared lost while this process was frozen: take the registry row back.
                self.worker = register(self.name, self.queues)
            self.worker.report_warm(warm_report(self.name))
        except DatabaseError:
            logger.warning("worker heartbeat failed", exc_info=True)
            close_old_connections()

    def _reap(self) -> None:
        try:
            reap()
        except DatabaseError:
            logger.warning("reaper failed", exc_info=True)
            close_old_connections()

    def _stop(self, why: str) -> None:
        """Stop taking work, give running conversions the grace period, then fail what is left."""
        self.worker.set_state(Worker.State.STOPPING)
        for cluster in self.clusters:
            if cluster.poll() is None:
                cluster.send_signal(signal.SIGTERM)
        grace = settings.WORKER_STOP_GRACE
        if not self._wait_for_clusters(grace):
            message = _(
                "Worker stopped: %(why)s, and the conversion did not finish within the %(grace)d s "
                "grace period. Retry the task."
            ) % {"why": why, "grace": grace}
            # Failing the attempt fences it: its heartbeat thread sees that and kills the child.
            fail_running_on(self.name, message)
            if not self._wait_for_clusters(settings.HEARTBEAT_INTERVAL + KILL_GRACE_SECONDS + 10):
                for cluster in self.clusters:
                    _kill_session(cluster)
        fail_running_on(
            self.name, _("Worker stopped: %(why)s before the conversion finished.") % {"why": why}
        )
        self.worker.set_state(Worker.State.STOPPED)

    def _wait_for_clusters(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while any(cluster.poll() is None for cluster in self.clusters):
            if time.monotonic() >= deadline:
                return False
            self._tick()
            time.sleep(0.2)
        return True


def warm_report(name: str) -> dict:
    """The warm converter children of worker `name` now, and their memory (MB, RSS)."""
    if not settings.WARM_CHILDREN:
        return {"enabled": False, "children": 0, "memory_mb": 0}
    found = warm_children(name)
    return {
        "enabled": True,
        "children": len(found),
        "memory_mb": sum(child["rss_mb"] for child in found),
    }


def _kill_session(cluster: subprocess.Popen) -> None:
    try:
        os.killpg(cluster.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    cluster.wait()
