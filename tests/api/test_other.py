"""Templates, folders, inspection, the OpenAPI schema and its pages over the API."""

import pytest
import yaml
from django.core.management import call_command

from conversions.inspections import Inspection
from conversions.models import FolderGrant
from tests.helpers import TFLITE

pytestmark = pytest.mark.django_db


def test_templates_filter_like_the_create_page(api):
    every = api.get("/api/v1/templates/").json()
    arm = api.get("/api/v1/templates/?chip=arm").json()
    assert arm and len(arm) < len(every) and {t["chip"] for t in arm} == {"arm"}
    onnx = api.get("/api/v1/templates/?framework=onnx&model_format=onnx").json()
    assert onnx and {(t["framework"], t["model_format"]) for t in onnx} == {("onnx", "onnx")}
    assert [t["slug"] for t in api.get(f"/api/v1/templates/?q={TFLITE}").json()] == [TFLITE]
    assert api.get("/api/v1/templates/?chip=%00<x>").json() == []


def test_template_detail_has_its_option_schema(api):
    body = api.get(f"/api/v1/templates/{TFLITE}/").json()
    keys = {option["key"] for option in body["option_schema"]}
    assert {"input_tensor_names", "quantization_precision"} <= keys
    missing = api.get("/api/v1/templates/no-such/")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_folders_browse_my_home_and_refuse_others(api, api_bob, alice_home, dirs, other_user):
    (alice_home / "models" / "cnn").mkdir(parents=True)
    (alice_home / "models" / "a.txt").write_text("hello")
    home = api.get("/api/v1/folders/").json()
    assert home["folders"] == ["models"] and home["path"] == ""
    listing = api.get("/api/v1/folders/?path=models/").json()
    assert listing["folders"] == ["cnn"] and listing["files"] == [{"name": "a.txt", "size": 5}]
    refused = api_bob.get("/api/v1/folders/?path=/users/alice/models/")
    assert refused.status_code == 403 and refused.json()["code"] == "location_refused"
    assert "You have no access to the folder /users/alice/models/" in refused.json()["message"]
    assert api.get("/api/v1/folders/?path=../../etc/").status_code == 403
    FolderGrant.objects.create(location="/users/alice/models/", user=other_user)
    assert api_bob.get("/api/v1/folders/?path=/users/alice/models/").json()["folders"] == ["cnn"]


def test_inspect_queues_one_per_user_and_is_polled(api, api_bob, user, alice_home):
    (alice_home / "models" / "cnn").mkdir(parents=True)
    empty = api.post("/api/v1/models/inspect/", {"input_location": ""}, format="json")
    assert empty.status_code == 400 and empty.json()["code"] == "inspection_refused"
    response = api.post(
        "/api/v1/models/inspect/",
        {"input_location": "models/cnn/", "template": TFLITE},
        format="json",
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    found = Inspection.objects.get(owner=user)
    assert found.template_slug == TFLITE
    again = api.post("/api/v1/models/inspect/", {"input_location": "models/cnn/"}, format="json")
    assert again.json()["id"] == found.pk and "still in progress" in again.json()["note"]
    assert api.get(f"/api/v1/models/inspect/{found.pk}/").json()["status"] == "queued"
    assert api_bob.get(f"/api/v1/models/inspect/{found.pk}/").status_code == 404
    refused = api_bob.post(
        "/api/v1/models/inspect/", {"input_location": "/users/alice/models/cnn/"}, format="json"
    )
    assert refused.status_code == 400
    found.claim("w")
    found.finish({"inputs": []})
    done = api.get(f"/api/v1/models/inspect/{found.pk}/").json()
    assert done["status"] == "done" and done["report"] == {"inputs": []}


def test_the_schema_is_valid_openapi_and_generates_without_warnings(client, tmp_path):
    response = client.get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/tasks/{task_id}/spec/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    out = tmp_path / "schema.yaml"
    # --validate checks the document against the OpenAPI 3 JSON schema drf-spectacular bundles.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert yaml.safe_load(out.read_text())["info"]["title"] == "Model Conversion Console API"


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_docs_pages_load_local_scripts_under_the_csp(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "cdn" not in html.lower() and "https://" not in html
    assert "<script>" not in html.replace(" ", "")


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_every_script_of_the_docs_pages_is_served_by_the_console(client, page):
    import re

    html = client.get(page).content.decode()
    sources = re.findall(r'<script src="([^"]+)"', html)
    assert sources
    for src in sources:
        assert src.startswith("/"), src
        response = client.get(src.replace("&amp;", "&"))
        assert response.status_code == 200, src
        assert "javascript" in response["Content-Type"], src
