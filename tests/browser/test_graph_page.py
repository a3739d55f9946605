"""The Graph view in Chromium: Netron's viewer draws the input model under the console's policy."""

import re

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from conversions.views_graph import netron_folder
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_journey import log_in
from tests.conversions.factories import make_task

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(netron_folder() is None, reason="netron is not installed"),
]


def test_the_graph_of_the_input_model_is_drawn_without_csp_violations(page, user, cnn_folder):
    task = make_task(
        user,
        name="graphed",
        status=ConversionTask.Status.SUCCEEDED,
        input_location=cnn_folder,
        result={"input_model": {"path": "model/cnn.pb", "size_bytes": 1, "sha256": "x"}},
    )
    log_in(page)
    page.goto(f"/tasks/{task.pk}/")
    page.click("text=Graph of the input model")
    # Netron draws every node of the graph as an SVG group; Conv2D is among the CNN's
    expect(page.locator("#canvas g.node").first).to_be_visible(timeout=30_000)
    expect(page.locator("#canvas")).to_contain_text("Conv2D")
    expect(page.locator("body")).to_have_class(
        re.compile(r"\bdefault\b")
    )  # the graph, not the logo
    page.screenshot(
        path=str(ARTIFACTS / "graph-input.png")
    )  # the viewport: the graph pans, not the page
