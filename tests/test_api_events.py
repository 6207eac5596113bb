"""The event feed (``/api/v1/events``), one event, and a customer's events: what each change
through every door records, in what order, for whom."""

import importlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer, CustomerEvent
from customers.services import customer_update
from tests.factories import make_api_key, make_customer, make_merchant, make_user

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/events"
CUSTOMERS = "/api/v1/customers"


def client_with(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api(merchant):
    return client_with(make_api_key(merchant)[1])


def feed(api, **params) -> dict:
    response = api.get(EVENTS, params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_create_update_and_delete_through_the_api_are_three_events_with_what_get_showed(api):
    created = api.post(CUSTOMERS, {"name": "Awa Ndiaye", "email": "awa@example.com"}, format="json")
    url = f"{CUSTOMERS}/{created.json()['data']['id']}"
    updated = api.patch(url, {"status": "blocked", "company": "Teranga"}, format="json")
    last_seen = api.get(url).json()["data"]
    api.delete(url)

    events = feed(api)["data"]

    assert [event["type"] for event in events] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert events[0]["data"] == {"object": created.json()["data"]}
    assert events[1]["data"] == {
        "object": updated.json()["data"],
        "previous_attributes": {"company": None, "status": "active"},
    }
    assert events[2]["data"] == {"object": last_seen}
    assert {(event["source"], event["customer_id"]) for event in events} == {
        ("api", created.json()["data"]["id"])
    }
    assert events[0]["actor"].startswith("api_key:")


def test_one_event_is_what_the_feed_shows(api, merchant):
    make_customer(merchant, name="Awa Ndiaye")
    (event,) = feed(api)["data"]

    response = api.get(f"{EVENTS}/{event['id']}")

    assert response.status_code == 200
    assert response.json() == {"data": event}


def test_changes_through_the_dashboard_and_the_admin_are_events_too(client, merchant):
    customer = make_customer(merchant, name="Awa Ndiaye", email="awa@example.com")
    editor = make_user(merchant, group="Editor", username="eddie")
    client.force_login(editor)
    client.post(
        reverse("customers:status", args=[customer.pk]), {"status": "blocked", "reason": "Fraud"}
    )
    root = make_user(merchant, username="root", is_superuser=True)
    client.force_login(root)
    client.post(
        reverse("admin:customers_customer_changelist"),
        {"action": "activate", "_selected_action": [customer.pk]},
    )

    events = feed(client_with(make_api_key(merchant)[1]))["data"]

    assert [(e["type"], e["source"], e["actor"]) for e in events] == [
        ("customer.created", "admin", "user:tests"),
        ("customer.updated", "dashboard", "user:eddie"),
        ("customer.updated", "admin", "user:root"),
    ]
    assert events[1]["data"]["previous_attributes"] == {"status": "active"}
    assert events[1]["data"]["object"]["status"] == "blocked"


def test_polling_with_the_cursor_receives_only_newer_events_each_once(api, merchant):
    for name in ("Awa", "Binta", "Coumba"):
        make_customer(merchant, name=name)

    first = feed(api, limit=2)
    rest = feed(api, limit=2, cursor=first["meta"]["next_cursor"])
    quiet = feed(api, limit=2, cursor=rest["meta"]["next_cursor"])
    make_customer(merchant, name="Dior")
    later = feed(api, limit=2, cursor=quiet["meta"]["next_cursor"])

    names = [e["data"]["object"]["name"] for e in first["data"] + rest["data"] + later["data"]]
    assert names == ["Awa", "Binta", "Coumba", "Dior"]
    assert (first["meta"]["has_more"], rest["meta"]["has_more"]) == (True, False)
    # A quiet poll hands back a cursor to poll with again, never null.
    assert quiet["data"] == []
    assert quiet["meta"]["next_cursor"] == rest["meta"]["next_cursor"]


def test_an_empty_feed_has_no_cursor_yet(api):
    assert feed(api)["meta"] == {"limit": 20, "has_more": False, "next_cursor": None}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"type": "customer.created"}, ["Awa", "Binta"]),
        ({"type": "customer.updated,customer.deleted"}, ["Awa", "Binta"]),
        ({"type": "customer.deleted"}, ["Binta"]),
        ({"created_after": "2000-01-01", "created_before": "2000-01-02"}, []),
    ],
)
def test_the_feed_filters_by_type_and_date(api, merchant, params, names):
    awa = make_customer(merchant, name="Awa")
    binta = make_customer(merchant, name="Binta")
    customer_update(customer=awa, actor="user:tests", source="admin", data={"company": "X"})
    api.delete(f"{CUSTOMERS}/{binta.pk}")

    events = feed(api, **params)["data"]

    assert [e["data"]["object"]["name"] for e in events] == names


