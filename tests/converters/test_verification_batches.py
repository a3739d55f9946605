"""Verification samples run in batches where the model takes them, one at a time where it does not,
with the same per-output figures either way."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

from conversions.converters import batching
from conversions.converters.base import Events
from tests.converters.direct import calibration, convert_directly

FIGURES = ("max_abs_error", "mean_abs_error", "cosine_similarity", "worst_sample_cosine")


class Log:
    def __init__(self):
        self.lines = []

    def log(self, message, level="info"):
        self.lines.append(message)


def samples(count, shape=(3,), seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.uniform(-1, 1, (1, *shape)).astype(np.float32)] for _ in range(count)]


def counted(model):
    calls = []

    def run(arrays):
        calls.append(len(arrays[0]))
        return model(arrays)

    return run, calls


def test_it_stacks_samples_into_batches_and_says_so_once():
    log, sets = Log(), samples(40)
    run, calls = counted(lambda arrays: [arrays[0] * 2, arrays[0].sum(axis=1)])
    plan = batching.Batches("the original model", log)
    first = plan.run(run, sets)
    again = plan.run(run, sets[:5])
    # 32 and 8, with sample 0 run alone once to check the first batch; then 5 in one call
    assert calls == [32, 1, 8, 5]
    assert np.array_equal(first[0], np.concatenate([s[0] for s in sets]) * 2)
    assert first[1].shape == (40,) and np.array_equal(again[0], first[0][:5])
    assert log.lines == ["Run the original model on the verification inputs in batches of 32"]


def test_a_model_that_mixes_samples_runs_them_one_at_a_time():
    log, sets = Log(), samples(6)
    run, calls = counted(lambda arrays: [arrays[0] - arrays[0].mean(axis=0, keepdims=True)])
    outputs = batching.Batches("the converted model", log).run(run, sets)
    assert calls == [6, 1] + [1] * 6
    assert np.allclose(outputs[0], 0)  # each sample minus its own mean: what one at a time gives
    assert log.lines == [
        "Run the converted model on the verification inputs one at a time: a sample's outputs "
        "changed when other samples ran beside it"
    ]


def test_a_model_without_one_output_row_per_sample_runs_them_one_at_a_time():
    log = Log()
    run, calls = counted(lambda arrays: [arrays[0].sum(axis=0, keepdims=True)])
    outputs = batching.Batches("the converted model", log).run(run, samples(4))
    assert calls == [4, 1, 1, 1, 1] and outputs[0].shape == (4, 3)
    assert "gave outputs of shape [1, 3], not one row per sample" in log.lines[0]


def test_a_refused_batch_falls_back_and_the_bytes_limit_the_batch_size():
    def fixed(arrays):
        if len(arrays[0]) != 1:
            raise ValueError("Cannot feed value of shape (8, 3)")
        return [arrays[0]]

    log = Log()
    batching.Batches("the original model", log).run(fixed, samples(8))
    assert log.lines == [
        "Run the original model on the verification inputs one at a time: it refused a batch "
        "of 8 (Cannot feed value of shape (8, 3))"
    ]
    big = samples(3, shape=(1200, 1200, 3))  # 17 MB a sample: over BATCH_BYTES
    assert batching.Batches("x", None).size(big) == 1


def test_the_child_imports_the_converters_libraries_before_it_is_ready(tmp_path, monkeypatch):
    import sys

    from conversions.converters import __main__ as child
    from conversions.converters.base import Converter, Job

    seen = []

    class Probe(Converter):
        imports = ("colorsys",)

        def convert(self, job, events):
            return {}

    class Recording(Events):
        def emit(self, kind, **data):
            seen.append((kind, "colorsys" in sys.modules))

    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.setattr(child, "get_converter", lambda key: Probe())
    Job("probe", "in", "out", "net", "frozen_graph", "arm").dump(tmp_path / "job.json")
    assert child.run(Recording(io.StringIO()), str(tmp_path / "job.json")) == 0
    assert seen[0] == ("ready", True)
    from conversions.converters.tflite import TFLiteConverter

    assert "tensorflow" in TFLiteConverter.imports


def one_by_one_report(monkeypatch, *args, **options):
    with monkeypatch.context() as patch:
        patch.setattr(batching, "BATCH_LIMIT", 1)
        return convert_directly(*args, options)


def assert_same_figures(batched: dict, single: dict) -> None:
    rows, expected = batched["verification"]["outputs"], single["verification"]["outputs"]
    for row, want in zip(rows, expected, strict=True):
        assert row["verdict"] == want["verdict"]
        if want["worst_sample_cosine"] < 1 - 1e-5:
            # where every sample's cosine is 1 within float32 rounding (32-bit), which one is
            # "worst" is rounding noise that a batched kernel may order differently
            assert row["worst_sample"] == want["worst_sample"]
        assert row["top1_agreement"] == want["top1_agreement"]
        for key in FIGURES:
            assert row[key] == pytest.approx(want[key], rel=1e-4, abs=1e-6), key


def logged(events) -> list[str]:
    return [e["message"] for e in events if e.get("event") == "log"]


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["32bit", "16bit", "8bit-dynamic", "8bit"])
def test_batched_and_one_by_one_verification_give_the_same_figures(
    cnn_pb, tmp_path, monkeypatch, precision
):
    (tmp_path / "in/model").mkdir(parents=True)
    (tmp_path / "in/model/cnn.pb").write_bytes(cnn_pb.read_bytes())
    calibration(tmp_path / "in/calibration_data", count=40)
    options = {
        "input_tensor_names": "input",
        "output_tensor_names": "Identity",
        "quantization_precision": precision,
    }
    args = ("tflite", tmp_path / "in", tmp_path / "one", "frozen_graph", "arm")
    single, single_events = one_by_one_report(monkeypatch, *args, **options)
    batched, events = convert_directly(*args[:2], tmp_path / "two", *args[3:], options)
    # 8bit verifies on the 8 samples held out of calibration, the others on 32 (VERIFY_LIMIT)
    count = 8 if precision == "8bit" else 32
    assert batched["verification"]["samples"] == single["verification"]["samples"] == count
    assert_same_figures(batched, single)
    lines = logged(events)
    assert f"Run the original model on the verification inputs in batches of {count}" in lines
    assert f"Run the converted model on the verification inputs in batches of {count}" in lines
    assert not any("inputs in batches" in line for line in logged(single_events))
    config = json.loads((tmp_path / "two/model/config.json").read_text())
    assert config["inputs"][0]["shape"] == [1, 32, 32, 3]  # the model as converted, not resized


def batch_one_graph(path: Path) -> None:
    """A frozen graph that only batch 1 can run: it flattens the whole input to one row, and adds
    that row's sum to every score (a batch would add every sample's sum: TFLite takes such a batch
    and the check against a sample run alone refuses it)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    weights = tf.constant(np.random.default_rng(3).normal(size=(48, 5)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([1, 4, 4, 3], tf.float32, name="input")])
    def flat(x):
        row = tf.reshape(x, [1, -1])
        scores = tf.matmul(row, weights) + tf.reduce_sum(row, axis=1, keepdims=True)
        return tf.identity(scores, name="scores")

    frozen = convert_variables_to_constants_v2(flat.get_concrete_function())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())


