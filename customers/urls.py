from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("customers/", views.CustomerListView.as_view(), name="list"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="create"),
    path("customers/export.csv", views.CustomerExportView.as_view(), name="export"),
    path("customers/<uuid:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("customers/<uuid:pk>/edit/", views.CustomerUpdateView.as_view(), name="update"),
    path("customers/<uuid:pk>/delete/", views.CustomerDeleteView.as_view(), name="delete"),
    path("customers/<uuid:pk>/status/", views.CustomerStatusView.as_view(), name="status"),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="apikey_list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="apikey_create"),
    path("api-keys/<uuid:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="apikey_revoke"),
]
