from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from api import views_other, views_tasks
from conversions.params import IdConverter  # noqa: F401  (conversions.urls registers <id:>)

app_name = "api"

# The docs pages run only the console's own scripts (sidecar files, and Swagger UI's start-up script
# served as a file by the split view); Swagger UI and Redoc set styles inline, and Redoc's search
# runs in a blob: worker, so these two pages allow just that beside the console's policy.
docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})
swagger = SpectacularSwaggerSplitView.as_view(url_name="api:schema")
redoc = SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")

urlpatterns = [
    path("templates/", views_other.templates, name="templates"),
    path("templates/<slug:slug>/", views_other.template, name="template"),
    path("tasks/", views_tasks.tasks, name="tasks"),
    path("tasks/delete/", views_tasks.delete_many, name="delete_many"),
    path("tasks/<id:task_id>/", views_tasks.task, name="task"),
    path("tasks/<id:task_id>/log/", views_tasks.log, name="log"),
    path("tasks/<id:task_id>/cancel/", views_tasks.cancel, name="cancel"),
    path("tasks/<id:task_id>/retry/", views_tasks.retry, name="retry"),
    path("tasks/<id:task_id>/spec/", views_tasks.spec, name="spec"),
    path("tasks/<id:task_id>/artifacts/", views_tasks.artifacts, name="artifacts"),
    path("tasks/<id:task_id>/artifacts/<path:name>", views_tasks.artifact, name="artifact"),
    path("folders/", views_other.folders, name="folders"),
    path("models/inspect/", views_other.inspect, name="inspect"),
    path("models/inspect/<id:inspection_id>/", views_other.inspection, name="inspection"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", docs_csp(swagger), name="docs"),
    path("redoc/", docs_csp(redoc), name="redoc"),
]
