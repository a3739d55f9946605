import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ

from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, HTMX, create_form, make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


def test_pages_require_login(client):
    for url in (
        reverse("conversions:index"),
        reverse("conversions:create"),
        reverse("conversions:detail", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_list_shows_only_my_tasks_with_their_columns(client_alice, user, other_user):
    make_task(user, name="mine", status=S.SUCCEEDED)
    make_task(other_user, name="theirs")
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert "mine" in html and "theirs" not in html
    for column in (
        "Task Name",
        "Task Status",
        "Model Type",
        "Target Chip/Device",
        "Template",
        "Created",
        "Duration",
    ):
        assert column in html
    assert "TensorFlow" in html and ">ARM<" in html


def test_the_list_invites_the_first_task(client_alice):
    assert (
        "Create your first task" in client_alice.get(reverse("conversions:index")).content.decode()
    )


def test_active_rows_poll_and_ended_rows_do_not(client_alice, user):
    running = make_task(user, name="running", status=S.RUNNING)
    done = make_task(user, name="done", status=S.SUCCEEDED)
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert f'hx-get="{reverse("conversions:row", args=[running.pk])}"' in html
    assert f'hx-get="{reverse("conversions:row", args=[done.pk])}"' not in html
    row = client_alice.get(reverse("conversions:row", args=[running.pk]), **HTMX).content.decode()
    assert row.strip().startswith(f'<tr id="task-{running.pk}"') and "<html" not in row


def test_create_shows_cards_a_prefilled_name_and_the_chosen_options(client_alice, cnn_placeholder):
    html = client_alice.get(reverse("conversions:create")).content.decode()
    assert html.count('class="template-card') == 17
    assert 'value="convert-' in html
    partial = client_alice.get(
        reverse("conversions:create") + "?template=tensorflow-frozen-graph-to-tflite",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="options",
    ).content.decode()
    assert partial.strip().startswith('<fieldset id="options"')
    assert (
        'name="opt-input_tensor_names"' in partial
        and 'name="opt-quantization_precision"' in partial
    )


def test_create_filters_template_cards(client_alice):
    html = client_alice.get(
        reverse("conversions:create") + "?chip=arm",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="template-cards",
    ).content.decode()
    assert html.count('class="template-card') == 3 and "<html" not in html


def test_filtered_cards_keep_the_chosen_template_even_when_filtered_out(client_alice):
    html = client_alice.get(
        reverse("conversions:create") + "?chip=ascend&template=tensorflow-frozen-graph-to-tflite",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="template-cards",
    ).content.decode()
    assert 'value="tensorflow-frozen-graph-to-tflite" checked' in html
    assert "data-outside-filters" in html and html.count("checked") == 1


def test_create_stores_an_initializing_task_and_enqueues_it(
    client_alice, user, cnn_placeholder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_alice.post(reverse("conversions:create"), create_form(cnn_placeholder))
    assert response.status_code == 302 and response["Location"] == reverse("conversions:index")
    task = ConversionTask.objects.get()
    assert (task.owner, task.name, task.status, task.input_location) == (
        user,
        "convert-ab12",
        S.INITIALIZING,
        "models/cnn/",
    )
    assert task.options == {**CNN_OPTIONS, "batch_size": 1, "accuracy_tolerance": "1.0"}
    assert OrmQ.objects.filter(key="cpu").count() == 1
    assert "convert-ab12" in client_alice.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "name", ["Convert", "9lives", "a", "ends-with-", "has_underscore", "x" * 25, "名字"]
)
def test_invalid_names_are_rejected(client_alice, cnn_placeholder, name):
    response = client_alice.post(
        reverse("conversions:create"), create_form(cnn_placeholder, name=name)
    )
    assert response.status_code == 200 and "Use 2 to 24 characters" in response.content.decode()
    assert not ConversionTask.objects.exists()


def test_a_duplicate_name_is_rejected(client_alice, user, cnn_placeholder):
    make_task(user, name="convert-ab12", status=S.SUCCEEDED)
    response = client_alice.post(reverse("conversions:create"), create_form(cnn_placeholder))
    assert "You already have a task named convert-ab12" in response.content.decode()


@pytest.mark.parametrize("description", ["a & b", "<b>", 'say "hi"', "x=1", "wow!", "d" * 101])
def test_invalid_descriptions_are_rejected(client_alice, cnn_placeholder, description):
    response = client_alice.post(
        reverse("conversions:create"), create_form(cnn_placeholder, description=description)
    )
    assert response.status_code == 200 and not ConversionTask.objects.exists()
    assert (
        'id="id_description"' in response.content.decode()
        and "errorlist" in response.content.decode()
    )


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("opt-input_tensor_names", "", "This option is required."),
        ("opt-output_tensor_names", "out|put", "These characters are not allowed: |"),
        ("opt-quantization_precision", "4bit", "Select a valid choice"),
        ("opt-batch_size", "0", "at least 1"),
    ],
)
def test_invalid_options_are_rejected_next_to_their_field(
    client_alice, cnn_placeholder, field, value, message
):
    response = client_alice.post(
        reverse("conversions:create"), create_form(cnn_placeholder, **{field: value})
    )
    html = response.content.decode()
    assert response.status_code == 200 and message in html and not ConversionTask.objects.exists()


