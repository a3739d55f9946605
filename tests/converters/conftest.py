import numpy as np
import pytest

from tests import modelkit


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
