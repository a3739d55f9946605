"""The workers page and the create page's marks on templates no live worker can run."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversions.converters.capabilities import probe_all
from conversions.models import ConversionTask, Worker
from conversions.views_workers import template_support
from templates_registry.models import ConversionTemplate
from tests.helpers import CNN_OPTIONS, make_task

pytestmark = pytest.mark.django_db
TFLITE = "tensorflow-frozen-graph-to-tflite"
TENSORRT = "tensorflow-frozen-graph-to-tensorrt"

TOOLS = {
    "tflite": {"available": True, "tools": {"tensorflow": "2.21.0"}, "reason": ""},
    "tensorrt": {"available": False, "tools": {}, "reason": "TensorRT is not installed."},
}


def register(name, queues=("cpu", "gpu"), capabilities=None, silent=0, state=Worker.State.RUNNING):
    host, pid = name.split(":")
    return Worker.objects.create(
        name=name,
        host=host,
        pid=int(pid),
        queues=list(queues),
        capabilities=TOOLS if capabilities is None else capabilities,
        state=state,
        last_seen=timezone.now() - timedelta(seconds=silent),
    )


@pytest.fixture
def templates(builtin_templates):
    return {t.slug: t for t in ConversionTemplate.objects.all()}


def test_a_template_is_runnable_when_a_live_worker_serves_its_queue_with_its_tool(templates):
    assert template_support(templates[TFLITE]) == "No live worker serves the cpu queue."
    register("a:1")
    assert template_support(templates[TFLITE]) == ""
    queue = templates[TENSORRT].queue
    assert template_support(templates[TENSORRT]) == (
        f"No live worker of the {queue} queue can run it: TensorRT is not installed."
    )


def test_silent_stopping_and_lost_workers_do_not_count(templates, settings):
    settings.WORKER_LOST_AFTER = 30
    register("silent:1", silent=31)
    register("stopping:2", state=Worker.State.STOPPING)
    register("lost:3", state=Worker.State.LOST)
    register("other:4", queues=("other",))
    assert template_support(templates[TFLITE]) == "No live worker serves the cpu queue."


def test_the_probe_of_this_machine_can_run_the_tflite_templates(templates):
    register("here:1", capabilities=probe_all())
    assert template_support(templates[TFLITE]) == ""


def test_the_create_page_marks_only_the_templates_no_live_worker_can_run(client, user, templates):
    register("a:1")
    client.force_login(user)
    html = client.get(reverse("conversions:create")).content.decode()
    marked = {slug for slug in templates if f'data-no-worker="{slug}"' in html}
    assert TFLITE not in marked and TENSORRT in marked
    assert "TensorRT is not installed." in html
    html = client.get(
        reverse("conversions:create"),
        {"chip": "gpu"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="template-cards",
    ).content.decode()
    assert f'data-no-worker="{TENSORRT}"' in html


def test_the_no_worker_note_is_neutral_and_translated(client, user, templates, settings):
    register("a:1")
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get(reverse("conversions:create")).content.decode()
    note = html[html.index(f'data-no-worker="{TENSORRT}"') :].split("</span>")[0]
    assert "当前没有在线工作节点能运行此模板" in note and 'title="' in note


def test_a_task_no_worker_can_run_is_created_with_a_warning(
    client, user, templates, cnn_placeholder
):
    client.force_login(user)  # no worker registered at all
    data = {
        "name": "waits-a-while",
        "template": TFLITE,
        "input_location": cnn_placeholder,
        "output_location": "out/waits/",
        **{f"opt-{k}": v for k, v in CNN_OPTIONS.items()},
    }
    response = client.post(reverse("conversions:create"), data, follow=True)
    html = response.content.decode()
    assert ConversionTask.objects.filter(name="waits-a-while").exists()
    assert 'class="message warning"' in html
    assert "No live worker can run task waits-a-while now" in html
    assert "No live worker serves the cpu queue." in html


def test_the_workers_page_lists_workers_with_queues_tools_and_running_tasks(client, user, settings):
    settings.WORKER_LOST_AFTER = 30
    register("gpuhost:7")
    register("oldhost:9", silent=3600, state=Worker.State.LOST)
    make_task(user, status=ConversionTask.Status.RUNNING, worker="gpuhost:7")
    client.force_login(user)
    response = client.get(reverse("conversions:workers"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("gpuhost") < html.index("oldhost")  # live ones first
    assert "cpu, gpu" in html and "<code>tensorflow 2.21.0</code>" in html
    assert ">Live<" in html and ">Lost<" in html
    row = html[html.index('data-worker="gpuhost:7"') :].split("</tr>")[0]
    assert "<td>1</td>" in row
    assert (
        reverse("conversions:workers") in client.get(reverse("conversions:index")).content.decode()
    )


def test_the_workers_page_needs_a_login(client):
    response = client.get(reverse("conversions:workers"))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_workers_page_shows_warm_children_and_their_memory(client, user, settings, monkeypatch):
    from conversions import supervisor

    found = [{"pid": 11, "rss_mb": 600}, {"pid": 12, "rss_mb": 612}]
    monkeypatch.setattr(supervisor, "warm_children", lambda name: found if name == "w:1" else [])
    warm = supervisor.Supervisor(["cpu"])
    warm.name, warm.worker = "w:1", register("w:1")
    warm._tick()
    settings.WARM_CHILDREN = False
    cold = supervisor.Supervisor(["cpu"])
    cold.name, cold.worker = "c:2", register("c:2")
    cold._tick()
    assert Worker.objects.get(name="w:1").warm == {
        "enabled": True,
        "children": 2,
        "memory_mb": 1212,
    }
    assert "warm" not in Worker.objects.get(name="w:1").converters
    client.force_login(user)
    html = client.get(reverse("conversions:workers")).content.decode()
    cells = {
        name: html[html.index(f'data-worker="{name}"') :]
        .split('<td class="warm">')[1]
        .split("</td>")[0]
        for name in ("w:1", "c:2")
    }
    assert cells == {"w:1": "2 <small>1212 MB</small>", "c:2": "Off"}
