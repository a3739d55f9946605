"""Publishing never writes through a link, and two tasks never write one output folder at once."""

import threading

import pytest
from django.db import connection

from conversions import claims
from conversions.claims import OutputBusy, claim_output
from conversions.jobs import run_conversion
from conversions.locations import LocalLocation, LocationError
from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, make_task, wait_for

S = ConversionTask.Status
PRECIOUS = "the victim's own words\n"


@pytest.fixture
def victim(tmp_path):
    """A file the worker can write but no task should: what a planted link points at."""
    path = tmp_path / "victim.txt"
    path.write_text(PRECIOUS)
    return path


@pytest.fixture
def artifacts(tmp_path):
    """What a tflite task publishes, as (local file, name) pairs, report.json last."""
    made = tmp_path / "made"
    made.mkdir()
    files = []
    for name in ("x.tflite", "config.json", "job_log.txt", "report.json"):
        (made / name).write_text(f"new {name}")
        files.append(
            (made / name, f"model/{name}" if name in ("x.tflite", "config.json") else name)
        )
    return files


@pytest.mark.parametrize(
    "planted", ["model/x.tflite.partial", "report.json.partial", "job_log.txt.partial"]
)
def test_a_planted_partial_link_is_refused_by_name_and_its_target_stays(
    dirs, victim, artifacts, planted
):
    out = dirs / "out" / "a"
    (out / "model").mkdir(parents=True)
    (out / planted).symlink_to(victim)
    with pytest.raises(LocationError, match=f"holds a link \\(out/a/{planted}\\)"):
        LocalLocation("out/a/").publish(artifacts)
    assert victim.read_text() == PRECIOUS
    assert not (out / "report.json").exists() and not (out / "model" / "x.tflite").exists()


def test_a_linked_sub_folder_is_refused_and_the_folder_it_names_stays_empty(
    dirs, tmp_path, artifacts
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dirs / "out" / "a").mkdir(parents=True)
    (dirs / "out" / "a" / "model").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LocationError, match=r"holds a link \(out/a/model\)"):
        LocalLocation("out/a/").publish(artifacts)
    assert list(elsewhere.iterdir()) == []


def test_a_linked_output_folder_or_a_link_at_a_final_name_is_refused(
    dirs, tmp_path, victim, artifacts
):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (dirs / "out").mkdir()
    (dirs / "out" / "b").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(LocationError, match=r"holds a link \(out/b\)"):
        LocalLocation("out/b/").publish(artifacts)
    assert list(elsewhere.iterdir()) == []
    (dirs / "out" / "c").mkdir()
    (dirs / "out" / "c" / "report.json").symlink_to(victim)
    with pytest.raises(LocationError, match=r"holds a link \(out/c/report.json\)"):
        LocalLocation("out/c/").publish(artifacts)
    assert victim.read_text() == PRECIOUS


def test_a_clean_folder_gets_every_file_and_no_scratch_file_is_left(dirs, artifacts):
    (dirs / "out" / "d").mkdir(parents=True)
    (dirs / "out" / "d" / "report.json").write_text("old report")
    LocalLocation("out/d/").publish(artifacts)
    out = dirs / "out" / "d"
    found = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert found == ["job_log.txt", "model/config.json", "model/x.tflite", "report.json"]
    assert (out / "report.json").read_text() == "new report.json"


