"""report.json's task timings, and the detail page's stacked bar of them."""

import pytest
from django.urls import reverse

from conversions.charts import TIMELINE_WIDTH, timings_chart
from conversions.converters.report import Report
from conversions.models import ConversionTask
from conversions.timings import PHASES, Clock
from tests.conversions.factories import make_task

TASK = {
    "queue_wait_s": 0.05,
    "staging_s": 0.2,
    "child_start_s": 0.01,
    "audit_s": 1.0,
    "conversion_s": 2.5,
    "verification_s": 0.7,
    "publishing_s": 0.04,
    "total_s": 4.5,
    "warm_child": True,
}


def test_the_clock_splits_the_task_into_its_phases_from_the_marks_it_got():
    clock = Clock(queued=100.0)
    for name, at in [("claimed", 100.5), ("handed", 101.0), ("ready", 101.25)]:
        clock.mark(name, at)
    clock.mark("ready", 150.0)  # a repeated mark keeps the first
    clock.mark("converting", 103.0)
    assert clock.report() == {
        "queue_wait_s": 0.5,
        "staging_s": 0.5,
        "child_start_s": 0.25,
        "audit_s": 1.75,
        "total_s": 3.0,
        "warm_child": False,
    }
    for name, at in [("verifying", 104.0), ("ended", 105.0), ("published", 105.5)]:
        clock.mark(name, at)
    assert [key for key in clock.report() if key.endswith("_s")] == [
        *(f"{phase}_s" for phase in PHASES),
        "total_s",
    ]


def test_the_stacked_bar_shares_its_width_by_the_phases_seconds():
    chart = timings_chart(Report.from_dict({"timings": {"conversion_s": 2.0, "task": TASK}}))
    segments = chart["segments"]
    assert [s["label"] for s in segments] == [
        "Queue wait",
        "Staging",
        "Child start",
        "Audit",
        "Conversion",
        "Verification",
        "Publishing",
    ]
    assert abs(sum(s["width"] for s in segments) - TIMELINE_WIDTH) < 1
    conversion = segments[4]
    assert conversion["value"] == "2.50 s" and conversion["x"] == pytest.approx(
        TIMELINE_WIDTH * 1.26 / 4.5, abs=0.2
    )
    assert chart["total"] == "4.50 s" and chart["warm"] is True
    assert timings_chart(Report.from_dict({"timings": {"conversion_s": 2.0}})) is None
    assert timings_chart(Report.from_dict({"timings": {"task": {"staging_s": "x"}}})) is None


@pytest.mark.django_db
def test_the_detail_page_draws_the_timings_bar_without_style_attributes(client, user):
    task = make_task(
        user, status=ConversionTask.Status.SUCCEEDED, result={"timings": {"task": TASK}}
    )
    client.force_login(user)
    html = client.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    figure = html[html.index('<figure class="chart timings">') :].split("</figure>")[0]
    assert figure.count('fill="#3c8d5a"') == 2  # the conversion's segment and its legend key
    assert "Conversion 2.50 s" in figure and "a warm converter child took the job" in figure
    assert "style=" not in figure


def test_an_idle_worker_and_convert_wait_look_every_100_ms_at_most():
    from django.conf import settings

    assert settings.Q_CLUSTER["poll"] == settings.QUEUE_POLL_SECONDS <= 0.1
    assert settings.CONVERT_POLL_SECONDS <= 0.1