def test_the_feed_filters_by_customer(api, merchant):
    awa = make_customer(merchant, name="Awa")
    make_customer(merchant, name="Binta")

    events = feed(api, customer=str(awa.pk))["data"]

    assert [e["customer_id"] for e in events] == [str(awa.pk)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tpye": "customer.created"}, "tpye"),
        ({"type": "customer.archived"}, "type"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"page": "2"}, "page"),
        ({"customer": "nope"}, "customer"),
    ],
)
def test_a_parameter_the_feed_cannot_use_is_400_naming_it(api, params, field):
    response = api.get(EVENTS, params)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_another_merchants_events_are_invisible(api, other_merchant):
    theirs = make_customer(other_merchant, name="Chidi Okafor")
    their_event = CustomerEvent.objects.get(customer_id=theirs.pk)

    assert feed(api)["data"] == []
    assert api.get(f"{EVENTS}/{their_event.pk}").status_code == 404
    assert api.get(f"{CUSTOMERS}/{theirs.pk}/events").status_code == 404


def test_a_customers_events_are_newest_first_and_outlive_it(api, merchant):
    customer = make_customer(merchant, name="Awa")
    customer_update(customer=customer, actor="user:tests", source="admin", data={"company": "X"})
    api.delete(f"{CUSTOMERS}/{customer.pk}")

    first = api.get(f"{CUSTOMERS}/{customer.pk}/events", {"limit": 2}).json()
    rest = api.get(
        f"{CUSTOMERS}/{customer.pk}/events", {"limit": 2, "cursor": first["meta"]["next_cursor"]}
    ).json()

    types = [e["type"] for e in first["data"] + rest["data"]]
    assert types == ["customer.deleted", "customer.updated", "customer.created"]
    assert rest["meta"] == {"limit": 2, "has_more": False, "next_cursor": None}


def test_a_customer_without_events_has_an_empty_list_and_one_never_seen_is_404(api, merchant):
    customer = make_customer(merchant, name="Awa")
    CustomerEvent.objects.filter(customer_id=customer.pk).delete()  # e.g. loaded in bulk

    assert api.get(f"{CUSTOMERS}/{customer.pk}/events").json()["data"] == []
    missing = api.get(f"{CUSTOMERS}/01900000-0000-7000-8000-000000000000/events")
    assert missing.status_code == 404


def test_events_need_the_read_scope_or_the_permission_to_view_customers(client, merchant):
    writer = client_with(make_api_key(merchant, scopes=["customers:write"])[1])
    assert writer.get(EVENTS).json()["error"]["code"] == "insufficient_scope"
    client.force_login(make_user(merchant, username="nobody"))
    assert client.get(EVENTS).status_code == 403
    client.force_login(make_user(merchant, group="Viewer", username="vera"))
    assert client.get(EVENTS).status_code == 200


