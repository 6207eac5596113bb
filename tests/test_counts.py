"""The kept counts behind every list's total: exact after every kind of write, from every door,
and under parallel writers; rebuilt from scratch by a command; read instead of counting rows."""

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from customers.exceptions import CustomerNotFound
from customers.models import Customer, CustomerCount
from customers.services import (
    customer_counts_rebuild,
    customer_delete,
    customer_set_status,
    customer_update,
)
from tests.factories import make_api_key, make_customer, make_merchant, make_user

URL = "/api/v1/customers"


def kept(merchant) -> dict[tuple[str, str], int]:
    rows = CustomerCount.objects.filter(merchant=merchant).exclude(count=0)
    return {(row.status, row.type): row.count for row in rows}


def actual(merchant) -> dict[tuple[str, str], int]:
    groups = (
        Customer.objects.filter(merchant=merchant)
        .values("status", "type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(group["status"], group["type"]): group["n"] for group in groups}


# --- every write moves the counts ----------------------------------------------------------


@pytest.mark.django_db
def test_creates_updates_and_deletes_keep_the_counts_exact(merchant, other_merchant):
    awa = make_customer(merchant)
    binta = make_customer(merchant, type="business", status="pending_kyc")
    make_customer(other_merchant)
    assert kept(merchant) == {("active", "individual"): 1, ("pending_kyc", "business"): 1}

    customer_set_status(customer=awa, status="blocked", actor="user:ops", source="admin")
    customer_update(
        customer=binta, actor="user:ops", source="api", data={"type": "individual"},
        expected_version=1,
    )  # fmt: skip
    customer_update(customer=awa, actor="user:ops", source="api", data={"name": "Awa B"})
    assert kept(merchant) == {("blocked", "individual"): 1, ("pending_kyc", "individual"): 1}

    customer_delete(customer=binta, actor="user:ops", source="dashboard")
    assert kept(merchant) == {("blocked", "individual"): 1}
    assert kept(other_merchant) == {("active", "individual"): 1}


@pytest.mark.django_db
def test_a_change_without_a_version_counts_from_the_stored_status(merchant):
    customer = make_customer(merchant)
    stale = Customer.objects.get(pk=customer.pk)
    customer_set_status(customer=customer, status="inactive", actor="user:a", source="admin")

    # Read while active, changed after the status moved: the move is from what is stored.
    customer_set_status(customer=stale, status="blocked", actor="user:b", source="dashboard")

    assert kept(merchant) == actual(merchant) == {("blocked", "individual"): 1}


@pytest.mark.django_db
def test_deleting_a_customer_read_before_a_change_uncounts_what_was_stored(merchant):
    customer = make_customer(merchant)
    stale = Customer.objects.get(pk=customer.pk)
    customer_set_status(customer=customer, status="blocked", actor="user:a", source="admin")

    customer_delete(customer=stale, actor="user:b", source="api")

    assert kept(merchant) == actual(merchant) == {}


@pytest.mark.django_db
def test_admin_bulk_actions_keep_the_counts_exact(client, merchant):
    customers = [make_customer(merchant) for _ in range(4)]
    client.force_login(User.objects.create_superuser("root", "root@example.com", "password"))
    changelist = reverse("admin:customers_customer_changelist")
    selected = [str(customer.pk) for customer in customers]

    client.post(changelist, {"action": "block", "_selected_action": selected[:3]})
    client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": selected[2:], "post": "yes"},
    )

    assert (
        kept(merchant)
        == actual(merchant)
        == {
            ("blocked", "individual"): 2,
        }
    )


@pytest.mark.django_db
def test_recount_customers_rebuilds_the_counts_from_the_customers(merchant, other_merchant):
    make_customer(merchant)
    make_customer(merchant, status="blocked")
    make_customer(other_merchant, type="business")
    CustomerCount.objects.update(count=999)
    CustomerCount.objects.filter(merchant=other_merchant).delete()

    out = StringIO()
    call_command("recount_customers", "--merchant", merchant.slug, stdout=out)
    assert out.getvalue() == "Counted 2 customers of teranga.\n"
    assert kept(merchant) == actual(merchant)
    assert kept(other_merchant) == {}

    call_command("recount_customers", stdout=out)
    assert kept(other_merchant) == actual(other_merchant) == {("active", "business"): 1}


@pytest.mark.django_db
def test_recount_refuses_an_unknown_merchant():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=r"No merchant with slug 'nope'\."):
        call_command("recount_customers", "--merchant", "nope")


# --- lists read the counts ------------------------------------------------------------------


def customer_counts(captured) -> list[str]:
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and 'FROM "customers_customer"' in q["sql"]
    ]


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "total"),
    [({}, 5), ({"status": "active,blocked"}, 4), ({"type": "business"}, 1),
     ({"is_active": "false", "type": "individual"}, 2), ({"ordering": "name"}, 5)],
)  # fmt: skip
def test_api_totals_from_the_counts_without_counting_rows(api, merchant, query, total):
    for fields in ({}, {}, {"status": "blocked"}, {"status": "inactive"}, {"type": "business"}):
        make_customer(merchant, **fields)
    make_customer(make_merchant(), status="blocked")  # another merchant's is never counted

    with CaptureQueriesContext(connection) as captured:
        meta = api.get(URL, query).json()["meta"]

    assert (meta["total"], meta["total_is_exact"]) == (total, True)
    assert customer_counts(captured) == []


