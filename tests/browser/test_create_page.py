"""The create page never loses work: the chosen template survives filtering, errors are in view."""

import numpy as np
import pytest
from playwright.sync_api import expect

from conversions import example
from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate
from tests.browser.conftest import screenshot
from tests.browser.test_journey import log_in
from tests.conversions.factories import TFLITE, make_task
from tests.helpers import CNN_OPTIONS, PLACEHOLDER_PB

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ARM_CARDS = 3  # the ARM / TFLite templates: frozen_graph, saved_model, caffe
CHOSEN = f"#template-cards input[value={TFLITE}]"


def test_the_chosen_template_survives_keyword_and_filter_changes(page, user, builtin_templates):
    log_in(page)
    page.goto("/tasks/new/")
    expect(page.locator("#inspection")).to_be_hidden()  # no empty bar before any inspection
    page.fill("#template-q", "tflite")
    page.locator(CHOSEN).click()  # the keyword box loses focus here: no re-render on blur
    expect(page.locator(CHOSEN)).to_be_checked()
    expect(page.locator("#options .chosen-template")).to_contain_text("TFLite")

    page.fill("#template-q", "")  # typing again re-renders the cards: the choice stays
    expect(page.locator(".template-card")).to_have_count(ConversionTemplate.objects.count())
    expect(page.locator(CHOSEN)).to_be_checked()
    page.select_option("select[name=chip]", "ascend")  # a filter that leaves the choice out
    expect(page.locator("[data-outside-filters]")).to_be_visible()
    expect(page.locator(CHOSEN)).to_be_checked()
    expect(page.locator("#template-cards input[name=template]:checked")).to_have_count(1)
    expect(page.locator("#options .chosen-template")).to_contain_text("TFLite")
    screenshot(page, "create-kept-choice")


def test_after_a_failed_submit_the_first_error_is_focused_and_the_filters_stay(
    page, user, builtin_templates
):
    log_in(page)
    page.goto("/tasks/new/")
    page.select_option("select[name=chip]", "arm")
    expect(page.locator(".template-card")).to_have_count(ARM_CARDS)
    page.locator(CHOSEN).click()
    expect(page.locator("#options .chosen-template")).to_contain_text("TFLite")
    page.fill("#id_output_location", "out/x/")
    page.click("text=Create Now")  # no input folder, no output tensor names

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.locator("a")).to_have_count(3)  # the input folder, both tensor names
    expect(summary.locator("a").first).to_have_attribute("href", "#id_input_location")
    expect(page.locator("#id_input_location")).to_be_focused()
    expect(page.locator("#id_input_location")).to_be_in_viewport()
    expect(page.locator("select[name=chip]")).to_have_value("arm")  # the filters as they were
    expect(page.locator(".template-card")).to_have_count(ARM_CARDS)
    expect(page.locator(CHOSEN)).to_be_checked()
    expect(page.locator("#id_output_location")).to_have_value("out/x/")
    screenshot(page, "create-error-summary")

    summary.locator("a").nth(2).click()  # the summary's link focuses the option in error
    expect(page.locator("#id_opt-output_tensor_names")).to_be_focused()


def test_a_similar_task_gets_a_fresh_output_folder_and_is_created(page, user, cnn_folder):
    done = make_task(
        user,
        name="first-try",
        status=ConversionTask.Status.SUCCEEDED,
        input_location=cnn_folder,
        options=CNN_OPTIONS,
    )
    log_in(page)
    page.goto(f"/tasks/{done.pk}/")
    page.click("text=Create a similar task")
    expect(page.locator("#id_output_location")).to_have_value("out/cnn-2/")
    expect(page.locator("[data-output-note]")).to_contain_text("out/cnn-2/ does not exist yet")
    expect(page.locator(CHOSEN)).to_be_checked()
    screenshot(page, "create-similar")
    page.fill("#id_name", "second-try")
    page.click("text=Create Now")
    expect(page.locator(".messages")).to_contain_text("Task second-try created.")
    assert ConversionTask.objects.get(name="second-try").output_location == "out/cnn-2/"


def test_a_new_user_tries_the_example_and_gets_a_filled_form(
    page, user, home, dirs, builtin_templates
):
    shared = dirs / example.SHARED  # as make_example leaves it, with a placeholder graph
    (shared / "model").mkdir(parents=True)
    (shared / example.MODEL).write_bytes(PLACEHOLDER_PB)
    (shared / "calibration_data").mkdir()
    np.save(shared / example.CALIBRATION, np.zeros((2, 28, 28, 1), np.float32))
    log_in(page)
    screenshot(page, "list-empty-try-it")
    page.click("#try-example")
    expect(page.locator("#id_input_location")).to_have_value("examples/mnist-cnn/")
    expect(page.locator(CHOSEN)).to_be_checked()
    expect(page.locator("#id_opt-output_tensor_names")).to_have_value("Identity")
    assert (home(user) / example.FOLDER / example.MODEL).read_bytes() == PLACEHOLDER_PB