def test_events_recorded_before_the_feed_are_numbered_by_time_and_described():
    migration = importlib.import_module("customers.migrations.0014_events_numbered_with_their_data")
    merchant = make_merchant("Old Shop")
    customer = make_customer(merchant, name="Awa", email="awa@example.com")
    customer_update(customer=customer, actor="user:tests", source="admin", data={"company": "X"})
    # As stored before: no data, and numbers that say nothing of their order.
    CustomerEvent.objects.update(data={})
    CustomerEvent.objects.filter(action="created").update(number=20)
    CustomerEvent.objects.filter(action="updated").update(number=10)

    migration.number_and_describe(apps, None)

    created, updated = CustomerEvent.objects.order_by("number")
    assert (created.number, updated.number) == (1, 2)
    assert created.data["object"]["name"] == "Awa"
    assert created.data["object"]["company"] is None
    assert updated.data == {
        "object": {"id": str(customer.pk), "merchant_id": str(merchant.pk), "company": "X"},
        "previous_attributes": {"company": None},
    }
    merchant.refresh_from_db()
    assert merchant.last_event_number == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_feed_followed_while_others_write_never_skips_or_repeats_an_event(merchant):
    raw_key = make_api_key(merchant)[1]
    writers, writes_each = 4, 15
    done = threading.Event()
    seen: list[str] = []

    def write(n: int):
        try:
            client = client_with(raw_key)
            for i in range(writes_each):
                created = client.post(
                    CUSTOMERS, {"name": f"W{n}-{i}", "email": f"w{n}-{i}@example.com"},
                    format="json",
                ).json()["data"]  # fmt: skip
                client.patch(f"{CUSTOMERS}/{created['id']}", {"company": "C"}, format="json")
        finally:
            connection.close()

    def follow():
        try:
            client, cursor = client_with(raw_key), None
            while True:
                finished = done.is_set()
                params = {"limit": 7, **({"cursor": cursor} if cursor else {})}
                page = client.get(EVENTS, params).json()
                seen.extend(event["id"] for event in page["data"])
                cursor = page["meta"]["next_cursor"] or cursor
                if finished and not page["meta"]["has_more"]:
                    return
                time.sleep(0.005)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=writers + 1) as pool:
        follower = pool.submit(follow)
        for future in [pool.submit(write, n) for n in range(writers)]:
            future.result()
        done.set()
        follower.result()

    recorded = list(
        CustomerEvent.objects.filter(merchant=merchant)
        .order_by("number")
        .values_list("id", "number")
    )
    assert len(recorded) == writers * writes_each * 2
    assert seen == [str(event_id) for event_id, _ in recorded]
    assert [number for _, number in recorded] == list(range(1, len(recorded) + 1))
    assert Customer.objects.count() == writers * writes_each


def test_the_feed_from_or_before_a_moment_gives_the_events_on_that_side(api, merchant):
    import datetime

    for name in ("Awa", "Binta", "Coumba"):
        make_customer(merchant, name=name)
    long_ago = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    CustomerEvent.objects.filter(number=1).update(created_at=long_ago)

    later = feed(api, created_after="2026-01-01")["data"]
    earlier = feed(api, created_before="2026-01-01")["data"]

    assert [e["data"]["object"]["name"] for e in later] == ["Binta", "Coumba"]
    assert [e["data"]["object"]["name"] for e in earlier] == ["Awa"]


def test_event_times_never_go_back_along_their_numbers(merchant):
    import datetime

    customer = make_customer(merchant, name="Awa")
    ahead = datetime.datetime(2999, 1, 1, tzinfo=datetime.UTC)
    # The previous event was stamped by a clock ahead of this one.
    CustomerEvent.objects.filter(customer_id=customer.pk).update(created_at=ahead)
    type(merchant).objects.filter(pk=merchant.pk).update(last_event_at=ahead)

    customer_update(customer=customer, actor="user:tests", source="admin", data={"company": "X"})

    times = list(CustomerEvent.objects.order_by("number").values_list("created_at", flat=True))
    assert times == [ahead, ahead]
