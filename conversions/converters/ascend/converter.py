"""Caffe, TensorFlow or ONNX to an Ascend .om with Huawei's ATC, after a strict preflight.

The preflight reads the model the way ATC will (Caffe through our own schema, TensorFlow through the
op audit and a frozen GraphDef, ONNX through its checker) and refuses, with one clear message, what
ATC would refuse or what must not run. Only then is ATC looked for and run; its output streams into
the task log. An .om runs only on an Ascend device, so it is not verified here: the report says so.
"""

import re
import shlex
import shutil
import time
from pathlib import Path

from conversions.converters.ascend import caffe_ssd
from conversions.converters.ascend.caffe import check_caffe
from conversions.converters.ascend.command import (
    AtcCall,
    arguments,
    atc_version,
    call_from_options,
    find_atc,
    missing_message,
)
from conversions.converters.ascend.preflight import Model, check_onnx, check_tensorflow
from conversions.converters.ascend.runner import (
    PACKAGE_PARTS,
    atc_env,
    custom_op_packages,
    judge,
    locate_om,
    run_atc,
)
from conversions.converters.base import ConversionError, Converter, Events, Job
from conversions.converters.layout import Layout, check_layout
from conversions.converters.verify import sha256_of, size_of

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
FRAMEWORK_NAMES = {0: "caffe", 3: "tensorflow", 5: "onnx"}
NOT_VERIFIED = (
    "An .om runs only on an Ascend device with the CANN runtime; this worker compares outputs only "
    "for models it can run, so the .om was not compared with the original."
)


class AscendConverter(Converter):
    key = "ascend"

    def convert(self, job: Job, events: Events) -> dict:
        if not NAME_RE.fullmatch(job.name):
            raise ConversionError(f"The task name {job.name[:80]!r} cannot name an .om file.")
        settings, notes = call_from_options(job.options, job.model_format)
        caffe_ssd.mode_of(job.options)  # checked before anything is read
        events.stage("checking")
        layout = check_layout(job.input_path, job.chip, job.model_format)
        scratch = job.output_path.parent / "atc"  # ATC's working folder: kernel_meta, logs
        scratch.mkdir(parents=True, exist_ok=True)
        job.output_path.mkdir(parents=True, exist_ok=True)
        framework = settings["framework"]
        call = AtcCall(
            model=scratch / "model.pb" if job.model_format == "saved_model" else layout.model,
            weight=layout.weights if framework == 0 else None,
            output=job.output_path / job.name,
            insert_op_conf=layout.insert_op_conf,
            **settings,
        )
        arguments(call)  # every option value checked before anything is read
        events.log(f"Start preflight of {_shown(layout)} for ATC ({FRAMEWORK_NAMES[framework]})")
        started = time.monotonic()
        model = self._preflight(job, layout, scratch, events)
        preflight_seconds = time.monotonic() - started
        call.model = model.path
        for note in notes + model.notes:
            events.log(note)
        self._log_extras(layout, events)
        events.log("Preflight passed: " + ", ".join(f"{n} {d}" for n, d in model.inputs))

        atc = find_atc()
        if atc is None:
            raise ConversionError(missing_message())
        version = atc_version(atc)
        events.stage("converting")
        argv = [str(atc), *arguments(call)]
        events.log(f"Run ATC (CANN {version}): {shlex.join(argv)}")
        run = run_atc(argv, scratch, atc_env(scratch, layout.plugin), events)
        om = locate_om(job.output_path, job.name)
        try:
            judge(run, om, job.name)
        except ConversionError:
            if om is not None:  # never publish an .om from a run that did not succeed
                om.unlink(missing_ok=True)
            raise
        artifacts = {"model": om.name}
        fusion = scratch / "fusion_result.json"
        if fusion.is_file():
            shutil.move(str(fusion), job.output_path / fusion.name)
            artifacts["fusion_result"] = fusion.name
        events.log(f"Model converted: {om.name} ({size_of(om)} bytes) in {run.seconds:.2f} s")
        return {
            "target": "ascend",
            "framework": FRAMEWORK_NAMES[framework],
            "soc_version": call.soc_version,
            "inputs": [
                {"name": n, "shape": d, "dtype": model.dtypes.get(n, "unknown")}
                for n, d in model.inputs
            ],
            "outputs": model.outputs,
            "atc": {
                "path": str(atc),
                "version": version,
                "arguments": argv[1:],
                "exit_code": run.exit_code,
            },
            "notes": notes + model.notes,
            "verification_skipped": NOT_VERIFIED,  # no "verification": nothing was compared
            "input_model": {**_described(layout.model), "path": _shown(layout)},
            "input_weights": _described(layout.weights) if layout.weights else None,
            "artifacts": artifacts,
            "output_size_bytes": size_of(om),
            "timings": {
                "preflight_s": round(preflight_seconds, 3),
                "conversion_s": round(run.seconds, 3),
            },
        }

    @staticmethod
    def _preflight(job: Job, layout: Layout, scratch: Path, events: Events) -> Model:
        if job.model_format == "caffemodel":
            net = check_caffe(layout.model, layout.weights, caffe_ssd.mode_of(job.options))
            for warning in net.warnings:
                events.log(warning, level="warning")
            path = layout.model
            if net.rewritten is not None:
                path = caffe_ssd.write_prototxt(net.rewritten, scratch / layout.model.name)
                for change in net.changes:
                    events.log(change)
                events.log(f"ATC reads the rewritten network: {path.name} in the work folder")
            events.log(
                f"Caffe network: {net.layers} layers, {net.weighted_layers} with weights; inputs "
                + ", ".join(f"{n} {d}" for n, d in net.inputs)
                + "; outputs "
                + ", ".join(net.outputs)
            )
            return Model(path, net.inputs, {n: "float32" for n, _ in net.inputs}, net.outputs)
        if job.model_format == "onnx":
            return check_onnx(layout.model, job.options, events)
        return check_tensorflow(layout.model, job.model_format, job.options, scratch, events)

    @staticmethod
    def _log_extras(layout: Layout, events: Events) -> None:
        if layout.insert_op_conf is not None:
            events.log(
                "insert_op_conf.cfg is passed to ATC (--insert_op_conf): the model's input becomes "
                "UINT8 and the pre-processing it describes runs on the device"
            )
        if layout.plugin is not None:
            packages = custom_op_packages(layout.plugin)
            events.log(
                "Custom operators from plugin/ are offered to ATC through ASCEND_CUSTOM_OPP_PATH: "
                + ", ".join(str(p.relative_to(layout.root)) for p in packages)
            )
            if not any((p / part).is_dir() for p in packages for part in PACKAGE_PARTS):
                events.log(
                    "plugin/ holds no op_proto/, op_impl/ or framework/ folder: ATC may not find "
                    "the custom operators. Build them as a CANN custom operator package.",
                    level="warning",
                )


def _shown(layout: Layout) -> str:
    relative = layout.model.relative_to(layout.root)
    return str(relative) if str(relative) != "." else "the SavedModel"


def _described(path: Path) -> dict:
    return {"path": path.name, "sha256": sha256_of(path), "size_bytes": size_of(path)}
