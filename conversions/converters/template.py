"""The warm child's side: import once, then fork one fresh child per job. No Django here.

`python -m conversions.converters warm NAME` starts with the scrubbed environment of every converter
child, imports TensorFlow and the converter library (`preload`), and then serves its worker process
over its stdin, a SOCK_SEQPACKET socket (conversions/warm.py holds the other end):

- an order is one message: JSON {"argv", "cwd", "env"} with two descriptors attached (SCM_RIGHTS),
  the write ends of the job's events and output pipes, which the worker reads as a cold child's;
- for each order it forks one child, says {"pid"}, waits for that child and says {"pid", "exit"}
  (the exit code as Popen gives it: negative for a signal);
- the worker closing the socket (or dying: the death signal) ends it.

It never runs a job itself and reads no model: each job gets a fresh fork, which makes itself a
session of its own, takes the job's pipes and exactly the environment a cold child gets, and then
confines itself (limits, death signal, Landlock) before it reads anything. Forking matters: Landlock
confines the calling thread and its future threads, and TensorFlow's import leaves threads behind;
the fork has one.
"""

import ctypes
import json
import os
import resource
import shutil
import signal
import socket
import tempfile
import traceback
import warnings
from collections.abc import Callable

from conversions.converters.confine import POLICY_ENV, PR_SET_PDEATHSIG, Policy

ORDER_BYTES = 1 << 20  # an order is a few kB (the policy lists folders); one message at most this


def serve(
    preload: Callable[[], None],
    run: Callable[[list[str]], int],
    leave: Callable[[int], None],
) -> int:
    """Import, then fork a child for each order until the worker closes the socket."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(os.environ.pop("WARM_PARENT", "0") or os.getppid()):
        return 70  # the worker died before the death signal was armed
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    preload()
    folder = os.getcwd()  # HOME and TMPDIR of the imports: nothing of it is needed any more
    os.chdir("/")
    shutil.rmtree(folder, ignore_errors=True)
    orders = socket.socket(fileno=0)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(orders, ORDER_BYTES, 2)
        except OSError:
            return 0
        if not message:
            return 0  # the worker closed the socket: no more jobs
        try:
            pid = _fork(json.loads(message), fds, run, leave)
        finally:
            for fd in fds:
                os.close(fd)
        try:
            orders.send(json.dumps({"pid": pid}).encode())
            _, status = os.waitpid(pid, 0)
            orders.send(
                json.dumps({"pid": pid, "exit": os.waitstatus_to_exitcode(status)}).encode()
            )
        except OSError:
            return 0  # the worker is gone; the child dies with this process (its death signal)


def _fork(order: dict, fds: list[int], run, leave) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setsid()  # a process group of its own, which the worker kills as a cold child's
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # this also closes the order socket in the child
        events, output = fds
        os.dup2(events, 1)
        os.dup2(output, 2)
        for fd in (devnull, events, output):
            os.close(fd)
        os.chdir(order["cwd"])
        env = dict(order["env"])
        if env.get(POLICY_ENV):  # the child's parent is this process, not the worker
            policy = Policy.loads(env[POLICY_ENV])
            policy.parent_pid = os.getppid()
            env[POLICY_ENV] = policy.dumps()
        os.environ.clear()
        os.environ.update(env)  # exactly what a cold child would get
        tempfile.tempdir = None  # TMPDIR is the job's now
        code = 64 if order["argv"][:1] == ["warm"] else run(order["argv"])
    except BaseException:
        traceback.print_exc()
    finally:
        leave(code)
