"""The foundation journey in Debian's Chromium: log in, create a TFLite task, watch it succeed."""

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from tests.browser.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_user_creates_a_task_and_watches_it_succeed_without_reloading(
    page, user, cnn_folder, dirs, worker
):
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    screenshot(page, "login")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-pass-123")
    page.click("button[type=submit]")
    expect(page.get_by_text("Create your first task")).to_be_visible()
    screenshot(page, "list-empty")

    page.click("text=Create Task")
    page.select_option("select[name=chip]", "arm")
    expect(page.locator(".template-card")).to_have_count(2)
    page.click("text=TensorFlow frozen_graph to TFLite")
    expect(page.locator("#id_opt-input_tensor_names")).to_be_visible()
    page.fill("#id_name", "convert-web1")
    page.fill("#id_input_location", cnn_folder)
    page.fill("#id_output_location", "out/web1/")
    page.fill("#id_opt-output_tensor_names", "Identity")
    page.click("text=Create Now")
    expect(page.locator("#options .errorlist")).to_contain_text("This option is required.")
    screenshot(page, "create-error")
    page.fill("#id_opt-input_tensor_names", "input")
    page.click("text=Create Now")

    expect(page.get_by_role("link", name="convert-web1")).to_be_visible()
    screenshot(page, "list")
    page.get_by_role("link", name="convert-web1").click()
    marker = page.evaluate("() => (window.__notReloaded = true)")
    assert marker is True
    expect(page.locator("#status .status")).to_have_attribute(
        "data-status", "succeeded", timeout=180_000
    )
    assert page.evaluate("() => window.__notReloaded") is True, "the page reloaded"
    expect(page.locator("#log")).to_contain_text("Model converted successfully")
    expect(page.locator(".artifacts")).to_contain_text("model/convert-web1.tflite")
    screenshot(page, "detail")
    task = ConversionTask.objects.get(name="convert-web1")
    assert task.status == ConversionTask.Status.SUCCEEDED
    assert (dirs / "out/web1/model/convert-web1.tflite").is_file()
