import numpy as np
import pytest

from tests import modelkit
from tests.converters.direct import calibration


@pytest.fixture(scope="session")
def biased_cnn_pb(tmp_path_factory):
    """The small CNN with non-zero biases, so its ONNX has Conv and Gemm biases (to keep float in 8bit)."""
    path = tmp_path_factory.mktemp("models") / "biased_cnn.pb"
    modelkit.freeze(modelkit.randomize_biases(modelkit.small_cnn()), path)
    return path


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
    samples; built once per session and read only (copy it to change it)."""
    root = tmp_path_factory.mktemp("outlier")
    modelkit.freeze(modelkit.outlier_cnn(), root / "model/cnn.pb")
    calibration(root / "calibration_data", count=32, shape=(16, 16, 3))
    return root
