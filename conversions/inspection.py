"""Inspect the model in a location, for the create form (on a worker) and `manage.py inspect_model`.

The model is staged into a private folder and read by the converter child, under the same limits
and sandbox as a conversion but a shorter wall clock. The web process never calls
`inspect_location`: it checks the location with `resolve` and queues an Inspection row
(conversions/inspections.py) that conversions.jobs.run_inspection hands to this module.
"""

import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from conversions import locations

INSPECT_SECONDS = 120


class InspectionError(Exception):
    """The location cannot be inspected; the message says why."""


def resolve(location: str, user=None):
    """The location `user` asked to inspect (read access needed), or InspectionError saying why it
    cannot be read.

    Cheap (no staging): the web process calls it before queueing, the worker again before staging.
    """
    try:
        return locations.parse(location, user=user, need=locations.READ)
    except locations.LocationError as exc:
        raise InspectionError(str(exc)) from None


def inspect_location(location: str, chip: str = "", user=None) -> dict:
    """The inspection report of the model at `location` as `user` names it (see
    converters.inspection.inspect_folder)."""
    from conversions.isolation import Limits, run_child, warm_slot  # the worker's, not the web's
    from conversions.sandbox import Sandbox

    source = resolve(location, user)
    workdir = Path(tempfile.mkdtemp(prefix="inspect-", dir=_work_dir()))
    try:
        (workdir / "input").mkdir()
        try:
            source.stage_into(workdir / "input")
        except locations.LocationError as exc:
            raise InspectionError(str(exc)) from None
        limits = Limits(
            min(INSPECT_SECONDS, settings.CONVERSION_TIMEOUT),
            settings.CONVERSION_CPU_SECONDS,
            settings.CONVERSION_MEMORY_MB,
        )
        outcome = run_child(
            workdir / "input",
            limits,
            on_event=lambda event: None,
            on_output=lambda line: None,
            command=("inspect", chip),
            sandbox=Sandbox.from_settings(settings),
            warm=warm_slot(settings),
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if not outcome.ok:
        raise InspectionError(outcome.error or "The model could not be inspected.")
    return outcome.result


def _work_dir() -> str:
    Path(settings.WORK_DIR).mkdir(parents=True, exist_ok=True)
    return str(settings.WORK_DIR)


def layout_hint(report: dict, chip: str) -> str:
    """What to move when the inspected model lies where the chosen template's chip does not read
    it (Ascend: the top of the input folder; ARM and GPU: model/); "" when it fits or is unknown."""
    placed = report.get("in_model_folder")
    if placed is None or not chip:
        return ""
    model = report.get("model", "")
    if chip == "ascend" and placed:
        return _(
            "%(model)s is in model/, but Ascend templates read the model from the top of the input "
            "folder: move it up one level, out of model/."
        ) % {"model": model}
    if chip in ("arm", "gpu") and not placed:
        return _(
            "%(model)s is at the top of the input folder, but ARM and GPU templates read the model "
            "from a folder named model/ inside it: move it into model/."
        ) % {"model": model}
    return ""
