"""The Graph view in Chromium: Netron's viewer draws the input model under the console's policy."""

import re

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from conversions.views_graph import netron_folder
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_journey import log_in
from tests.conversions.factories import make_task
from tests.converters.direct import calibration, convert_directly
from tests.helpers import CNN_OPTIONS

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


def test_a_layer_of_the_error_table_opens_the_converted_graph_at_that_layer(
    page, user, cnn_folder, alice_home
):
    calibration(alice_home / cnn_folder / "calibration_data")
    options = {**CNN_OPTIONS, "quantization_precision": "8bit"}
    out = alice_home / "out" / "q"
    report, _events = convert_directly(
        "tflite", alice_home / cnn_folder, out, "frozen_graph", "arm", options, name="q"
    )
    (out / "report.json").write_text("{}")
    published = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    task = make_task(
        user,
        name="quantized",
        status=ConversionTask.Status.SUCCEEDED,
        input_location=cnn_folder,
        output_location="out/q/",
        options=options,
        result={**report, "artifacts_published": published},
    )
    # a fused TFLite layer: its name holds ";" and "/", and the second conv is like the first
    layer = next(
        x["name"]
        for x in report["quantization"]["layers"]
        if x["op"] == "CONV_2D" and ";" in x["name"] and "second_conv" in x["name"]
    )
    log_in(page)
    page.goto(f"/tasks/{task.pk}/")
    link = page.locator("a.layer-link", has_text=layer)
    expect(link).to_have_count(1)
    link.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "detail-layer-links.png"))
    link.click()
    expect(page).to_have_url(re.compile(r"/graph/\?.*&node="))
    selected = page.locator("#canvas g.node.select")
    expect(selected).to_have_count(1, timeout=30_000)  # Netron's own mark of its selection
    expect(selected).to_contain_text("Conv2D")
    expect(selected).to_be_in_viewport()
    # the sidebar shows that node's properties, whose output is the layer's tensor
    expect(page.locator("#sidebar")).to_contain_text(layer)
    page.screenshot(path=str(ARTIFACTS / "graph-layer.png"))

    page.goto(f"/graph/?task={task.pk}&side=output&name=model/q.tflite&node=no%3Bsuch%20layer")
    expect(page.locator("input.sidebar-find-query")).to_have_value("no;such layer", timeout=30_000)
    expect(page.locator("#canvas g.node.select")).to_have_count(0)
