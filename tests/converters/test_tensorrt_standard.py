"""The standard-TensorRT path (engine_builder=tensorrt) on this GPU-less machine, through stand-ins.

Standard TensorRT's libraries come from NVIDIA's index and it builds only on a GPU, so neither can be
installed here. The stand-ins check the calls the way NVIDIA documents them:
- `tensorrt`: the same Python API as TensorRT-RTX (it delegates to it), minus compute capabilities,
  which standard TensorRT does not take: it builds for the GPU it runs on. The stand-in refuses a
  config that sets any, and records the CUDA_VISIBLE_DEVICES it was imported with.
- `nvidia-smi`: answers `--query-gpu=compute_cap --format=csv,noheader` like an L4 (8.9), and nothing else.
- a GPU on the machine: probe.gpu_present() answers yes.
"""

import json
import os
import sys
import textwrap

import pytest

from conversions.converters.tensorrt import probe
from tests.converters.test_tensorrt import CNN, run

pytestmark = pytest.mark.slow

STAND_IN = '''
"""Stand-in for standard TensorRT (see tests/converters/test_tensorrt_standard.py)."""
import os

import tensorrt_rtx as _rtx
from tensorrt_rtx import *  # noqa: F403

__version__ = "10.99.0-stand-in"
IMPORTED_WITH_CUDA_VISIBLE_DEVICES = os.environ.get("CUDA_VISIBLE_DEVICES")


class Builder:
    def __init__(self, logger):
        self._builder = _rtx.Builder(logger)

    def __getattr__(self, name):
        return getattr(self._builder, name)

    def build_serialized_network(self, network, config):
        if config.num_compute_capabilities != 0:
            raise TypeError("standard TensorRT takes no compute capabilities")
        config.num_compute_capabilities = 1  # the GPU it runs on: an L4
        config.set_compute_capability(_rtx.ComputeCapability.SM89, 0)
        return self._builder.build_serialized_network(network, config)
'''
NVIDIA_SMI = """#!/bin/sh
[ "$1" = "--query-gpu=compute_cap" ] && [ "$2" = "--format=csv,noheader" ] && [ $# -eq 2 ] || exit 9
echo 8.9
"""


@pytest.fixture
def standard_tensorrt(tmp_path, monkeypatch):
    if probe.builder_version(probe.STANDARD) is not None:
        pytest.skip("a real standard TensorRT is installed here")
    stand_ins = tmp_path / "stand-ins"
    (stand_ins / "tensorrt").mkdir(parents=True)
    (stand_ins / "tensorrt/__init__.py").write_text(textwrap.dedent(STAND_IN))
    (stand_ins / "tensorrt_libs").mkdir()
    (stand_ins / "tensorrt_libs/__init__.py").write_text("")
    smi = stand_ins / "nvidia-smi"
    smi.write_text(NVIDIA_SMI)
    smi.chmod(0o755)
    monkeypatch.syspath_prepend(str(stand_ins))
    monkeypatch.setenv("PATH", f"{stand_ins}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(probe, "gpu_present", lambda: True)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # as the converter child starts
    monkeypatch.setenv("WORKER_CUDA_VISIBLE_DEVICES", "1")  # the worker's own GPUs
    yield
    sys.modules.pop("tensorrt", None)


def test_standard_tensorrt_builds_for_the_gpu_it_runs_on_with_the_workers_gpus(
    standard_tensorrt, trt_input, tmp_path
):
    assert probe.usable() == [probe.RTX, probe.STANDARD]
    report, events = run(
        trt_input,
        tmp_path / "out",
        engine_builder="tensorrt",
        quantization_precision="16bit",
        **CNN,
    )
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert (config["builder"], config["builder_version"]) == ("tensorrt", "10.99.0-stand-in")
    assert config["compute_capabilities"] == ["SM89"]
    assert report["versions"]["tensorrt"] == "10.99.0-stand-in"
    assert (tmp_path / "out/model/net.engine").stat().st_size > 100_000
    assert sys.modules["tensorrt"].IMPORTED_WITH_CUDA_VISIBLE_DEVICES == "1"
    assert any(e.get("message", "").startswith("[TensorRT] ") for e in events)


def test_auto_prefers_tensorrt_rtx_when_both_can_build(standard_tensorrt, trt_input, tmp_path):
    run(trt_input, tmp_path / "out", **CNN)
    config = json.loads((tmp_path / "out/model/config.json").read_text())
    assert config["builder"] == "tensorrt-rtx" and "tensorrt" not in sys.modules


@pytest.mark.parametrize(
    "text, version",
    [
        ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 2024", "550.54.14"),
        ("NVRM version: 5²0.54 (a superscript is no digit of a version) 535.104.05", "535.104.05"),
        ("NVRM version: no number here", "unknown"),
    ],
)
def test_the_driver_version_is_the_first_ascii_dotted_number(tmp_path, monkeypatch, text, version):
    (tmp_path / "version").write_text(text)
    monkeypatch.setattr(probe, "DRIVER_VERSION_FILE", tmp_path / "version")
    assert probe.driver_version() == version
