"""Tasks over the API: the create form's rules and messages, the pages' access and refusals."""

import uuid

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from conversions.forms import OptionsForm, TaskForm
from conversions.models import ConversionTask, FolderGrant
from tests.helpers import CNN_OPTIONS, TFLITE, make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


@pytest.fixture
def cnn(alice_home) -> str:
    (alice_home / "models" / "cnn").mkdir(parents=True)
    return "models/cnn/"


def spec(**changes) -> dict:
    body = {
        "template": TFLITE,
        "name": "convert-api",
        "input_location": "models/cnn/",
        "output_location": "out/cnn/",
        "options": dict(CNN_OPTIONS),
    }
    body.update(changes)
    return body


def test_create_stores_an_initializing_task_and_enqueues_it(
    api, user, cnn, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/tasks/", spec(options={**CNN_OPTIONS, "batch_size": 4}), format="json"
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    task = ConversionTask.objects.get(pk=body["id"])
    assert task.owner == user and task.status == S.INITIALIZING and body["status"] == "initializing"
    assert body["template"] == TFLITE and body["options"]["batch_size"] == 4
    assert task.options["input_tensor_names"] == "input"
    assert OrmQ.objects.filter(key="cpu").count() == 1


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "Bad_Name"}, "name"),
        ({"description": "a<b"}, "description"),
        ({"template": "no-such-template"}, "template"),
        ({"input_location": "models/missing/"}, "input_location"),
        ({"input_location": "/users/bob/models/"}, "input_location"),
        ({"output_location": "../x/"}, "output_location"),
        ({"output_location": "models/cnn/"}, "output_location"),
    ],
)
def test_create_refuses_with_the_forms_own_message(api, user, other_user, cnn, changes, field):
    body = spec(**changes)
    response = api.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 400
    error = response.json()
    form = TaskForm({k: v for k, v in body.items() if k != "options"}, owner=user)
    assert not form.is_valid()
    assert error["code"] == "validation_error"
    assert error["fields"][field] == [str(m) for m in form.errors[field]]
    assert error["message"] in sum(error["fields"].values(), [])
    assert not ConversionTask.objects.exists()


@pytest.mark.parametrize(
    "key, value",
    [("input_tensor_names", ""), ("quantization_precision", "4bit"), ("batch_size", 0)],
)
def test_create_refuses_bad_options_with_the_forms_message(api, cnn, key, value):
    from templates_registry.models import ConversionTemplate

    options = {**CNN_OPTIONS, key: value}
    response = api.post("/api/v1/tasks/", spec(options=options), format="json")
    assert response.status_code == 400
    form = OptionsForm(
        ConversionTemplate.objects.get(slug=TFLITE),
        {f"opt-{k}": str(v) for k, v in options.items()},
    )
    assert not form.is_valid()
    assert response.json()["fields"][f"options.{key}"] == [str(m) for m in form.errors[key]]


