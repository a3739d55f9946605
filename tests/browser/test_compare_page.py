"""Compare: select tasks in the list, press Compare, read them side by side with differences marked."""

import re

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from tests.browser.conftest import screenshot
from tests.browser.test_journey import log_in
from tests.conversions.factories import make_task
from tests.conversions.test_pages import QUANTIZED, RESULT

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = ConversionTask.Status


def test_select_two_tasks_compare_and_see_the_differences(page, user):
    make_task(
        user, name="cnn-32bit", status=S.SUCCEEDED, result=RESULT, options={"precision": "32bit"}
    )
    make_task(
        user, name="cnn-8bit", status=S.SUCCEEDED, result=QUANTIZED, options={"precision": "8bit"}
    )
    make_task(user, name="other", status=S.FAILED)
    log_in(page)
    expect(page.locator("tbody tr")).to_have_count(3)

    page.get_by_label("Select cnn-32bit").check()
    page.click("#compare-selected")  # one is not enough: a message, still on the list
    expect(page.locator(".messages")).to_contain_text("Select two to four tasks to compare")
    expect(page).to_have_url("/")

    page.get_by_label("Select cnn-32bit").check()
    page.get_by_label("Select cnn-8bit").check()
    page.click("#compare-selected")
    expect(page).to_have_url(re.compile(r"/tasks/compare/\?ids=\d+&ids=\d+$"))
    # in the list's order (newest first)
    expect(page.locator("table.compare thead th a")).to_have_text(["cnn-8bit", "cnn-32bit"])
    precision = page.locator("table.compare tr", has=page.locator("th[title=precision]"))
    expect(precision).to_have_class("differs")
    expect(precision.locator("td")).to_have_text(["8bit", "32bit"])
    assert precision.evaluate("row => getComputedStyle(row.cells[1]).backgroundColor") == (
        "rgb(255, 244, 214)"
    )
    same = page.locator("table.compare tr", has=page.get_by_role("rowheader", name="Template"))
    expect(same).not_to_have_class("differs")
    expect(page.locator("table.compare")).to_contain_text("0.971200 (#1)")
    screenshot(page, "compare")
