"""What responses tell browsers and caches: customers' data is never stored by a cache."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import make_api_key, make_customer, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, name="Awa Diop", email="awa@example.com")


@pytest.fixture
def manager(merchant):
    client = Client()
    client.force_login(make_user(merchant, group="Manager"))
    return client


@pytest.fixture
def superuser(merchant):
    client = Client()
    client.force_login(make_user(merchant, is_superuser=True))
    return client


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


# --- Cache-Control --------------------------------------------------------------------------


def test_every_api_response_with_customers_or_errors_is_no_store(api, customer):
    responses = [
        api.get("/api/v1/customers"),
        api.get(f"/api/v1/customers/{customer.pk}"),
        api.post("/api/v1/customers", {"name": "Binta Sow", "email": "b@example.com"}, "json"),
        api.patch(f"/api/v1/customers/{customer.pk}", {"name": "Awa N. Diop"}, "json"),
        api.get("/api/v1/customers", {"colour": "red"}),
        APIClient().get("/api/v1/customers"),
        api.get("/api/v1/nowhere"),
        api.delete(f"/api/v1/customers/{customer.pk}"),
    ]

    assert [response.status_code for response in responses] == [
        200, 200, 201, 200, 400, 401, 404, 200,
    ]  # fmt: skip
    assert {response["Cache-Control"] for response in responses} == {"no-store"}


def test_a_not_modified_answer_is_no_store_too(api, customer):
    etag = api.get(f"/api/v1/customers/{customer.pk}")["ETag"]

    response = api.get(f"/api/v1/customers/{customer.pk}", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["Cache-Control"] == "no-store"


def test_the_public_openapi_document_may_be_cached():
    response = APIClient().get("/api/v1/schema")

    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize(
    "path",
    [
        "/customers/",
        "/customers/?status=active",
        "/customers/{id}/",
        "/customers/new/",
        "/customers/{id}/edit/",
        "/customers/{id}/delete/",
        "/customers/export.csv",
        "/api-keys/",
        "/api-keys/new/",
    ],
)
def test_dashboard_pages_are_no_store(manager, customer, path):
    response = manager.get(path.format(id=customer.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_dashboard_form_refused_with_what_was_typed_is_no_store(manager, customer):
    response = manager.post(reverse("customers:create"), {"name": "Awa", "email": "not-an-email"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/customers/customer/",
        "/admin/customers/customer/{id}/change/",
        "/admin/customers/apikey/",
    ],
)
def test_admin_pages_are_no_store(superuser, customer, path):
    response = superuser.get(path.format(id=customer.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/css/dashboard.css")

    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]
