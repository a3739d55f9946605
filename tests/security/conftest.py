"""Fixtures of the security tests."""

import pytest

from tests.helpers import make_task
from tests.security.tenancy_kit import PRECIOUS, S


@pytest.fixture
def alice_files(user, alice_home, cnn_placeholder):
    """alice's model (models/cnn/) and a converted model of hers (out/cnn/), with her task."""
    out = alice_home / "out" / "cnn"
    (out / "model").mkdir(parents=True)
    (out / "model" / "m.tflite").write_bytes(PRECIOUS)
    (out / "report.json").write_text('{"status": "succeeded"}')
    task = make_task(
        user,
        name="mine",
        status=S.SUCCEEDED,
        output_location="out/cnn/",
        result={"artifacts_published": ["model/m.tflite"]},
    )
    return task, out
