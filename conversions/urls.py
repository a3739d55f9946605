from django.urls import path, register_converter

from conversions import (
    views,
    views_compare,
    views_control,
    views_create,
    views_graph,
    views_inspect,
    views_workers,
)
from conversions.params import IdConverter

register_converter(IdConverter, "id")

app_name = "conversions"

urlpatterns = [
    path("", views.index, name="index"),
    path("tasks/new/", views_create.create, name="create"),
    path("tasks/new/example/", views_create.try_example, name="try_example"),
    path("tasks/inspect/", views_inspect.inspect, name="inspect"),
    path("tasks/inspect/<int:inspection_id>/", views_inspect.inspection, name="inspection"),
    path("tasks/delete/", views.batch_delete, name="batch_delete"),
    path("tasks/browse/", views.browse, name="browse"),
    path("tasks/compare/", views_compare.compare, name="compare"),
    path("tasks/<id:task_id>/", views.detail, name="detail"),
    path("tasks/<id:task_id>/row/", views.row, name="row"),
    path("tasks/<id:task_id>/log/", views.log, name="log"),
    path("tasks/<id:task_id>/delete/", views.delete, name="delete"),
    path("tasks/<id:task_id>/artifacts/<path:name>", views.artifact, name="artifact"),
    path("tasks/<id:task_id>/cancel/", views_control.cancel, name="cancel"),
    path("tasks/<id:task_id>/retry/", views_control.retry, name="retry"),
    path(
        "graph/model/<id:task_id>/<str:side>/<path:name>",
        views_graph.model_file,
        name="model_file",
    ),
    path("graph/", views_graph.graph, name="graph"),
    path("graph/<path:name>", views_graph.asset, name="graph_asset"),
    path("workers/", views_workers.workers, name="workers"),
]
