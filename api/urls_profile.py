from django.urls import path

from api import views_profile
from conversions.params import IdConverter  # noqa: F401  (registers <id:>)

urlpatterns = [
    path("", views_profile.profile, name="profile"),
    path("tokens/<id:token_id>/rename/", views_profile.rename, name="profile_token_rename"),
    path("tokens/<id:token_id>/revoke/", views_profile.revoke, name="profile_token_revoke"),
    path("webhooks/", views_profile.add_webhook, name="profile_webhook_add"),
    path(
        "webhooks/<id:webhook_id>/delete/",
        views_profile.delete_webhook,
        name="profile_webhook_delete",
    ),
]
