"""The pages' small display filters (conversions/templatetags/console.py)."""

from datetime import timedelta

from django.utils import translation

from conversions.templatetags.console import duration


def test_durations_read_as_a_person_would_say_them():
    cases = {
        None: "–",
        timedelta(milliseconds=840): "0.8 s",
        timedelta(seconds=9.94): "9.9 s",
        timedelta(seconds=9.96): "9.9 s",  # cut, not rounded, like every longer duration
        timedelta(seconds=42.7): "42 s",
        timedelta(minutes=3, seconds=5): "3 min 05 s",
        timedelta(hours=2, minutes=4, seconds=59): "2 h 04 min",
    }
    got = {value: duration(value) for value in cases}
    assert got == cases


def test_durations_in_chinese():
    with translation.override("zh-hans"):
        assert duration(timedelta(milliseconds=840)) == "0.8 秒"
        assert duration(timedelta(seconds=42)) == "42 秒"
