from django.urls import path

from . import views

app_name = "customers"

urlpatterns = [
    path("", views.OverviewView.as_view(), name="home"),
    path("customers/", views.CustomerListView.as_view(), name="list"),
    path("customers/new/", views.CustomerCreateView.as_view(), name="create"),
    path("customers/export.csv", views.CustomerExportView.as_view(), name="export"),
    path("customers/bulk/", views.CustomerBulkView.as_view(), name="bulk"),
    path("customers/<uuid:pk>/", views.CustomerDetailView.as_view(), name="detail"),
    path("customers/<uuid:pk>/edit/", views.CustomerUpdateView.as_view(), name="update"),
    path("customers/<uuid:pk>/delete/", views.CustomerDeleteView.as_view(), name="delete"),
    path("customers/<uuid:pk>/status/", views.CustomerStatusView.as_view(), name="status"),
    path("customers/<uuid:pk>/block/", views.CustomerBlockView.as_view(), name="block"),
    path("activity/", views.ActivityView.as_view(), name="activity"),
    path("api-keys/", views.ApiKeyListView.as_view(), name="apikey_list"),
    path("api-keys/new/", views.ApiKeyCreateView.as_view(), name="apikey_create"),
    path("api-keys/<uuid:pk>/revoke/", views.ApiKeyRevokeView.as_view(), name="apikey_revoke"),
    path("imports/", views.CustomerImportListView.as_view(), name="import_list"),
    path("imports/new/", views.CustomerImportCreateView.as_view(), name="import_create"),
    path("imports/<uuid:pk>/", views.CustomerImportDetailView.as_view(), name="import_detail"),
    path(
        "imports/<uuid:pk>/status.json",
        views.CustomerImportStatusView.as_view(),
        name="import_status",
    ),
    path("imports/<uuid:pk>/start/", views.CustomerImportStartView.as_view(), name="import_start"),
    path(
        "imports/<uuid:pk>/cancel/",
        views.CustomerImportCancelView.as_view(),
        name="import_cancel",
    ),
    path(
        "imports/<uuid:pk>/rejects.csv",
        views.CustomerImportRejectsView.as_view(),
        name="import_rejects",
    ),
]
