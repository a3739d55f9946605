"""Strict parsing of the numbers a request carries (ids, pages, offsets).

`str.isdigit()` and `int()` accept far more than a URL should: "²" is a digit to `isdigit()` (and
then a ValueError in `int()`), "٣" is 3 to `int()`, and a 25-digit id overflows the database's
integer. Every numeric request value goes through here: ASCII digits only, below 2**63.
"""

from django.urls.converters import IntConverter

LIMIT = 2**63 - 1  # the largest value a BigAutoField (and SQLite's INTEGER) holds


def positive_int(text, default: int | None = None, *, maximum: int = LIMIT) -> int | None:
    """`text` as a non-negative int if it is 1 to 18 ASCII digits at most `maximum`, else `default`."""
    if not isinstance(text, str) or not text or len(text) > 18:
        return default
    if not (text.isascii() and text.isdigit()):
        return default
    value = int(text)
    return value if value <= maximum else default


def positive_ints(values) -> list[int]:
    """The strictly parsed ints among `values` (a POST's `ids`): anything else is left out."""
    parsed = (positive_int(value) for value in values)
    return [value for value in parsed if value is not None]


class IdConverter(IntConverter):
    """`<id:task_id>`: 1 to 18 ASCII digits, so a 25-digit id is a 404, not an overflow (500)."""

    regex = "[0-9]{1,18}"
