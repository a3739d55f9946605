"""Where a task's time goes: report.json's `timings.task`, from marks the worker takes. No Django.

The marks are wall-clock times (the child's events carry time.time() too):
queued (the task was handed to the broker), claimed (a worker took it), handed (the job went to the
converter child), ready (the child had imported its converter), converting and verifying (the
converter's stages), ended (the child exited) and published (report.json is about to be written).
"""

import time

# phase -> (the mark it starts at, the mark it ends at)
PHASES = {
    "queue_wait": ("queued", "claimed"),
    "staging": ("claimed", "handed"),
    # until the child has imported its converter and the libraries every job needs (Converter.imports):
    # a cold child's TensorFlow import counts here, a warm child did it before the task
    "child_start": ("handed", "ready"),
    "audit": ("ready", "converting"),  # loading the model, its op audit and the reference run
    "conversion": ("converting", "verifying"),
    "verification": ("verifying", "ended"),
    "publishing": ("ended", "published"),
}


class Clock:
    def __init__(self, queued: float | None = None):
        self.marks: dict[str, float] = {}
        self.warm = False
        if queued:
            self.marks["queued"] = float(queued)

    def mark(self, name: str, at: float | None = None) -> None:
        """The first time `name` happened (now unless `at` says when); later ones are ignored."""
        self.marks.setdefault(name, float(at) if at else time.time())

    def report(self) -> dict:
        """{"<phase>_s": seconds, ..., "total_s", "warm_child"}: the phases whose marks were taken."""
        found = {}
        for phase, (start, end) in PHASES.items():
            if start in self.marks and end in self.marks:
                found[f"{phase}_s"] = round(max(0.0, self.marks[end] - self.marks[start]), 3)
        if found:
            found["total_s"] = round(sum(found.values()), 3)
        found["warm_child"] = self.warm
        return found
