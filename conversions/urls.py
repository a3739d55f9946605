from django.urls import path

from conversions import views, views_create

app_name = "conversions"

urlpatterns = [
    path("", views.index, name="index"),
    path("tasks/new/", views_create.create, name="create"),
    path("tasks/inspect/", views_create.inspect, name="inspect"),
    path("tasks/delete/", views.batch_delete, name="batch_delete"),
    path("tasks/browse/", views.browse, name="browse"),
    path("tasks/<int:task_id>/", views.detail, name="detail"),
    path("tasks/<int:task_id>/row/", views.row, name="row"),
    path("tasks/<int:task_id>/log/", views.log, name="log"),
    path("tasks/<int:task_id>/delete/", views.delete, name="delete"),
    path("tasks/<int:task_id>/artifacts/<path:name>", views.artifact, name="artifact"),
]
