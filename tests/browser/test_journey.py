"""The operator's journeys in Debian's Chromium, with a screenshot of every page in test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from conversions.models import ConversionTask
from templates_registry.models import ConversionTemplate
from tests.browser.conftest import screenshot
from tests.conversions.factories import TFLITE, make_task

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
S = ConversionTask.Status


def log_in(page, username="alice"):
    page.goto("/")
    expect(page).to_have_url("/login/?next=/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pass-123")
    page.click("button[type=submit]")


def test_a_user_creates_a_task_and_watches_it_succeed_without_reloading(
    page, user, cnn_folder, alice_home, worker
):
    page.goto("/")
    screenshot(page, "login")
    log_in(page)
    expect(page.get_by_text("Create your first task")).to_be_visible()
    screenshot(page, "list-empty")

    page.click("text=Create Task")
    page.select_option("select[name=chip]", "arm")
    expect(page.locator(".template-card")).to_have_count(3)
    page.click("text=TensorFlow frozen_graph to TFLite")
    expect(page.locator("#id_opt-input_tensor_names")).to_be_visible()
    page.fill("#id_name", "convert-web1")
    page.fill("#id_input_location", cnn_folder)
    page.fill("#id_output_location", "out/web1/")
    page.fill("#id_opt-output_tensor_names", "Identity")
    page.click("text=Create Now")
    expect(page.locator("#options .errorlist")).to_contain_text("This option is required.")
    screenshot(page, "create-error")

    page.click("text=Inspect model")  # queued for the worker, polled until it fills the gap
    expect(page.locator("#inspection")).to_contain_text("cnn.pb: frozen_graph", timeout=60_000)
    expect(page.locator("#id_opt-input_tensor_names")).to_have_value("input")
    expect(page.locator("#id_opt-output_tensor_names")).to_have_value("Identity")
    screenshot(page, "create-inspected")
    page.click("text=Create Now")

    expect(page.locator("tbody tr").first).to_contain_text("convert-web1")  # new task on top
    screenshot(page, "list")
    page.get_by_role("link", name="convert-web1").first.click()
    assert page.evaluate("() => (window.__notReloaded = true)") is True
    expect(page.locator("#status .status").first).to_have_attribute(
        "data-status", "succeeded", timeout=180_000
    )
    assert page.evaluate("() => window.__notReloaded") is True, "the page reloaded"
    expect(page.locator("#log")).to_contain_text("Model converted successfully")
    expect(page.locator(".stages li.stage-done")).to_have_count(6)
    # The verification chart (two sizes, one cosine) and the task's timings bar beside it.
    expect(page.locator("svg[aria-labelledby='chart-title'] rect")).to_have_count(3)
    expect(page.locator("figure.timings svg rect").first).to_be_visible()
    screenshot(page, "detail")

    page.fill("#log-search", "converted")
    expect(page.locator("#log .line:visible")).not_to_have_count(0)
    visible = page.locator("#log .line:visible").all_inner_texts()
    assert visible and all("converted" in line.lower() for line in visible)
    expect(page.locator("#log .line", has_text="Stage: staging")).to_be_hidden()
    expect(page.locator("#log-count")).to_contain_text(f"{len(visible)} matching lines")
    screenshot(page, "detail-log-search")

    # Fetched with the page's own session (Debian's headless Chromium raises no download event).
    link = page.get_by_role("link", name="model/convert-web1.tflite")
    expect(link).to_have_attribute("download", "")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-disposition"] == 'attachment; filename="convert-web1.tflite"'
    published = alice_home / "out/web1/model/convert-web1.tflite"
    assert response.body() == published.read_bytes()
    assert ConversionTask.objects.get(name="convert-web1").status == S.SUCCEEDED


def test_batch_delete_from_a_filtered_list_keeps_running_tasks_and_the_filter(page, user):
    running = make_task(user, name="busy", status=S.RUNNING, stage="converting", progress=25)
    for name in ("old-1", "old-2"):
        make_task(user, name=name, status=S.SUCCEEDED)
    log_in(page)
    expect(page.locator("tbody tr")).to_have_count(3)
    expect(page.locator(f"#task-{running.pk} input.select-task")).to_have_count(0)  # no choice
    page.select_option("#status", "succeeded")  # instant: no Filter button to press
    expect(page).to_have_url(re.compile(r"status=succeeded"))
    expect(page.locator("tbody tr")).to_have_count(2)
    page.check("#select-all")
    expect(page.locator("input.select-task:checked")).to_have_count(2)
    page.click("text=Delete selected")
    expect(page.locator(".doomed li")).to_have_count(2)
    screenshot(page, "batch-delete-confirm")
    page.click("button.danger")
    expect(page.locator(".messages")).to_contain_text("2 tasks deleted.")
    expect(page).to_have_url("/?status=succeeded")  # back to the filtered list
    page.goto("/")
    expect(page.locator("tbody tr")).to_have_count(1)
    assert list(ConversionTask.objects.values_list("pk", flat=True)) == [running.pk]
    screenshot(page, "list-after-delete")


def test_pages_are_readable_on_a_phone_and_reachable_by_keyboard(page, user):
    task = make_task(
        user, name="phone", status=S.FAILED, stage="checking", error_message="No model/ folder"
    )
    log_in(page)
    page.set_viewport_size({"width": 390, "height": 844})
    for name, url in (("list", "/"), ("create", "/tasks/new/"), ("detail", f"/tasks/{task.pk}/")):
        page.goto(url)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the {name} page scrolls sideways by {overflow}px at 390px"
        screenshot(page, f"{name}-390px")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/")
    for _ in range(30):  # Tab through the page until the create button has the focus
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Create Task":
            break
    else:
        pytest.fail("Create Task cannot be reached with the keyboard")
    page.keyboard.press("Enter")
    expect(page).to_have_url("/tasks/new/")


def test_switching_to_chinese_translates_the_labels(page, user):
    make_task(user, name="zh-1", status=S.SUCCEEDED)
    log_in(page)
    page.select_option("#language", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    for label in ("任务名称", "任务状态", "模型类型", "目标芯片/设备", "操作"):
        expect(page.locator("table.tasks thead")).to_contain_text(label)
    expect(page.locator("tbody")).to_contain_text("成功")
    screenshot(page, "list-zh")
    page.goto("/tasks/new/")
    expect(page.locator("h1")).to_contain_text("创建")
    expect(page.locator(".template-card").first).to_contain_text("Caffe转Ascend")
    expect(page.locator("select[name=chip]")).to_contain_text("全部芯片类型")
    screenshot(page, "create-zh")


def test_the_folder_browser_and_the_admin_work_under_the_content_security_policy(
    page, staff_user, home, builtin_templates
):
    (home(staff_user) / "models" / "it's").mkdir(parents=True)  # staff have a home too
    staff_user.is_superuser = True
    staff_user.save()
    log_in(page, "carol")
    response = page.goto("/tasks/new/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_input_location", "models/")
    page.locator(".with-browser button").first.click()  # Browse, with the typed folder
    browser = page.locator("#browser-input_location")
    expect(browser).to_contain_text("Your folder: models/")
    expect(browser.locator(".icon-folder")).to_have_count(1)  # drawn, not an emoji
    screenshot(page, "create-browser")
    browser.locator("li", has_text="it's/").get_by_text("Use this folder").click()
    expect(page.locator("#id_input_location")).to_have_value("models/it's/")
    expect(browser).to_be_empty()  # the choice is made: the browser closes
    expect(page.locator("#id_input_location")).to_be_focused()
    page.locator(".with-browser button").first.click()  # again, inside models/it's/
    expect(browser).to_contain_text("Your folder: models/it's/")
    browser.get_by_text("..").click()
    expect(browser).to_contain_text("Your folder: models/")
    browser.locator("[data-use-current]").click()  # the folder one is in
    expect(page.locator("#id_input_location")).to_have_value("models/")

    page.goto(f"/admin/auth/user/{staff_user.pk}/change/")
    expect(page.locator("#id_username")).to_have_value("carol")
    page.goto("/admin/axes/accessattempt/")
    expect(page.locator("h1")).to_be_visible()
    template = ConversionTemplate.objects.get(slug=TFLITE)
    page.goto(f"/admin/templates_registry/conversiontemplate/{template.pk}/change/")
    schema = page.locator("#id_option_schema")
    expect(schema).to_be_visible()
    assert "monospace" in schema.evaluate("(area) => getComputedStyle(area).fontFamily")
    screenshot(page, "admin-template")
