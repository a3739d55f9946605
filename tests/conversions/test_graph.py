"""The Graph view: Netron's page from its wheel, opening models through the artifacts' access check."""

import re
from urllib.parse import parse_qs, quote

import pytest
from django.urls import reverse

from conversions.models import ConversionTask
from conversions.views_graph import netron_folder
from tests.conversions.factories import make_task

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(netron_folder() is None, reason="netron is not installed"),
]
S = ConversionTask.Status


@pytest.fixture
def converted(user, alice_home, cnn_placeholder):
    out = alice_home / "out" / "g"
    (out / "model").mkdir(parents=True)
    (out / "model/g.tflite").write_bytes(b"TFL3-model")
    for name in ("model/config.json", "job_log.txt", "report.json"):
        (out / name).write_text("{}")
    return make_task(
        user,
        name="g",
        status=S.SUCCEEDED,
        input_location=cnn_placeholder,
        output_location="out/g/",
        result={
            "artifacts_published": ["model/g.tflite", "model/config.json", "job_log.txt"],
            "input_model": {"path": "model/cnn.pb", "size_bytes": 1, "sha256": "x"},
        },
    )


def test_detail_links_the_input_model_and_the_converted_model_to_the_viewer(
    client_alice, converted
):
    html = client_alice.get(reverse("conversions:detail", args=[converted.pk])).content.decode()
    graph = reverse("conversions:graph")
    assert f'href="{graph}?task={converted.pk}&amp;side=input"' in html
    assert f'href="{graph}?task={converted.pk}&amp;side=output&amp;name=model/g.tflite"' in html
    assert html.count('class="graph-link"') == 2  # not for config.json or job_log.txt


def test_the_viewer_page_names_the_model_url_and_relaxes_only_its_styles(client_alice, converted):
    response = client_alice.get(
        reverse("conversions:graph"),
        {"task": converted.pk, "side": "output", "name": "model/g.tflite"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    url = reverse("conversions:model_file", args=[converted.pk, "output", "model/g.tflite"])
    assert url.startswith("/graph/model/")  # Netron opens it relative to its page, /graph/
    assert f'<meta name="file" content="{url.removeprefix("/graph/")}">' in html
    assert '<meta name="version"' not in html and '<meta name="date"' not in html
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self'" in policy
    assert "'unsafe-eval'" not in policy and "connect-src 'self'" in policy
    index = client_alice.get(reverse("conversions:index"))
    assert "unsafe-inline" not in index["Content-Security-Policy"]
    script = client_alice.get(reverse("conversions:graph_asset", args=["index.js"]))
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript"


def test_model_files_are_served_through_the_access_check(
    client, client_alice, converted, other_user
):
    output = reverse("conversions:model_file", args=[converted.pk, "output", "model/g.tflite"])
    response = client_alice.get(output)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"TFL3-model"
    source = reverse("conversions:model_file", args=[converted.pk, "input", "model/cnn.pb"])
    assert client_alice.get(source).status_code == 200
    for refused in (
        reverse("conversions:model_file", args=[converted.pk, "output", "mine.tflite"]),
        reverse("conversions:model_file", args=[converted.pk, "output", "model/config.json"]),
        reverse("conversions:model_file", args=[converted.pk, "input", "model/other.pb"]),
        reverse("conversions:model_file", args=[converted.pk, "sideways", "model/g.tflite"]),
    ):
        assert client_alice.get(refused).status_code == 404, refused
    client.force_login(other_user)  # not their task: the same 404 as a missing one
    assert client.get(output).status_code == 404
    assert (
        client.get(
            reverse("conversions:graph"), {"task": converted.pk, "side": "input"}
        ).status_code
        == 404
    )
    client.logout()
    assert client.get(output).status_code == 302  # to the login page


@pytest.mark.parametrize(
    "name", ["../__init__.py", "server.py", "index.html", "%2e%2e/x.js", "nope.js"]
)
def test_the_viewer_serves_only_its_own_assets(client_alice, name):
    assert (
        client_alice.get(reverse("conversions:graph_asset", args=["x"])[:-1] + name).status_code
        == 404
    )


def test_a_bad_viewer_request_is_a_404_not_a_500(client_alice, converted):
    graph = reverse("conversions:graph")
    assert client_alice.get(graph).status_code == 404
    assert client_alice.get(graph, {"task": "x"}).status_code == 404
    assert (
        client_alice.get(
            graph, {"task": converted.pk, "side": "output", "name": "../x.pb"}
        ).status_code
        == 404
    )


NASTY = 'model/conv;fused "a"&b=<x> 层/1'  # a layer name comes from the user's model


def test_layer_names_link_to_the_converted_model_graph_escaped(client_alice, converted):
    converted.result = {
        **converted.result,
        "quantization": {
            "metric": "m",
            "layers": [
                {"name": NASTY, "op": "CONV_2D", "error": 0.5, "kept_float": False},
                {"name": "Identity", "op": "SOFTMAX", "error": 0.1, "kept_float": False},
            ],
        },
    }
    converted.save()
    html = client_alice.get(reverse("conversions:detail", args=[converted.pk])).content.decode()
    graph = f"{reverse('conversions:graph')}?task={converted.pk}&amp;side=output&amp;name=model/g.tflite"
    assert f'href="{graph}&amp;node={quote(NASTY, safe="")}" class="layer-link"' in html
    assert f'href="{graph}&amp;node=Identity" class="layer-link"' in html
    assert "<code>model/conv;fused &quot;a&quot;&amp;b=&lt;x&gt; 层/1</code></a>" in html
    linked = re.search(r'node=([^"]+)" class="layer-link"', html).group(1)
    assert parse_qs(f"node={linked}")["node"] == [NASTY]  # what the viewer's script reads


def test_no_layer_links_without_a_converted_model_to_draw(client_alice, user):
    task = make_task(
        user,
        status=S.SUCCEEDED,
        result={"quantization": {"layers": [{"name": "conv", "op": "CONV_2D", "error": 0.5}]}},
    )
    html = client_alice.get(reverse("conversions:detail", args=[task.pk])).content.decode()
    assert "<td><code>conv</code></td>" in html and "layer-link" not in html


def test_the_viewer_page_loads_the_consoles_layer_script(client_alice, converted):
    html = client_alice.get(
        reverse("conversions:graph"),
        {"task": converted.pk, "side": "output", "name": "model/g.tflite", "node": "<x>"},
    ).content.decode()
    assert '<script src="/static/js/graph.js" defer></script>' in html
    assert "&lt;x&gt;" not in html and "<x>" not in html  # the name stays in the URL
    assert client_alice.get("/static/js/graph.js").status_code == 200
