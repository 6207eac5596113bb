"""The project's URLs, plus the references `make bench` compares the API with, under
``/bench/``: the same SQL served bare, and a DRF tutorial scaffold."""

from django.urls import include, path

from config.urls import urlpatterns as project_urls

from . import baseline, scaffold

urlpatterns = [
    path("bench/baseline/<slug:scenario>", baseline.replay, name="bench-baseline"),
    path("bench/scaffold/", include(scaffold.router.urls)),
    *project_urls,
]
