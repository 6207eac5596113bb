from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from customers.api.views import healthz
from customers.views import LogoutView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("customers.api.urls")),
    re_path(r"^healthz/?$", healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    # The header's language switcher posts to Django's set_language (a cookie, then back).
    path("i18n/", include("django.conf.urls.i18n")),
    path("webhooks/", include("webhooks.urls")),
    path("", include("customers.urls")),
]

# A request refused, or an error raised, outside any view (a Host this server does not serve,
# a middleware's failure): the API's envelope under /api/, Django's page elsewhere.
handler400 = "customers.api.views.bad_request"
handler500 = "customers.api.views.server_error"