@pytest.mark.django_db
def test_api_counts_other_filters_up_to_the_cap_and_says_so(api, merchant, monkeypatch):
    for n in range(3):
        make_customer(merchant, name=f"Awa {n}")
    make_customer(merchant, name="Binta")
    monkeypatch.setattr("customers.listing.TOTAL_CAP", 2)

    meta = api.get(URL, {"search": "awa", "limit": 1}).json()["meta"]

    assert meta == {
        "page": 1, "limit": 1, "total": 2, "total_is_exact": False, "pages": 2,
        "has_more": True, "next_cursor": meta["next_cursor"],
    }  # fmt: skip
    assert api.get(URL, {"search": "bin"}).json()["meta"]["total_is_exact"] is True


@pytest.mark.django_db
def test_api_page_past_the_cap_still_has_its_rows(api, merchant, monkeypatch):
    for n in range(5):
        make_customer(merchant, name=f"Awa {n}")
    monkeypatch.setattr("customers.listing.TOTAL_CAP", 2)

    response = api.get(URL, {"search": "awa", "limit": 2, "page": 3, "ordering": "name"})

    assert [row["name"] for row in response.json()["data"]] == ["Awa 4"]
    assert response.json()["meta"]["has_more"] is False


@pytest.mark.django_db
def test_dashboard_says_more_than_past_the_cap(client, merchant, monkeypatch):
    for n in range(3):
        make_customer(merchant, name=f"Awa {n}")
    monkeypatch.setattr("customers.listing.TOTAL_CAP", 2)
    client.force_login(make_user(merchant, group="Viewer"))

    response = client.get(reverse("customers:list"), {"search": "awa"})

    assert "More than 2 customers match these filters" in response.text


@pytest.mark.django_db
def test_dashboard_deep_page_has_the_right_rows(client, merchant):
    customers = [make_customer(merchant, name=f"Customer {n:02d}") for n in range(45)]
    client.force_login(make_user(merchant, group="Viewer"))

    response = client.get(reverse("customers:list"), {"ordering": "name", "page": "3"})

    assert [c.name for c in response.context["object_list"]] == [
        c.name for c in sorted(customers, key=lambda c: c.name)[40:]
    ]
    assert "41\N{EN DASH}45 of 45" in response.text


# --- parallel writers -----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counts_stay_exact_under_parallel_writers(merchant):
    customers = [make_customer(merchant, phone=f"+2217712{n:05d}") for n in range(40)]
    barrier = threading.Barrier(8)

    def writer(n: int):
        try:
            barrier.wait(timeout=30)
            for step in range(12):
                index = (n * 5 + step) % len(customers)
                customer = Customer.objects.filter(pk=customers[index].pk).first()
                if customer is None:
                    make_customer(merchant)
                elif step % 4 == 0:
                    # Another writer may delete it first: that is the one refusal expected.
                    with contextlib.suppress(CustomerNotFound):
                        customer_delete(customer=customer, actor="user:t", source="api")
                else:
                    status = ("blocked", "inactive", "active")[step % 3]
                    with contextlib.suppress(CustomerNotFound):
                        customer_set_status(
                            customer=customer, status=status, actor="user:t", source="admin"
                        )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(writer, range(8)))

    assert kept(merchant) == actual(merchant)
    assert sum(kept(merchant).values()) == Customer.objects.filter(merchant=merchant).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rebuilding_the_counts_while_writers_run_stays_exact(merchant):
    for n in range(20):
        make_customer(merchant, phone=f"+2217713{n:05d}")

    def create(n: int):
        try:
            make_customer(merchant, phone=f"+2217714{n:05d}")
        finally:
            connection.close()

    def rebuild(_):
        try:
            customer_counts_rebuild(merchant=merchant)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: rebuild(n) if n % 5 == 0 else create(n), range(30)))

    assert kept(merchant) == actual(merchant)


@pytest.mark.django_db
def test_a_first_page_that_is_not_full_is_totalled_without_another_query(api, merchant):
    for n in range(3):
        make_customer(merchant, name=f"Awa {n}", country="SN")
    api.get(URL)  # the key's first use is written once

    with CaptureQueriesContext(connection) as captured:
        meta = api.get(URL, {"country": "SN", "limit": 3}).json()["meta"]
    with CaptureQueriesContext(connection) as full_page:
        fuller = api.get(URL, {"country": "SN", "limit": 2}).json()["meta"]

    assert (meta["total"], meta["total_is_exact"], meta["has_more"]) == (3, True, False)
    assert len(captured) == 2  # the key, the page
    assert (fuller["total"], fuller["has_more"]) == (3, True)
    assert len(full_page) == 3  # the key, the page, the count
