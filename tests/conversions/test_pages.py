"""The list's filters, sort and pages; the detail's stepper and chart; deleting outputs on request."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversions.charts import layers_chart, verification_chart
from conversions.converters.report import Report
from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, make_task

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


def test_a_canceled_task_is_shown_neutral_not_as_an_error(client_alice, user):
    task = make_task(
        user, status=S.CANCELED, stage="converting", error_message="Canceled by the user."
    )
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert (
        re.findall(r'<li class="stage-(\w+)"', html) == ["done", "done", "canceled"] + ["todo"] * 3
    )
    assert "data-canceled" in html and "Canceled by the user." in html
    assert "error-box" not in html and "stage-stopped" not in html


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
    chart = verification_chart(Report.from_dict(RESULT))
    # sizes scaled to the larger, the cosine on its own 0 to 1 scale: each group under its heading
    headings = [row["label"] for row in chart["rows"] if row.get("heading")]
    assert headings == ["Model size (relative to the larger)", "Cosine similarity (0 to 1)"]
    bars = [row for row in chart["rows"] if not row.get("heading")]
    assert [row["width"] for row in bars] == [230.0, 57.5, round(230 * 0.995, 1)]
    assert [row["css"] for row in bars] == ["before", "after", "verdict-warn"]
    assert [row.get("heading", False) for row in chart["rows"]] == [True, False, False, True, False]
    assert chart["height"] == 5 * 22 + 6 and verification_chart(Report.from_dict({})) is None


def test_detail_renders_the_report_table_and_svg(client_alice, user):
    task = make_task(user, status=S.SUCCEEDED, stage="done", progress=100, result=RESULT)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert '<svg role="img"' in html and 'width="57.5"' in html
    assert '<span class="verdict verdict-warn">warn</span>' in html
    assert "<script" not in html.split("<body")[1]  # the chart is plain SVG, no chart library
    assert 'data-copy="models/cnn/"' in html and 'data-copy="out/cnn/"' in html


def test_the_chinese_detail_page_has_no_english_stepper_verdict_or_option_keys(
    client_alice, user, settings
):
    task = make_task(
        user, status=S.SUCCEEDED, stage="done", progress=100, result=RESULT, options=CNN_OPTIONS
    )
    client_alice.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    stages = re.findall(r'<li class="stage-\w+"[^>]*>([^<]+)</li>', html)
    assert len(stages) == 6 and not any(re.search(r"[A-Za-z]", label) for label in stages)
    assert '<span class="verdict verdict-warn">警告</span>' in html and ">warn<" not in html
    assert '<span title="input_tensor_names">模型输入tensor名称</span>' in html
    assert "<code>input_tensor_names</code>" not in html


QUANTIZED = {
    **RESULT,
    "verification": {
        **RESULT["verification"],
        "source": "held-out calibration_data (2 of 12)",
        "held_out": [4, 9],
        "outputs": [
            {
                **RESULT["verification"]["outputs"][0],
                "worst_sample_cosine": 0.9712,
                "worst_sample": 1,
                "judged_on": "worst sample",
            }
        ],
    },
    "accuracy": {
        "original": 96.3333,
        "converted": 95.6667,
        "drop_points": 0.6667,
        "samples": 300,
        "tolerance_points": 1.0,
        "verdict": "pass",
        "output": "Identity:0",
    },
    "quantization": {
        "metric": "rmse/scale",
        "layers": [
            {"name": "block_16_project", "op": "CONV_2D", "error": 0.8, "kept_float": True},
            {"name": "block_3_expand", "op": "CONV_2D", "error": 0.2, "kept_float": False},
            {"name": "logits", "op": "FULLY_CONNECTED", "error": 0.05, "kept_float": False},
        ],
        "kept_float": ["block_16_project"],
        "float_op_share": 0.015,
        "float_weight_share": 0.042,
        "rounds": [
            {"kept": 0, "verdict": "fail", "worst_cosine": 0.93},
            {"kept": 1, "verdict": "warn", "worst_cosine": 0.9712},
        ],
    },
}


def test_the_layer_chart_draws_the_worst_layers_to_scale():
    chart = layers_chart(Report.from_dict(QUANTIZED))
    assert [row["width"] for row in chart["rows"]] == [230.0, 57.5, 14.4]
    assert [row["css"] for row in chart["rows"]] == ["kept-float", "quantized", "quantized"]
    assert layers_chart(Report.from_dict(RESULT)) is None


def test_detail_shows_accuracy_worst_samples_and_the_layers(client_alice, user):
    task = make_task(user, status=S.SUCCEEDED, stage="done", progress=100, result=QUANTIZED)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "(held-out calibration_data (2 of 12))" in html
    assert "calibration_data samples 4, 9 (counted from 0)" in html
    assert "0.971200 <small>(#1)</small>" in html and "<small>worst sample</small>" in html
    assert (
        "<dd>96.33%</dd>" in html and "<dd>95.67%</dd>" in html and "<dd>0.67 points</dd>" in html
    )
    assert "the conversion passes although the cosine verification warns" in html
    assert "<td><code>block_16_project</code></td><td>CONV_2D</td><td>0.8</td>" in html
    assert "Kept in float (1): block_16_project." in html
    assert "0.015 of the ops, 0.042 of the weights" in html
    assert 'aria-labelledby="layers-chart-title"' in html and 'class="bar kept-float"' in html
    assert "1 layers kept float: warn (worst cosine 0.9712)" in html
    assert "<script" not in html.split("<body")[1] and " onclick=" not in html


def test_detail_shows_no_empty_sections_for_a_report_without_them(client_alice, user):
    task = make_task(user, status=S.SUCCEEDED, stage="done", progress=100, result=RESULT)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "Accuracy" not in html and "Quantization error by layer" not in html
    assert 'aria-labelledby="chart-title"' in html


def test_detail_shows_dashes_for_figures_a_non_finite_output_lacks(client_alice, user):
    row = {**RESULT["verification"]["outputs"][0], "max_abs_error": None, "mean_abs_error": None}
    result = {**RESULT, "verification": {**RESULT["verification"], "outputs": [row]}}
    task = make_task(user, status=S.FAILED, result=result)
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "<td><code>Identity:0</code></td><td>–</td><td>–</td>" in html


def published_task(user, alice_home, name):
    out = alice_home / "out" / name
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


def test_deleting_keeps_the_outputs_unless_asked(client_alice, user, alice_home):
    kept, gone = published_task(user, alice_home, "kept"), published_task(user, alice_home, "gone")
    url = reverse("conversions:batch_delete")
    client_alice.post(url, {"ids": [kept.pk], "confirm": "1"})
    assert (alice_home / "out/kept/model/m.tflite").is_file()
    response = client_alice.post(
        url, {"ids": [gone.pk], "confirm": "1", "delete_outputs": "1"}, follow=True
    )
    assert "4 output files deleted." in response.content.decode()
    out = alice_home / "out/gone"
    assert sorted(p.name for p in out.iterdir()) == ["mine.txt"]  # only what the task wrote went
    assert not ConversionTask.objects.filter(pk__in=[kept.pk, gone.pk]).exists()


def test_the_confirmation_offers_to_delete_outputs(client_alice, user, alice_home):
    task = published_task(user, alice_home, "t")
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
    client_alice, user, alice_home, cnn_placeholder
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
        "input_location": cnn_placeholder,
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


def test_the_top_bar_links_to_the_profile_page(client_alice):
    html = client_alice.get(reverse("conversions:index")).content.decode()
    assert f'<a href="{reverse("profile")}">API tokens</a>' in html
    assert client_alice.get(reverse("profile")).status_code == 200