def test_create_refuses_unknown_fields_and_options_and_non_objects(api, cnn):
    response = api.post("/api/v1/tasks/", spec(colour="red"), format="json")
    assert response.status_code == 400 and "Unknown fields colour" in response.json()["message"]
    response = api.post("/api/v1/tasks/", spec(options={**CNN_OPTIONS, "speed": 1}), format="json")
    assert "Unknown options speed" in response.json()["fields"]["options"][0]
    response = api.post("/api/v1/tasks/", [1, 2], format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    response = api.post("/api/v1/tasks/", "{nope", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"


def test_create_refuses_past_the_active_task_limit(api, user, cnn, settings):
    settings.MAX_ACTIVE_TASKS_PER_USER = 1
    make_task(user, name="busy", status=S.RUNNING)
    response = api.post("/api/v1/tasks/", spec(), format="json")
    assert response.status_code == 429
    assert response.json()["code"] == "active_task_limit"
    assert "1 at once is the limit" in response.json()["message"]


def test_a_granted_folder_may_be_read(api, user, dirs):
    (dirs / "shared" / "m").mkdir(parents=True)
    body = spec(input_location="/shared/m/")
    assert api.post("/api/v1/tasks/", body, format="json").status_code == 400
    FolderGrant.objects.create(location="/shared/", access=FolderGrant.Access.READ, user=user)
    assert api.post("/api/v1/tasks/", body, format="json").status_code == 201


def test_the_list_filters_sorts_and_pages_my_tasks_only(api, user, other_user):
    for i in range(12):
        make_task(user, name=f"t-{i:02d}", status=S.SUCCEEDED if i % 2 else S.FAILED)
    make_task(other_user, name="bobs")
    page = api.get("/api/v1/tasks/?size=10&sort=name&page=2").json()
    assert page["count"] == 12 and page["pages"] == 2 and page["page"] == 2
    assert [t["name"] for t in page["results"]] == ["t-10", "t-11"]
    failed = api.get("/api/v1/tasks/?status=failed&q=t-0&size=50").json()
    assert {t["name"] for t in failed["results"]} == {"t-00", "t-02", "t-04", "t-06", "t-08"}
    odd = api.get("/api/v1/tasks/?page=%C2%B2&size=999&sort=evil").json()  # defaults, not a 500
    assert odd["page"] == 1 and odd["size"] == 10 and odd["results"][0]["name"] == "t-11"


def test_detail_log_and_spec_are_404_for_another_user_and_open_to_staff(
    api, api_bob, api_staff, user
):
    task = make_task(user, options={"quantization_precision": "8bit"})
    task.append_log([("info", "one"), ("info", "two"), ("info", "three")])
    for path in ("", "log/", "spec/", "artifacts/"):
        response = api_bob.get(f"/api/v1/tasks/{task.pk}/{path}")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert api_staff.get(f"/api/v1/tasks/{task.pk}/{path}").status_code == 200
    detail = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert detail["status"] == "initializing" and detail["stage"] == "queued"
    assert detail["options"] == {"quantization_precision": "8bit"} and detail["report"] == {}
    log = api.get(f"/api/v1/tasks/{task.pk}/log/?after=1").json()
    assert [line["text"] for line in log["lines"]] == ["two", "three"]
    assert log["after"] == 3 and log["active"] is True
    assert api.get(f"/api/v1/tasks/{task.pk}/log/?after=3").json()["lines"] == []
    assert api.get("/api/v1/tasks/99999999999999999999999/").status_code == 404


def test_cancel_and_retry_follow_the_pages_rules(api, api_bob, user, settings):
    task = make_task(user, status=S.RUNNING, attempt=uuid.uuid4())
    assert api_bob.post(f"/api/v1/tasks/{task.pk}/cancel/").status_code == 404
    response = api.post(f"/api/v1/tasks/{task.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    again = api.post(f"/api/v1/tasks/{task.pk}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert "has already ended (canceled): nothing to cancel." in again.json()["message"]
    assert api_bob.post(f"/api/v1/tasks/{task.pk}/retry/").status_code == 404
    settings.MAX_ACTIVE_TASKS_PER_USER = 1
    busy = make_task(user, name="busy", status=S.RUNNING)
    limited = api.post(f"/api/v1/tasks/{task.pk}/retry/")
    assert limited.status_code == 429 and limited.json()["code"] == "active_task_limit"
    busy.mark_canceled()
    response = api.post(f"/api/v1/tasks/{task.pk}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "initializing"
    refused = api.post(f"/api/v1/tasks/{task.pk}/retry/")
    assert refused.status_code == 409
    assert "only failed or canceled tasks can be retried" in refused.json()["message"]


def test_retry_is_refused_when_the_owner_lost_access(api, user):
    task = make_task(user, status=S.FAILED, input_location="/shared/m/")
    response = api.post(f"/api/v1/tasks/{task.pk}/retry/")
    assert response.status_code == 403 and response.json()["code"] == "location_refused"
    assert "You have no access to the folder /shared/m/" in response.json()["message"]


def test_delete_one_and_many_with_the_same_refusals(api, api_bob, user):
    running = make_task(user, name="running", status=S.RUNNING)
    done = make_task(user, name="done", status=S.SUCCEEDED)
    failed = make_task(user, name="failed", status=S.FAILED)
    assert api_bob.delete(f"/api/v1/tasks/{done.pk}/").status_code == 404
    refused = api.delete(f"/api/v1/tasks/{running.pk}/")
    assert refused.status_code == 409 and refused.json()["message"] == running.delete_refusal()
    assert api.delete(f"/api/v1/tasks/{done.pk}/").status_code == 204
    assert (
        api_bob.post("/api/v1/tasks/delete/", {"ids": [failed.pk]}, format="json").json()["code"]
        == "nothing_selected"
    )
    body = api.post(
        "/api/v1/tasks/delete/", {"ids": [running.pk, failed.pk, "x"]}, format="json"
    ).json()
    assert body["deleted"] == [failed.pk]
    assert body["refused"] == [{"id": running.pk, "message": running.delete_refusal()}]
    assert list(ConversionTask.objects.values_list("name", flat=True)) == ["running"]


def test_artifacts_list_and_download_through_the_access_check(api, api_bob, user, alice_home):
    out = alice_home / "out" / "cnn"
    out.mkdir(parents=True)
    (out / "model.tflite").write_bytes(b"TFL3")
    (out / "report.json").write_text("{}")
    task = make_task(user, status=S.SUCCEEDED, result={"artifacts_published": ["model.tflite"]})
    listed = api.get(f"/api/v1/tasks/{task.pk}/artifacts/").json()
    assert [(a["name"], a["size"]) for a in listed] == [("model.tflite", 4), ("report.json", 2)]
    response = api.get(listed[0]["url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"TFL3"
    assert api_bob.get(listed[0]["url"]).status_code == 404
    assert api.get(f"/api/v1/tasks/{task.pk}/artifacts/secret.txt").status_code == 404
    assert api.get(f"/api/v1/tasks/{task.pk}/artifacts/../../x").status_code == 404


def test_the_spec_re_creates_the_task(api, user, cnn, django_capture_on_commit_callbacks):
    task = make_task(
        user, name="first", options={**CNN_OPTIONS, "batch_size": 2}, output_location="out/a/"
    )
    exported = api.get(f"/api/v1/tasks/{task.pk}/spec/").json()
    assert exported == {
        "template": TFLITE,
        "name": "first",
        "description": "",
        "input_location": "models/cnn/",
        "output_location": "out/a/",
        "overwrite": False,
        "options": {**CNN_OPTIONS, "batch_size": 2},
    }
    download = api.get(f"/api/v1/tasks/{task.pk}/spec/?download=1")
    assert download["Content-Disposition"] == 'attachment; filename="first.json"'
    response = api.post("/api/v1/tasks/", {**exported, "name": "second"}, format="json")
    assert response.status_code == 201, response.json()
    second = ConversionTask.objects.get(name="second")
    assert second.options["batch_size"] == 2 and second.template == task.template


def test_a_staff_spec_names_the_owners_folders_from_the_root(api_staff, user):
    task = make_task(user)
    exported = api_staff.get(f"/api/v1/tasks/{task.pk}/spec/").json()
    assert exported["input_location"] == "/users/alice/models/cnn/"


def test_the_detail_page_links_the_spec(client_alice, user):
    task = make_task(user)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert f"/api/v1/tasks/{task.pk}/spec/?download=1" in html
