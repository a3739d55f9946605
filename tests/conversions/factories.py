"""Kept for older imports: the helpers live in tests/helpers.py."""

from tests.helpers import TFLITE, make_task  # noqa: F401