def test_a_missing_option_is_said_in_the_users_language(client_alice, cnn_placeholder, settings):
    client_alice.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    data = create_form(cnn_placeholder, **{"opt-input_tensor_names": ""})
    html = client_alice.post(reverse("conversions:create"), data).content.decode()
    assert "此选项为必填项。" in html and "This option is required." not in html
    assert "任务未创建：有 1 处问题需要更正。" in html


@pytest.mark.parametrize(
    "location,message",
    [
        ("../etc/", "cannot contain . or .."),
        ("/etc/", "You have no access to the folder /etc/"),
        ("models//cnn/", "two slashes"),
        ("models/missing/", "does not exist"),
        ("a:b/", "cannot contain"),
    ],
)
def test_bad_input_locations_are_rejected(client_alice, cnn_placeholder, location, message):
    response = client_alice.post(
        reverse("conversions:create"), create_form(input_location=location)
    )
    assert message in response.content.decode() and not ConversionTask.objects.exists()


def test_create_a_similar_task_prefills_the_form(client_alice, user):
    task = make_task(
        user, name="failed-one", status=S.FAILED, options={**CNN_OPTIONS, "batch_size": 4}
    )
    html = client_alice.get(reverse("conversions:create") + f"?like={task.pk}").content.decode()
    assert (
        'value="models/cnn/"' in html
        and 'value="out/cnn-2/"' in html  # a fresh output folder, and the page says so
        and "out/cnn-2/ does not exist yet, while out/cnn/ holds" in html
        and 'value="4"' in html
        and 'value="input"' in html
    )


def test_a_similar_task_skips_output_folders_that_exist(client_alice, user, alice_home):
    for taken in ("out/cnn-2", "out/cnn-3"):
        (alice_home / taken).mkdir(parents=True)
    task = make_task(user, name="done-one", status=S.SUCCEEDED, output_location="out/cnn-2/")
    html = client_alice.get(reverse("conversions:create") + f"?like={task.pk}").content.decode()
    assert 'value="out/cnn-4/"' in html and "data-output-note" in html


def test_detail_shows_parameters_and_polls_only_while_active(client_alice, user):
    task = make_task(user, status=S.RUNNING, options=CNN_OPTIONS)
    task.append_log([("info", "Stage: staging")])
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "models/cnn/" in html and "Stage: staging" in html
    assert "Input Tensor Name</span>" in html and 'title="input_tensor_names"' in html
    assert 'hx-trigger="every 2s"' in html
    partial = client_alice.get(
        reverse("conversions:detail", args=[task.pk]), **HTMX
    ).content.decode()
    assert partial.strip().startswith('<div id="status"') and "<html" not in partial
    ConversionTask.objects.filter(pk=task.pk).update(status=S.SUCCEEDED)
    partial = client_alice.get(
        reverse("conversions:detail", args=[task.pk]), **HTMX
    ).content.decode()
    assert "every 2s" not in partial


def test_the_log_poll_returns_only_new_lines(client_alice, user):
    task = make_task(user, status=S.RUNNING)
    task.append_log([("info", "line one"), ("info", "line two")])
    html = client_alice.get(
        reverse("conversions:log", args=[task.pk]) + "?after=1", **HTMX
    ).content.decode()
    assert "line two" in html and "line one" not in html and "?after=2" in html


def test_another_user_cannot_see_or_touch_a_task(client, user, other_user):
    task = make_task(user, status=S.SUCCEEDED)
    client.force_login(other_user)
    for name in ("detail", "row", "log", "delete"):
        assert client.get(reverse(f"conversions:{name}", args=[task.pk])).status_code == 404
    assert client.post(reverse("conversions:delete", args=[task.pk])).status_code == 404
    artifact = reverse("conversions:artifact", args=[task.pk, "report.json"])
    assert client.get(artifact).status_code == 404
    client.post(reverse("conversions:batch_delete"), {"ids": [task.pk], "confirm": "1"})
    similar = client.get(reverse("conversions:create") + f"?like={task.pk}")
    assert similar.status_code == 200 and task.input_location not in similar.content.decode()
    assert ConversionTask.objects.filter(pk=task.pk).exists()


def test_staff_can_open_any_task(client, user, staff_user):
    task = make_task(user, status=S.SUCCEEDED)
    client.force_login(staff_user)
    assert client.get(reverse("conversions:detail", args=[task.pk])).status_code == 200


def test_delete_is_refused_while_running_with_the_reason(client_alice, user):
    task = make_task(user, name="busy", status=S.RUNNING)
    response = client_alice.post(reverse("conversions:delete", args=[task.pk]), follow=True)
    assert "Task busy is running: wait until it ends" in response.content.decode()
    assert ConversionTask.objects.filter(pk=task.pk).exists()


