import numpy as np
import pytest

from tests import modelkit
from tests.converters.direct import calibration


@pytest.fixture(scope="session")
def biased_cnn_pb(tmp_path_factory):
    """The small CNN with non-zero biases, so its ONNX has Conv and Gemm biases (to keep float in 8bit)."""

    def build(folder):
        modelkit.freeze(modelkit.randomize_biases(modelkit.small_cnn()), folder / "biased_cnn.pb")

    return modelkit.built_once(tmp_path_factory, "biased-cnn", build) / "biased_cnn.pb"


@pytest.fixture
def trt_input(tmp_path, biased_cnn_pb):
    """An input folder for the TensorRT frozen-graph template: model/cnn.pb and 16 calibration samples."""
    (tmp_path / "in/model").mkdir(parents=True)
    (tmp_path / "in/model/cnn.pb").write_bytes(biased_cnn_pb.read_bytes())
    (tmp_path / "in/calibration_data").mkdir()
    samples = np.random.default_rng(0).uniform(-1, 1, size=(16, 32, 32, 3)).astype(np.float32)
    np.save(tmp_path / "in/calibration_data/batch.npy", samples)
    return tmp_path / "in"


@pytest.fixture(scope="session")
def outlier_dir(tmp_path_factory):
    """The outlier CNN (tests/modelkit.outlier_cnn) frozen to model/cnn.pb, with 32 calibration
    samples; built once per run and read only (copy it to change it)."""

    def build(root):
        modelkit.freeze(modelkit.outlier_cnn(), root / "model/cnn.pb")
        calibration(root / "calibration_data", count=32, shape=(16, 16, 3))

    return modelkit.built_once(tmp_path_factory, "outlier", build)


@pytest.fixture(scope="session")
def mobilenet_dirs(tmp_path_factory):
    """MobileNetV2 (alpha 0.35, 96x96, random weights) in four input folders with 24 calibration
    samples each: `plain` (logits, as Keras initializes it), `realistic` (logits, batch norms set
    from a batch: a trained network's activation scale), `saved` (that one as a SavedModel) and
    `softmax` (Keras's default head). Built once per run, read only."""

    def build(root):
        modelkit.freeze(modelkit.mobilenet_v2(logits=True), root / "plain/model/mobilenet.pb")
        realistic = modelkit.mobilenet_v2(logits=True, calibrate_bn=True)
        modelkit.freeze(realistic, root / "realistic/model/mobilenet.pb")
        modelkit.save_saved_model(realistic, root / "saved/model")
        modelkit.freeze(modelkit.mobilenet_v2(), root / "softmax/model/mobilenet.pb")
        for folder in ("plain", "realistic", "saved", "softmax"):
            calibration(root / folder / "calibration_data", count=24, shape=(96, 96, 3))

    return modelkit.built_once(tmp_path_factory, "mobilenet", build)
