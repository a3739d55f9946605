"""Helpers for tests/scale and the scale-out benchmarks: tasks to convert, and their converter children."""

import os
from pathlib import Path

from conversions.jobs import deliver
from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate
from tests.helpers import CNN_OPTIONS, wait_for

S = ConversionTask.Status


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def converter_pids(task_id: int) -> list[int]:
    """Converter child processes (`python -m conversions.converters run .../task-<id>-*/job.json`),
    and those a warm child forked for the task (`... warm NAME`, working in .../task-<id>-*/), in
    this test's work directory only: another test run on the machine has tasks of the same ids."""
    from django.conf import settings

    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            continue
        if b"conversions.converters" not in argv:
            continue
        mark = f"{settings.WORK_DIR}/task-{task_id}-"
        if any(mark.encode() in a for a in argv) or (b"warm" in argv and mark in _cwd(proc)):
            found.append(int(proc.name))
    return found


def _cwd(proc: Path) -> str:
    try:
        return os.readlink(proc / "cwd") + "/"
    except OSError:
        return ""


def make_tasks(owner, folder: str, count: int, prefix: str = "t") -> list[ConversionTask]:
    """`count` ARM conversions of `folder`, each to its own output folder, delivered to the cpu queue."""
    template = ConversionTemplate.objects.get(slug="tensorflow-frozen-graph-to-tflite")
    tasks = []
    for i in range(count):
        task = ConversionTask.objects.create(
            owner=owner,
            name=f"{prefix}{i:02d}",
            template=template,
            input_location=folder,
            output_location=f"out/{prefix}{i:02d}/",
            options=CNN_OPTIONS,
        )
        deliver(task.pk, template.queue)
        tasks.append(task)
    return tasks


def ended(task_id: int):
    task = ConversionTask.objects.get(pk=task_id)
    return None if task.is_active else task


def converting(task_id: int) -> int | None:
    """The pid of the task's converter child once the task is running it, else None."""
    task = ConversionTask.objects.get(pk=task_id)
    if task.status != S.RUNNING:
        return None
    pids = [pid for pid in converter_pids(task_id) if armed(pid)]
    return pids[0] if pids else None


def armed(pid: int) -> bool:
    """Whether the child has confined itself: it arms its death signal first, then enters Landlock,
    which sets no_new_privs. A child stopped before that would outlive its worker until it ran on
    (and then exit at once, seeing its worker gone); the tests stop only armed children."""
    try:
        return "NoNewPrivs:\t1" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def first_converting(tasks) -> tuple[ConversionTask, int]:
    def probe():
        for task in tasks:
            pid = converting(task.pk)
            if pid:
                return ConversionTask.objects.get(pk=task.pk), pid
        return None

    return wait_for(probe, timeout=180, what="a converter child to start")
