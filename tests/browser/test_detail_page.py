"""The detail page: the log follows its end while streaming, unless the reader scrolled up."""

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from tests.browser.conftest import screenshot
from tests.browser.test_journey import log_in
from tests.conversions.factories import make_task

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = ConversionTask.Status


def lines(prefix: str, count: int) -> list[tuple[str, str]]:
    return [("info", f"{prefix} line {i}") for i in range(count)]


def test_the_log_follows_its_end_unless_the_reader_scrolled_up(page, user):
    task = make_task(user, name="streaming", status=S.RUNNING, stage="converting", progress=40)
    task.append_log(lines("first", 120))
    log_in(page)
    page.goto(f"/tasks/{task.pk}/")
    log = page.locator("#log")
    expect(log.locator(".line").last).to_contain_text("first line 119")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")  # the page, not the log
    expect(log.locator(".line").last).to_be_in_viewport()  # opened at the end

    task.append_log(lines("second", 60))  # streamed in by the 2-second poll
    expect(log.locator(".line").last).to_contain_text("second line 59", timeout=10_000)
    expect(log.locator(".line").last).to_be_in_viewport()
    screenshot(page, "detail-log-follows")

    log.evaluate("(box) => { box.scrollTop = 0; }")  # the reader scrolls up to read
    page.wait_for_function("() => document.getElementById('log').scrollTop === 0")
    task.append_log(lines("third", 30))
    expect(log.locator(".line").last).to_contain_text("third line 29", timeout=10_000)
    expect(log.locator(".line").first).to_be_in_viewport()  # left where the reader is
    expect(log.locator(".line").last).not_to_be_in_viewport()

    log.evaluate("(box) => { box.scrollTop = box.scrollHeight; }")  # back to the end: follows
    task.append_log(lines("fourth", 5))
    expect(log.locator(".line").last).to_contain_text("fourth line 4", timeout=10_000)
    expect(log.locator(".line").last).to_be_in_viewport()


def test_cancel_asks_first_and_a_canceled_task_is_shown_neutral(page, user):
    task = make_task(user, name="long-one", status=S.RUNNING, stage="converting", progress=40)
    log_in(page)
    page.goto(f"/tasks/{task.pk}/")
    page.locator(".task-controls").get_by_role("button", name="Cancel").click()
    expect(page.locator("h1")).to_contain_text("Cancel task long-one?")
    screenshot(page, "cancel-confirm")
    page.get_by_role("link", name="Keep it running").click()
    expect(page.locator("#status .status").first).to_have_attribute("data-status", "running")
    assert ConversionTask.objects.get(pk=task.pk).status == S.RUNNING

    page.locator(".task-controls").get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Cancel the task").click()
    expect(page.locator("#status .status").first).to_have_attribute("data-status", "canceled")
    expect(page.locator("[data-canceled]")).to_contain_text("Canceled by the user.")
    expect(page.locator(".error-box")).to_have_count(0)
    stage = page.locator(".stages li.stage-canceled")
    expect(stage).to_have_text("Converting")
    red = "rgb(198, 40, 40)"  # --bad
    assert stage.evaluate("(li) => getComputedStyle(li).color") != red
    assert page.locator("[data-canceled]").evaluate("(b) => getComputedStyle(b).color") != red
    screenshot(page, "detail-canceled")


def test_the_chinese_pages_show_no_english_stepper_or_verdict(page, user):
    result = {
        "verification": {
            "verdict": "pass",
            "samples": 4,
            "source": "random (seed 1)",
            "outputs": [{"name": "Identity:0", "cosine_similarity": 1.0, "verdict": "pass"}],
        }
    }
    task = make_task(user, name="zh-done", status=S.SUCCEEDED, stage="done", result=result)
    log_in(page)
    page.select_option("#language", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"/tasks/{task.pk}/")
    expect(page.locator(".stages li")).to_have_count(6)
    for label in page.locator(".stages li").all_inner_texts():
        assert not any(c.isascii() and c.isalpha() for c in label), label
    expect(page.locator("h2 .verdict")).to_have_text("通过")
    screenshot(page, "detail-zh")
    page.goto("/tasks/new/")
    browse = page.locator(".with-browser button").first
    expect(browse).to_have_text("浏览")
    height = browse.evaluate("(b) => b.getBoundingClientRect().height")
    line = browse.evaluate("(b) => parseFloat(getComputedStyle(b).lineHeight)")
    assert height < 2 * line, "浏览 wraps onto two lines"
