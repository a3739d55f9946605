"""A real conversion created and followed through the API to `succeeded` by a real worker."""

import pytest

from conversions.models import ConversionTask
from tests.helpers import CNN_OPTIONS, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_task_created_through_the_api_is_converted_and_its_report_fetched(
    api, cnn_folder, alice_home, worker
):
    spec = {
        "template": "tensorflow-frozen-graph-to-tflite",
        "name": "convert-api1",
        "input_location": cnn_folder,
        "output_location": "out/api1/",
        "options": CNN_OPTIONS,
    }
    created = api.post("/api/v1/tasks/", spec, format="json")
    assert created.status_code == 201, created.json()
    url = f"/api/v1/tasks/{created.json()['id']}/"

    def ended():
        body = api.get(url).json()
        return body if body["status"] not in ("initializing", "running") else None

    task = wait_for(ended, timeout=180, what="the worker to finish the task")
    assert task["status"] == ConversionTask.Status.SUCCEEDED, task["error_message"]
    assert task["progress"] == 100 and task["report"]["status"] == "succeeded"
    log = api.get(url + "log/").json()
    assert log["lines"] and log["active"] is False
    names = [a["name"] for a in api.get(url + "artifacts/").json()]
    assert "report.json" in names and "model/convert-api1.tflite" in names
    report = api.get(url + "artifacts/report.json")
    assert report.status_code == 200 and b'"status"' in b"".join(report.streaming_content)
