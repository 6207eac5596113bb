from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.EndpointListView.as_view(), name="endpoint_list"),
    path("new/", views.EndpointCreateView.as_view(), name="endpoint_create"),
    path("<uuid:pk>/", views.EndpointDetailView.as_view(), name="endpoint_detail"),
    path("<uuid:pk>/edit/", views.EndpointUpdateView.as_view(), name="endpoint_update"),
    path("<uuid:pk>/status/", views.EndpointStatusView.as_view(), name="endpoint_status"),
    path(
        "<uuid:pk>/rotate-secret/",
        views.EndpointRotateSecretView.as_view(),
        name="endpoint_rotate_secret",
    ),
    path("<uuid:pk>/delete/", views.EndpointDeleteView.as_view(), name="endpoint_delete"),
    path(
        "deliveries/<uuid:pk>/resend/",
        views.DeliveryResendView.as_view(),
        name="delivery_resend",
    ),
]
