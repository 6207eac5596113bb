"""``/api/``: version 1 of the REST API, its OpenAPI document and docs. A trailing slash is
optional on every path, and nothing redirects; any other path is the envelope's 404."""

from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from . import views

app_name = "api"


class OptionalSlashRouter(SimpleRouter):
    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("events", views.EventViewSet, basename="event")
router.register("webhook-endpoints", views.WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = [
    path("v1/", include(router.urls)),
    re_path(r"^v1/schema/?$", views.SchemaView.as_view(), name="schema"),
    re_path(r"^docs/?$", views.DocsView.as_view(), name="docs"),
    re_path(r"", views.NotFoundView.as_view(), name="not-found"),
]
