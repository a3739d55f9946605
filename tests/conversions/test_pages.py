"""The list's filters, sort and pages; the detail's stepper and chart; deleting outputs on request."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversions.charts import verification_chart
from conversions.models import ConversionTask
from tests.conversions.factories import make_task

pytestmark = pytest.mark.django_db
S = ConversionTask.Status


def names_in(html: str) -> list[str]:
    return re.findall(r'<td><a href="/tasks/\d+/">([^<]+)</a></td>', html)


@pytest.fixture
def mixed(user):
    now = timezone.now()
    make_task(user, name="b-arm-ok", status=S.SUCCEEDED, created=now - timedelta(minutes=3))
    make_task(user, name="a-arm-bad", status=S.FAILED, created=now - timedelta(minutes=2))
    make_task(
        user,
        name="c-ascend",
        status=S.FAILED,
        slug="caffe-to-ascend",
        created=now - timedelta(minutes=1),
    )


def test_filters_combine_and_live_in_the_url(client_alice, mixed):
    url = reverse("conversions:index")
    assert names_in(client_alice.get(url).content.decode()) == ["c-ascend", "a-arm-bad", "b-arm-ok"]
    assert names_in(client_alice.get(url, {"chip": "arm"}).content.decode()) == [
        "a-arm-bad",
        "b-arm-ok",
    ]
    assert names_in(
        client_alice.get(url, {"chip": "arm", "status": "failed"}).content.decode()
    ) == ["a-arm-bad"]
    assert names_in(client_alice.get(url, {"framework": "caffe"}).content.decode()) == ["c-ascend"]
    assert names_in(client_alice.get(url, {"q": "ARM"}).content.decode()) == [
        "a-arm-bad",
        "b-arm-ok",
    ]
    html = client_alice.get(url, {"chip": "gpu"}).content.decode()
    assert "No task matches these filters" in html and "No conversion tasks yet" not in html
    # nonsense values fall back to defaults instead of failing
    response = client_alice.get(url, {"chip": "tpu", "sort": "evil", "size": "7", "page": "x"})
    assert response.status_code == 200 and len(names_in(response.content.decode())) == 3


def test_sorting_toggles_and_keeps_the_filters(client_alice, mixed):
    url = reverse("conversions:index")
    html = client_alice.get(url, {"sort": "name", "chip": "arm"}).content.decode()
    assert names_in(html) == ["a-arm-bad", "b-arm-ok"]
    assert 'aria-sort="ascending"><a href="?chip=arm&amp;sort=-name"' in html
    assert names_in(client_alice.get(url, {"sort": "-name"}).content.decode()) == [
        "c-ascend",
        "b-arm-ok",
        "a-arm-bad",
    ]
    assert names_in(client_alice.get(url, {"sort": "created"}).content.decode()) == [
        "b-arm-ok",
        "a-arm-bad",
        "c-ascend",
    ]
    by_status = names_in(client_alice.get(url, {"sort": "status"}).content.decode())
    assert by_status == [
        "c-ascend",
        "a-arm-bad",
        "b-arm-ok",
    ]  # failed before succeeded, newest first


def test_pages_of_10_20_50_with_the_total(client_alice, user):
    for i in range(25):
        make_task(user, name=f"t{i:02d}", status=S.SUCCEEDED)
    url = reverse("conversions:index")
    html = client_alice.get(url).content.decode()
    assert len(names_in(html)) == 10 and "25 tasks" in html and "Page 1 of 3" in html
    html = client_alice.get(url, {"size": 20, "page": 2}).content.decode()
    assert len(names_in(html)) == 5 and "Page 2 of 2" in html
    assert 'href="?size=20&page=1" rel="prev"' in html
    assert len(names_in(client_alice.get(url, {"size": 50}).content.decode())) == 25


def test_the_stepper_shows_where_a_task_stopped(client_alice, user):
    task = make_task(user, status=S.FAILED, stage="converting", progress=25, error_message="boom")
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    states = re.findall(r'<li class="stage-(\w+)"', html)
    assert states == ["done", "done", "stopped", "todo", "todo", "todo"]
    task = make_task(user, name="ok", status=S.SUCCEEDED, stage="done", progress=100)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert re.findall(r'<li class="stage-(\w+)"', html) == ["done"] * 6
    task = make_task(user, name="run", status=S.RUNNING, stage="verifying", progress=70)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert 'class="stage-current" aria-current="step">Verifying' in html


RESULT = {
    "verification": {
        "verdict": "warn",
        "samples": 8,
        "source": "random (seed 1)",
        "outputs": [
            {
                "name": "Identity:0",
                "max_abs_error": 0.01,
                "mean_abs_error": 0.001,
                "cosine_similarity": 0.995,
                "top1_agreement": 1.0,
                "verdict": "warn",
            },
        ],
    },
    "input_model": {"size_bytes": 4000, "sha256": "x"},
    "output_size_bytes": 1000,
}


def test_the_chart_scales_bars_to_the_figures():
    chart = verification_chart(RESULT)
    widths = [row["width"] for row in chart["rows"]]
    assert widths == [230.0, 57.5, round(230 * 0.995, 1)]
    assert [row["css"] for row in chart["rows"]] == ["before", "after", "verdict-warn"]
    assert chart["height"] == 3 * 22 + 6 and verification_chart({}) is None


def test_detail_renders_the_report_table_and_svg(client_alice, user):
    task = make_task(user, status=S.SUCCEEDED, stage="done", progress=100, result=RESULT)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert '<svg role="img"' in html and 'width="57.5"' in html
    assert '<span class="verdict verdict-warn">warn</span>' in html
    assert "<script" not in html.split("<body")[1]  # the chart is plain SVG, no chart library
    assert 'data-copy="models/cnn/"' in html and 'data-copy="out/cnn/"' in html


def published_task(user, dirs, name):
    out = dirs / "out" / name
    (out / "model").mkdir(parents=True)
    for file in ("model/m.tflite", "model/config.json", "job_log.txt", "report.json", "mine.txt"):
        (out / file).write_text("x")
    return make_task(
        user,
        name=name,
        status=S.SUCCEEDED,
        output_location=f"out/{name}/",
        result={"artifacts_published": ["model/m.tflite", "model/config.json", "job_log.txt"]},
    )


def test_deleting_keeps_the_outputs_unless_asked(client_alice, user, dirs):
    kept, gone = published_task(user, dirs, "kept"), published_task(user, dirs, "gone")
    url = reverse("conversions:batch_delete")
    client_alice.post(url, {"ids": [kept.pk], "confirm": "1"})
    assert (dirs / "out/kept/model/m.tflite").is_file()
    response = client_alice.post(
        url, {"ids": [gone.pk], "confirm": "1", "delete_outputs": "1"}, follow=True
    )
    assert "4 output files deleted." in response.content.decode()
    out = dirs / "out/gone"
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]  # only what the task wrote went
    assert not ConversionTask.objects.filter(pk__in=[kept.pk, gone.pk]).exists()


def test_the_confirmation_offers_to_delete_outputs(client_alice, user, dirs):
    task = published_task(user, dirs, "t")
    html = client_alice.post(
        reverse("conversions:batch_delete"), {"ids": [task.pk]}
    ).content.decode()
    assert 'name="delete_outputs"' in html and "1 task:" in html


def test_detail_says_when_a_target_cannot_be_verified_here(client_alice, user):
    result = {"verification_skipped": "An .om runs only on an Ascend device: not verified here."}
    task = make_task(user, status=S.SUCCEEDED, stage="done", progress=100, result=result)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "not run</span>" in html and "not verified here." in html and "<svg" not in html


def test_target_gpus_are_checkboxes_stored_as_the_schemas_string(
    client_alice, user, dirs, cnn_folder
):
    url = reverse("conversions:create")
    html = client_alice.get(
        url, {"template": "tensorflow-frozen-graph-to-tensorrt"}
    ).content.decode()
    assert 'type="checkbox" name="opt-target_gpus" value="SM86"' in html
    assert html.count('name="opt-target_gpus"') == 6 and html.count("checked") >= 4
    form = {
        "name": "convert-gpu1",
        "template": "tensorflow-frozen-graph-to-tensorrt",
        "input_location": cnn_folder,
        "output_location": "out/gpu1/",
        "opt-input_tensor_names": "input",
        "opt-output_tensor_names": "Identity",
        "opt-quantization_precision": "16bit",
        "opt-batch_size": "1",
        "opt-target_gpus": ["SM75", "SM89"],
        "opt-engine_builder": "auto",
        "opt-opset": "17",
    }
    response = client_alice.post(url, form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    task = ConversionTask.objects.get(name="convert-gpu1")
    assert task.options["target_gpus"] == "SM75,SM89"
    similar = client_alice.get(url, {"like": task.pk}).content.decode()
    assert 'value="SM75" id="id_opt-target_gpus_0" checked' in similar