@pytest.mark.slow
def test_a_graph_built_for_batch_one_verifies_one_sample_at_a_time(tmp_path, monkeypatch):
    batch_one_graph(tmp_path / "in/model/flat.pb")
    calibration(tmp_path / "in/calibration_data", count=6, shape=(4, 4, 3))
    options = {"input_tensor_names": "input", "output_tensor_names": "Identity"}
    args = ("tflite", tmp_path / "in", tmp_path / "one", "frozen_graph", "arm")
    single, _ = one_by_one_report(monkeypatch, *args, **options)
    report, events = convert_directly(*args[:2], tmp_path / "two", *args[3:], options)
    assert report["verification"]["verdict"] == "pass"
    assert_same_figures(report, single)
    lines = [line for line in logged(events) if line.startswith("Run the ")]
    assert len(lines) == 2, lines
    assert lines[0].startswith("Run the original model on the verification inputs one at a time:")
    assert lines[1].startswith("Run the converted model on the verification inputs one at a time:")


@pytest.mark.slow
def test_the_converter_takes_the_parsed_graph_and_writes_what_from_frozen_graph_writes(cnn_pb):
    import tensorflow as tf

    from conversions.converters import tfgraph
    from conversions.converters.tfsource import TFModel, placeholder_specs, tflite_converter

    graph_def = tfgraph.read_frozen_graph(cnn_pb)
    model = TFModel(graph_def, placeholder_specs(graph_def, "input"), ["Identity:0"])
    from_file = tf.compat.v1.lite.TFLiteConverter.from_frozen_graph(
        str(cnn_pb), ["input"], ["Identity"], {"input": [1, 32, 32, 3]}
    )
    assert tflite_converter(tf, model).convert() == from_file.convert()
