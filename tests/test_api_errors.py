"""What the API answers when something goes wrong that no client can fix, and the one registry of
error codes."""

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from customers import middleware
from customers.api import views
from customers.api.exceptions import ERROR_CODES
from customers.models import CustomerEvent, Merchant
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
SERVER_ERROR = {
    "error": {
        "code": "server_error",
        "message": "Something went wrong on our side; the error has been logged.",
    }
}


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


def fail_with(monkeypatch, error: Exception):
    def failing(*args, **kwargs):
        raise error

    monkeypatch.setattr(views, "customers_for_caller", failing)


def test_a_host_the_server_does_not_serve_is_400_in_the_envelope(api):
    response = api.get(URL, HTTP_HOST="_d", HTTP_X_REQUEST_ID="req-400")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "The Host header names a host this server does not serve.",
        }
    }
    assert response["X-Request-ID"] == "req-400"


def test_a_host_the_server_does_not_serve_is_djangos_page_outside_the_api(client):
    response = client.get("/customers/", HTTP_HOST="_d")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_an_error_raised_outside_the_view_is_a_logged_500_in_the_envelope(
    merchant, monkeypatch, caplog
):
    def failing(path):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(middleware, "is_api_path", failing)  # every middleware that asks fails
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.get(URL, HTTP_X_REQUEST_ID="req-500")
        page = Client(raise_request_exception=False).get("/customers/")

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert "secret internals" not in response.text
    assert response["X-Request-ID"] == "req-500"
    assert any("secret internals" in r.exc_text for r in caplog.records if r.exc_text)
    assert (page.status_code, page["Content-Type"][:9]) == (500, "text/html")


def test_an_unexpected_error_is_a_logged_500_in_the_envelope(api, monkeypatch, caplog):
    fail_with(monkeypatch, RuntimeError("secret internals"))

    with caplog.at_level(logging.ERROR, logger="customers.api.exceptions"):
        response = api.get(URL, HTTP_X_REQUEST_ID="req-500")

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert "secret internals" not in response.text
    assert response["X-Request-ID"] == "req-500"
    (record,) = [r for r in caplog.records if r.name == "customers.api.exceptions"]
    assert record.getMessage() == "Unexpected error (request req-500)"
    assert record.exc_info[1].args == ("secret internals",)


def test_a_missing_row_the_code_did_not_expect_is_a_500_not_a_404(api, monkeypatch, caplog):
    fail_with(monkeypatch, Merchant.DoesNotExist("Merchant matching query does not exist."))

    with caplog.at_level(logging.ERROR, logger="customers.api.exceptions"):
        response = api.get(URL)

    assert response.status_code == 500
    assert response.json() == SERVER_ERROR
    assert [r.getMessage() for r in caplog.records if r.name == "customers.api.exceptions"] == [
        f"Unexpected error (request {response['X-Request-ID']})"
    ]


@pytest.mark.parametrize("if_match", [None, '"1"'])
def test_patching_a_customer_deleted_meanwhile_is_404(api, merchant, deleted_meanwhile, if_match):
    customer = make_customer(merchant)
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}

    response = api.patch(f"{URL}/{customer.pk}", {"name": "Late"}, format="json", **headers)

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No customer matches the given id."}
    }
    assert list(
        CustomerEvent.objects.filter(customer_id=customer.pk).values_list("action", flat=True)
    ) == ["created"]


def test_the_schema_lists_exactly_the_codes_of_the_registry():
    document = APIClient().get("/api/v1/schema").json()

    assert document["components"]["schemas"]["ErrorCodeEnum"]["enum"] == list(ERROR_CODES)
    conflict = document["paths"]["/api/v1/customers"]["post"]["responses"]["409"]
    assert conflict["description"] == (
        "duplicate (the email or reference is taken; `fields` names it); "
        "idempotency_key_in_use (a request with this Idempotency-Key is still running)."
    )