def test_delete_asks_then_removes_the_task_and_its_log(client_alice, user):
    task = make_task(user, name="old", status=S.FAILED)
    task.append_log([("error", "boom")])
    assert "old" in client_alice.get(reverse("conversions:delete", args=[task.pk])).content.decode()
    response = client_alice.post(reverse("conversions:delete", args=[task.pk]))
    assert response.status_code == 302 and not ConversionTask.objects.exists()
    from conversions.models import TaskLogLine

    assert not TaskLogLine.objects.exists()


def test_batch_delete_confirms_then_deletes_all_but_active_ones(client_alice, user):
    done = [make_task(user, name=f"done-{i}", status=S.SUCCEEDED) for i in range(3)]
    busy = make_task(user, name="busy", status=S.RUNNING)
    ids = [t.pk for t in done] + [busy.pk]
    html = client_alice.post(reverse("conversions:batch_delete"), {"ids": ids}).content.decode()
    assert "done-0" in html and "Task busy is running" in html
    assert ConversionTask.objects.count() == 4
    response = client_alice.post(
        reverse("conversions:batch_delete"), {"ids": ids, "confirm": "1"}, follow=True
    )
    assert "3 tasks deleted." in response.content.decode()
    assert list(ConversionTask.objects.values_list("name", flat=True)) == ["busy"]


def test_batch_delete_returns_to_the_filtered_list(client_alice, user):
    done = make_task(user, name="done-1", status=S.SUCCEEDED)
    back = reverse("conversions:index") + "?q=done&status=succeeded&sort=name&page=2"
    data = {"ids": [done.pk], "next": back}
    html = client_alice.post(reverse("conversions:batch_delete"), data).content.decode()
    assert 'name="next" value="/?q=done&amp;status=succeeded&amp;sort=name&amp;page=2"' in html
    response = client_alice.post(reverse("conversions:batch_delete"), {**data, "confirm": "1"})
    assert response["Location"] == "/?q=done&status=succeeded&sort=name&page=2"
    for elsewhere in ("https://evil.example/?q=x", "//evil.example/", "/admin/?q=x", "/?q=<b>"):
        done = make_task(user, name="done-2", status=S.SUCCEEDED)
        data = {"ids": [done.pk], "next": elsewhere, "confirm": "1"}
        location = client_alice.post(reverse("conversions:batch_delete"), data)["Location"]
        assert location in ("/", "/?q=%3Cb%3E"), location


def test_running_rows_offer_no_checkbox_or_delete_and_staff_see_owners(
    client_alice, client, user, staff_user
):
    busy = make_task(user, name="busy", status=S.RUNNING)
    done = make_task(user, name="done", status=S.SUCCEEDED)
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert f'name="ids" value="{busy.pk}"' not in html and f'value="{done.pk}"' in html
    assert reverse("conversions:delete", args=[busy.pk]) not in html
    assert reverse("conversions:delete", args=[done.pk]) in html
    assert ">Owner<" not in html
    client.force_login(staff_user)
    html = client.get(reverse("conversions:index")).content.decode()
    assert ">Owner<" in html and '<td class="owner">alice</td>' in html


def test_batch_delete_takes_a_thousand_tasks(client_alice, user):
    template = make_task(user, name="seed", status=S.SUCCEEDED).template
    ConversionTask.objects.bulk_create(
        ConversionTask(
            owner=user,
            name=f"t-{i}",
            template=template,
            status=S.SUCCEEDED,
            input_location="a/",
            output_location="b/",
        )
        for i in range(999)
    )
    ids = list(ConversionTask.objects.values_list("pk", flat=True))
    response = client_alice.post(reverse("conversions:batch_delete"), {"ids": ids, "confirm": "1"})
    assert response.status_code == 302 and not ConversionTask.objects.exists()


def test_mutations_need_the_csrf_token(user, cnn_placeholder):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    task = make_task(user, status=S.FAILED)
    assert client.post(reverse("conversions:delete", args=[task.pk])).status_code == 403
    assert (
        client.post(reverse("conversions:create"), create_form(cnn_placeholder)).status_code == 403
    )
    assert client.post(reverse("logout")).status_code == 403
    assert (
        client.post(
            reverse("conversions:batch_delete"), {"ids": [task.pk], "confirm": "1"}
        ).status_code
        == 403
    )
    assert ConversionTask.objects.filter(pk=task.pk).exists()


def test_the_folder_browser_lists_one_level_and_refuses_escapes(client_alice, cnn_placeholder):
    html = client_alice.get(
        reverse("conversions:browse") + "?path=models/", **HTMX
    ).content.decode()
    assert "cnn/" in html and "<html" not in html
    html = client_alice.get(
        reverse("conversions:browse") + "?path=models/cnn/model/", **HTMX
    ).content.decode()
    assert "cnn.pb" in html
    html = client_alice.get(reverse("conversions:browse") + "?path=../", **HTMX).content.decode()
    assert "cannot contain . or .." in html
