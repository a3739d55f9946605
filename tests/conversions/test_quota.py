"""Fair use: at most MAX_ACTIVE_TASKS_PER_USER active tasks per user; WORKER_NICE."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, TFLITE, make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status
REFUSAL = "You already have 4 tasks initializing or running, and 4 at once is the limit"


@pytest.fixture
def limit(settings):
    settings.MAX_ACTIVE_TASKS_PER_USER = 4
    return 4


@pytest.fixture
def model_folder(alice_home) -> str:
    (alice_home / "models/m/model").mkdir(parents=True)
    (alice_home / "models/m/model/m.pb").write_bytes(b"not checked here")
    return "models/m/"


def create(client, name, folder):
    form = {
        "name": name,
        "template": TFLITE,
        "input_location": folder,
        "output_location": f"out/{name}/",
        **{f"opt-{k}": v for k, v in CNN_OPTIONS.items()},
    }
    return client.post(reverse("conversions:create"), form)


def test_the_fifth_active_task_is_refused_with_a_form_error(
    client_alice, user, other_user, model_folder, limit
):
    for i in range(4):
        assert create(client_alice, f"task-{i}", model_folder).status_code == 302
    make_task(other_user, name="theirs", status=S.RUNNING)  # another user's do not count
    response = create(client_alice, "task-4", model_folder)
    assert response.status_code == 200
    assert REFUSAL in response.content.decode()
    assert not ConversionTask.objects.filter(name="task-4").exists()
    assert ConversionTask.objects.filter(owner=user).count() == 4


def test_ended_tasks_do_not_count(client_alice, user, model_folder, limit):
    for i, status in enumerate([S.RUNNING, S.INITIALIZING, S.RUNNING]):
        make_task(user, name=f"active-{i}", status=status)
    for i, status in enumerate([S.SUCCEEDED, S.FAILED, S.CANCELED] * 2):
        make_task(user, name=f"ended-{i}", status=status)
    assert create(client_alice, "fourth", model_folder).status_code == 302
    response = create(client_alice, "fifth", model_folder)
    assert REFUSAL in response.content.decode()


def test_zero_means_no_limit(client_alice, user, model_folder, settings):
    settings.MAX_ACTIVE_TASKS_PER_USER = 0
    for i in range(6):
        make_task(user, name=f"active-{i}", status=S.RUNNING)
    assert create(client_alice, "seventh", model_folder).status_code == 302


def test_staff_have_the_same_limit(client, staff_user, model_folder, limit):
    client.force_login(staff_user)
    for i in range(4):
        make_task(staff_user, name=f"active-{i}")
    assert REFUSAL in create(client, "fifth", model_folder).content.decode()


def test_retry_at_the_limit_is_refused(client_alice, user, limit):
    for i in range(4):
        make_task(user, name=f"active-{i}", status=S.RUNNING)
    failed = make_task(user, name="failed", status=S.FAILED, error_message="boom")
    response = client_alice.post(reverse("conversions:retry", args=[failed.pk]), follow=True)
    assert REFUSAL in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == S.FAILED
    ConversionTask.objects.filter(name="active-0").update(status=S.SUCCEEDED)
    client_alice.post(reverse("conversions:retry", args=[failed.pk]))
    failed.refresh_from_db()
    assert failed.status == S.INITIALIZING


def test_the_convert_command_refuses_plainly(user, model_folder, limit):
    for i in range(4):
        make_task(user, name=f"active-{i}", status=S.RUNNING)
    args = ["--template", TFLITE, "--input", model_folder, "--output", "out/cli/"]
    args += ["--owner", "alice"] + [f"--option={k}={v}" for k, v in CNN_OPTIONS.items()]
    with pytest.raises(CommandError) as refused:
        call_command("convert", *args)
    assert (
        str(refused.value) == f"The task was not created:\n  {REFUSAL}: wait until one of "
        "them ends, or cancel one, then try again."
    )
    assert ConversionTask.objects.filter(owner=user).count() == 4


def test_worker_nice_lowers_the_workers_priority(settings, monkeypatch):
    settings.WORKER_NICE = 7
    niced = []
    monkeypatch.setattr("os.nice", niced.append)
    monkeypatch.setattr("conversions.supervisor.Supervisor.run", lambda self: 0)
    with pytest.raises(SystemExit):
        call_command("worker", stdout=io.StringIO())
    assert niced == [7]