def test_remove_and_open_file_do_not_follow_links(dirs, tmp_path, victim):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.tflite").write_text("not the task's")
    out = dirs / "out" / "e"
    out.mkdir(parents=True)
    (out / "model").symlink_to(elsewhere, target_is_directory=True)
    (out / "job_log.txt").symlink_to(victim)
    (out / "report.json").write_text("{}")
    location = LocalLocation("out/e/")
    assert location.remove(["model/x.tflite", "job_log.txt", "report.json"]) == 1
    assert (elsewhere / "x.tflite").read_text() == "not the task's"
    assert victim.read_text() == PRECIOUS and (out / "job_log.txt").is_symlink()
    for name in ("job_log.txt", "model/x.tflite"):
        with pytest.raises(LocationError, match="No such file"):
            location.open_file(name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_task_whose_output_holds_a_planted_link_fails_naming_it(
    user, cnn_folder, alice_home, victim
):
    out = alice_home / "out" / "planted"
    (out / "model").mkdir(parents=True)
    (out / "model" / "planted.tflite.partial").symlink_to(victim)
    task = make_task(
        user,
        name="planted",
        input_location=cnn_folder,
        output_location="out/planted/",
        options=CNN_OPTIONS,
    )
    run_conversion(task.pk)
    task.refresh_from_db()
    assert task.status == S.FAILED
    assert "publishing it failed" in task.error_message
    assert "out/planted/model/planted.tflite.partial" in task.error_message
    assert victim.read_text() == PRECIOUS
    assert not (out / "model" / "planted.tflite").exists()


def mine(path: str) -> LocalLocation:
    """alice's `path`, as her tasks' output folders resolve."""
    return LocalLocation(f"users/alice/{path}", path)


def running_task(user, name, output="out/same/"):
    task = make_task(user, name=name, output_location=output, overwrite=True)
    attempt = task.claim("test:1")
    assert attempt
    return task, attempt


@pytest.mark.django_db
def test_a_second_writer_of_one_folder_fails_plainly_naming_the_first(user, dirs, settings):
    settings.OUTPUT_CLAIM_WAIT = 0
    first, first_attempt = running_task(user, "first")
    second, second_attempt = running_task(user, "second", output="out/same")
    assert claim_output(first, first_attempt, mine("out/same/"))
    with pytest.raises(OutputBusy, match=f"out/same/ is being written by task {first.pk}"):
        claim_output(second, second_attempt, mine("out/same/"))
    assert first.mark_succeeded(first_attempt, {})
    assert claim_output(second, second_attempt, mine("out/same/"))
    other, other_attempt = running_task(user, "other", output="out/other/")
    assert claim_output(other, other_attempt, mine("out/other/"))


@pytest.mark.django_db(transaction=True)
def test_two_tasks_publishing_one_folder_at_once_take_turns(user, dirs, settings, monkeypatch):
    """The first holds the folder until the second has looked twice; the second waits it out."""
    settings.OUTPUT_CLAIM_WAIT = 60
    first, first_attempt = running_task(user, "first")
    second, second_attempt = running_task(user, "second")
    looks = {first.pk: 0, second.pk: 0}
    real_rivals = claims.rivals

    def counting(task, identity):
        looks[task.pk] += 1
        return real_rivals(task, identity)

    monkeypatch.setattr(claims, "rivals", counting)
    events = []

    def publish(task, attempt, hold):
        try:
            claim_output(task, attempt, mine("out/same/"))
            events.append(("in", task.name))
            if hold:
                wait_for(lambda: looks[second.pk] >= 2, timeout=30, what="the second to look")
            events.append(("out", task.name))
            task.mark_succeeded(attempt, {})
        finally:
            connection.close()

    assert claim_output(first, first_attempt, mine("out/same/"))  # first is writing
    first_thread = threading.Thread(target=publish, args=(first, first_attempt, True))
    second_thread = threading.Thread(target=publish, args=(second, second_attempt, False))
    second_thread.start()
    first_thread.start()
    first_thread.join(60)
    second_thread.join(60)
    assert events == [("in", "first"), ("out", "first"), ("in", "second"), ("out", "second")]
    assert ConversionTask.objects.get(pk=second.pk).status == S.SUCCEEDED


def test_locations_naming_one_folder_have_one_identity(dirs):
    (dirs / "real").mkdir()
    (dirs / "alias").symlink_to(dirs / "real", target_is_directory=True)
    assert LocalLocation("real/").identity == LocalLocation("alias/").identity
    assert LocalLocation("real/").identity == str(dirs.resolve() / "real") + "/"
    assert LocalLocation("real/").identity != LocalLocation("other/").identity
