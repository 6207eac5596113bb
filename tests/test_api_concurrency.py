"""Races that only a real database shows: the unique constraint, not a Python check, decides
duplicates; one Idempotency-Key creates one customer; a cursor walk survives concurrent inserts.

Each thread has its own APIClient and its own database connection, closed when it is done.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customers.models import Customer, CustomerEvent
from tests.factories import make_api_key, make_customer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/customers"


def run_together(count: int, request):
    """``request(client)`` from ``count`` threads released at once; their results in order."""
    barrier = threading.Barrier(count)

    def one(client):
        try:
            barrier.wait(timeout=30)
            return request(client)
        finally:
            connection.close()

    clients = [APIClient() for _ in range(count)]
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, clients))


def with_key(raw_key):
    def authorise(client):
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return authorise


def test_fifty_simultaneous_creates_with_one_email_give_one_201_and_49_409(merchant):
    authorise = with_key(make_api_key(merchant)[1])

    def create(client):
        response = authorise(client).post(
            URL, {"name": "Awa", "email": "awa@example.com"}, format="json"
        )
        return response.status_code, response.json()

    results = run_together(50, create)

    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * 49
    duplicate = next(body for status, body in results if status == 409)
    assert duplicate == {
        "error": {
            "code": "duplicate",
            "message": "A customer with this email already exists.",
            "fields": {"email": ["A customer with this email already exists."]},
        }
    }
    assert Customer.objects.count() == 1


def test_twenty_simultaneous_creates_with_one_idempotency_key_create_one_customer(merchant):
    authorise = with_key(make_api_key(merchant)[1])

    def create(client):
        response = authorise(client).post(
            URL,
            {"name": "Awa", "phone": "+221771234567"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="checkout-42",
        )
        return response.status_code, response.json()

    results = run_together(20, create)

    assert Customer.objects.count() == 1
    assert {status for status, _ in results} <= {201, 409}
    created = [body for status, body in results if status == 201]
    assert created and all(body == created[0] for body in created)
    in_use = [body["error"]["code"] for status, body in results if status == 409]
    assert set(in_use) <= {"idempotency_key_in_use"}


@pytest.mark.parametrize("ordering", ["-created_at", "created_at"])
def test_a_cursor_walk_while_rows_are_inserted_neither_skips_nor_repeats(merchant, ordering):
    existing = {str(make_customer(merchant).pk) for _ in range(40)}
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    walking = threading.Event()
    done = threading.Event()

    def insert_while_walking():
        try:
            walking.wait(timeout=30)
            for _ in range(30):  # bounded, so an ascending walk reaches its end
                if done.is_set():
                    break
                make_customer(merchant)
        finally:
            connection.close()

    inserter = threading.Thread(target=insert_while_walking)
    inserter.start()
    seen = []
    try:
        params = {"limit": 3, "ordering": ordering}
        response = client.get(URL, params)
        walking.set()
        while True:
            seen += [row["id"] for row in response.json()["data"]]
            cursor = response.json()["meta"]["next_cursor"]
            if cursor is None:
                break
            response = client.get(URL, {**params, "cursor": cursor})
    finally:
        done.set()
        inserter.join()

    assert len(seen) == len(set(seen)), "a row was repeated"
    assert existing <= set(seen), "a row was skipped"
    assert Customer.objects.count() > len(existing), "nothing was inserted during the walk"


def test_thirty_parallel_patches_without_if_match_all_apply(merchant):
    raw_key = make_api_key(merchant)[1]
    customer = make_customer(merchant, name="Awa Ndiaye", email="awa@example.com")
    notes = [f"note {n}" for n in range(30)]
    barrier = threading.Barrier(len(notes))

    def patch(note):
        try:
            client = with_key(raw_key)(APIClient())
            barrier.wait(timeout=30)
            return client.patch(f"{URL}/{customer.pk}", {"description": note}, format="json")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(notes)) as pool:
        statuses = [response.status_code for response in pool.map(patch, notes)]

    assert statuses == [200] * 30
    customer.refresh_from_db()
    assert (customer.version, customer.description in notes) == (31, True)
    updates = CustomerEvent.objects.filter(customer_id=customer.pk, action="updated")
    assert updates.count() == 30
