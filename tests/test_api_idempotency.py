"""``Idempotency-Key`` on POST: replay, reuse with another body, in flight, per merchant, 24 h."""

import contextlib
import datetime

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api.idempotency import advisory_lock_id
from customers.models import Customer, IdempotencyKey
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
BODY = {"name": "Awa Diop", "email": "awa@example.com"}


def client_for(merchant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


@pytest.fixture
def api(merchant):
    return client_for(merchant)


def post(client, body=BODY, key="order-17"):
    return client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeat_with_the_same_key_and_body_replays_the_first_response(api):
    first = post(api)
    second = post(api)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert second["Location"] == first["Location"]
    assert second["ETag"] == first["ETag"]
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


def test_the_same_body_in_other_whitespace_and_key_order_is_the_same_request(api):
    post(api)

    second = api.generic(
        "POST",
        URL,
        '{ "email" : "awa@example.com",\n "name": "Awa Diop" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="order-17",
    )

    assert second["Idempotent-Replayed"] == "true"


def test_the_same_key_with_another_body_is_422_and_creates_nothing(api):
    post(api)

    response = post(api, {**BODY, "name": "Someone Else"})

    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "code": "idempotency_key_reused",
            "message": "This Idempotency-Key was already used with a different request body; "
            "use a new key for a new request.",
        }
    }
    assert Customer.objects.count() == 1


@contextlib.contextmanager
def held_elsewhere(merchant, key: str = "order-17"):
    """Another request holding ``key``: its own connection, in a transaction, until the block
    ends; yields that connection's server process id."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s), pg_backend_pid()",
                [advisory_lock_id(merchant, key)],
            )
            yield cursor.fetchone()[1]
    finally:
        other.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_is_in_flight_is_409(api, merchant):
    with held_elsewhere(merchant):
        response = post(api)

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "idempotency_key_in_use",
            "message": "A request with this Idempotency-Key is still being processed; retry "
            "once it is done.",
        }
    }
    assert not Customer.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_whose_database_connection_died_leaves_the_key_free(api, merchant):
    with held_elsewhere(merchant) as process:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [process])

        response = post(api)

    assert response.status_code == 201
    assert Customer.objects.count() == 1


def test_keys_are_per_merchant(api, other_merchant):
    post(api)

    response = post(client_for(other_merchant))

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Customer.objects.count() == 2


def test_a_key_older_than_24_hours_is_forgotten(api, merchant):
    post(api, key="old")
    Customer.objects.all().delete()
    expired = timezone.now() - IdempotencyKey.LIFETIME - datetime.timedelta(seconds=1)
    IdempotencyKey.objects.update(created_at=expired)

    response = post(api, key="old")

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Customer.objects.count() == 1


def test_a_failed_request_keeps_nothing_so_the_key_can_be_retried(api, merchant):
    make_customer(merchant, email="awa@example.com")

    failed = post(api)
    Customer.objects.all().delete()
    retried = post(api)

    assert (failed.status_code, retried.status_code) == (409, 201)
    assert "Idempotent-Replayed" not in retried
    assert IdempotencyKey.objects.get().status_code == 201


def test_an_invalid_body_with_a_key_is_400_and_keeps_nothing(api):
    response = post(api, {"name": "Awa"})

    assert response.status_code == 400
    assert not IdempotencyKey.objects.exists()


def test_without_a_key_two_posts_are_two_requests(api):
    first = api.post(URL, BODY, format="json")
    second = api.post(URL, BODY, format="json")

    assert (first.status_code, second.status_code) == (201, 409)


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_400_naming_the_header(api, key):
    response = post(api, key=key)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "Idempotency-Key": ["Send 1 to 255 printable ASCII characters, e.g. a UUID."]
    }
    assert not Customer.objects.exists()


def test_a_key_of_255_characters_is_accepted(api):
    assert post(api, key="k" * 255).status_code == 201
