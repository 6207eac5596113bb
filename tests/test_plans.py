"""Every door's list queries, planned by PostgreSQL at a size that shows its real choices.

A plan proven on a dozen rows proves nothing: the planner walks tiny tables any way it likes.
Here a merchant holds 100,000 customers (another merchant 20,000), statistics are fresh, and
each request of the API, the dashboard and the admin is made through the real stack; every
query it sends about customers is then run again under ``EXPLAIN ANALYZE``. None may scan the
table, nor read more than an eighth of the merchant's customers to answer: a page a tenth of
the way down, the count of a frequent search (capped at 10,000) and a rare combination of
filters included.
"""

import json
from urllib.parse import quote, urlencode

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.demo import insert_generated_customers
from customers.filtersets import CustomerFilterSet
from customers.listing import KeysetPosition
from customers.models import Customer, CustomerCount, CustomerEvent, Merchant
from tests.factories import make_api_key, make_customer, make_merchant, make_user, unique_checks
from webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("plans")]

CUSTOMERS = 100_000
#: The most a query may read of the merchant's customers: an eighth.
MOST_ROWS_READ = CUSTOMERS // 8
TABLE = Customer._meta.db_table


@pytest.fixture(scope="module")
def registry(django_db_setup, django_db_blocker):
    """The big merchant, its staff, a superuser and an API key: committed for the module,
    then removed."""
    with django_db_blocker.unblock():
        merchant = make_merchant("Big Market", slug="big")
        insert_generated_customers(merchant, CUSTOMERS, seed=1)
        insert_generated_customers(make_merchant("Other", slug="other"), 20_000, seed=2)
        make_customer(
            merchant, name="Zyzzyva Qoph", email="zyzzyva@example.com", phone="+221770001122",
            reference="ZQ-1", company="Zyzzyva Holdings",
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {TABLE}")
        sample = Customer.objects.filter(merchant=merchant).order_by("-created_at")[5000]
        registry = {
            "merchant": merchant,
            "sample": sample,
            "staff": make_user(merchant, group="Manager", username="plans-staff"),
            "root": User.objects.create_superuser("plans-root", "root@example.com", "password"),
            "key": make_api_key(merchant)[1],
        }
        yield registry
        with connection.cursor() as cursor:
            # The deliveries refer to the events: PostgreSQL truncates them together or not at all.
            models = (Customer, CustomerCount, CustomerEvent, WebhookDelivery, WebhookAttempt)
            tables = [model._meta.db_table for model in models]
            cursor.execute(f"TRUNCATE {', '.join(tables)}")
        User.objects.filter(username__startswith="plans-").delete()
        Merchant.objects.filter(slug__in=["big", "other"]).delete()


def queries_for(registry, door: str, query: str) -> list[str]:
    """The SQL about customers that one request of ``door`` sends."""
    if door == "api":
        client = Client(HTTP_AUTHORIZATION=f"Bearer {registry['key']}")
        path = "/api/v1/customers"
    else:
        client = Client()
        client.force_login(registry["root" if door == "admin (superuser)" else "staff"])
        path = "/admin/customers/customer/" if door.startswith("admin") else "/customers/"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.content[:500]
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith("SELECT") and f'FROM "{TABLE}"' in q["sql"]
    ]


def rows_read(plan: dict) -> int:
    """Customers read by a plan: rows kept plus rows thrown away, in every loop."""
    node = plan
    total = 0
    if node.get("Relation Name") == TABLE:
        assert node["Node Type"] != "Seq Scan", f"a scan of the whole table: {json.dumps(plan)}"
        kept_and_removed = (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        total += kept_and_removed * node["Actual Loops"]
    for child in node.get("Plans", []):
        total += rows_read(child)
    return total


def assert_reads_little(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0][0]["Plan"]
    read = rows_read(plan)
    assert read <= MOST_ROWS_READ, f"{read} rows read by\n{sql}\n{json.dumps(plan, indent=1)}"


LIST_QUERIES = [
    {}, {"limit": 100}, {"page": CUSTOMERS // 10 // 20}, {"type": "business"},
    {"is_active": "false"}, {"status": "blocked"}, {"status": "inactive,pending_kyc"},
    {"country": "SN"}, {"country": "RW", "ordering": "name"}, {"country": "US"},
    {"currency": "NGN"}, {"currency": "USD"}, {"created_after": "2030-01-01"},
    {"created_before": "2000-01-01"}, {"search": "amadou"}, {"search": "zyzzyva"},
    {"search": "ama"}, {"search": "770001"}, {"search": "+221 77 000 11 22"},
    {"search": "077 000 11"}, {"search": "+221 77"}, {"ordering": "name"}, {"ordering": "-name"},
    {"ordering": "updated_at"}, {"ordering": "-updated_at"},
    {"status": "blocked", "ordering": "name"}, {"search": "diallo", "status": "blocked"},
    {"country": "KE", "status": "blocked", "type": "business"},
    {"currency": "USD", "ordering": "-name"}, {"status": "pending_kyc", "ordering": "updated_at"},
    {"ordering": "status"}, {"ordering": "-status"}, {"ordering": "type"}, {"ordering": "-type"},
    {"ordering": "country"}, {"ordering": "-country"},
    {"ordering": "status", "page": CUSTOMERS // 10 // 20},
    {"ordering": "-country", "page": CUSTOMERS // 10 // 20},
    {"ordering": "type", "status": "blocked"}, {"ordering": "-status", "status": "blocked"},
    {"ordering": "country", "country": "KE"}, {"ordering": "status", "country": "RW"},
    {"ordering": "-type", "is_active": "false"}, {"ordering": "country", "currency": "USD"},
    {"ordering": "status", "search": "amadou"}, {"ordering": "-country", "type": "business"},
]  # fmt: skip


def sample_queries(sample) -> list[dict]:
    return [
        {"email": sample.email.upper()}, {"phone": sample.phone},
        {"reference": sample.reference}, {"email": "nobody@example.com"},
    ]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["api", "dashboard"])
@pytest.mark.parametrize("query", LIST_QUERIES, ids=urlencode)
def test_list_queries_read_a_small_part_of_the_merchant(registry, door, query):
    for sql in queries_for(registry, door, urlencode(query)):
        assert_reads_little(sql)


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["api", "dashboard"])
def test_exact_filters_read_only_what_they_find(registry, door):
    for query in sample_queries(registry["sample"]):
        for sql in queries_for(registry, door, urlencode(query)):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0][0]["Plan"]
            assert rows_read(plan) <= 1, f"{query}: {json.dumps(plan)}"


#: Cursor walks by orderings whose first column holds long runs of one value (85% of the
#: customers are active): a cursor deep in a run, or in the rows a filter leaves.
CURSOR_QUERIES = [
    {"ordering": "status"}, {"ordering": "-status"}, {"ordering": "type"}, {"ordering": "-type"},
    {"ordering": "country"}, {"ordering": "-country"}, {"ordering": "-created_at"},
    {"ordering": "name"}, {"ordering": "type", "status": "blocked"},
    {"ordering": "-status", "country": "KE"}, {"ordering": "country", "is_active": "false"},
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("depth", ["next page", "halfway"])
@pytest.mark.parametrize("query", CURSOR_QUERIES, ids=urlencode)
def test_a_cursor_page_reads_a_small_part_of_the_merchant_however_deep(registry, query, depth):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry['key']}")
    if depth == "next page":
        cursor = client.get("/api/v1/customers", query).json()["meta"]["next_cursor"]
    else:
        matching = CustomerFilterSet(
            query, queryset=Customer.objects.filter(merchant=registry["merchant"])
        ).qs
        halfway = matching[matching.count() // 2]
        cursor = KeysetPosition.after_row(query["ordering"], halfway).encode()
    for sql in queries_for(registry, "api", urlencode({**query, "cursor": cursor})):
        assert_reads_little(sql)


ADMIN_QUERIES = [
    {}, {"p": 100}, {"status__exact": "blocked"}, {"type__exact": "business"}, {"country": "RW"},
    {"q": "amadou"}, {"q": "zyzzyva"}, {"q": "Amadou Ba"}, {"q": "+221 77 000 11 22"}, {"o": "8"},
    {"status__exact": "blocked", "country": "KE"},
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["admin", "admin (superuser)"])
@pytest.mark.parametrize("query", ADMIN_QUERIES, ids=urlencode)
def test_admin_queries_read_a_small_part_of_the_table(registry, door, query):
    for sql in queries_for(registry, door, urlencode(query)):
        assert_reads_little(sql)


@pytest.mark.django_db
def test_admin_sorts_by_name_within_one_merchant(registry):
    query = urlencode({"o": "1", "merchant__id__exact": registry["merchant"].pk})
    for sql in queries_for(registry, "admin (superuser)", query):
        assert_reads_little(sql)
    for sql in queries_for(registry, "admin", "o=1"):
        assert_reads_little(sql)


def index_names(plan: dict) -> set[str]:
    names = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        names |= index_names(child)
    return names


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["api", "dashboard"])
def test_a_phone_as_displayed_is_looked_up_in_the_phone_search_index(registry, door):
    for sql in queries_for(registry, door, urlencode({"search": "+221 77 000 11 22"})):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
        assert "customer_phone_search" in index_names(plan), json.dumps(plan)
        assert rows_read(plan) == 1, json.dumps(plan)


@pytest.mark.django_db
def test_one_customer_is_found_by_its_id(registry):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry['key']}")
    with CaptureQueriesContext(connection) as captured:
        assert (
            client.get(f"/api/v1/customers/{quote(str(registry['sample'].pk))}").status_code == 200
        )
    (sql,) = [q["sql"] for q in captured.captured_queries if f'FROM "{TABLE}"' in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        assert rows_read(cursor.fetchone()[0][0]["Plan"]) == 1


@pytest.mark.django_db
def test_the_uniqueness_check_before_a_write_finds_a_clash_in_its_index(registry):
    sample = registry["sample"]
    twin = Customer(
        merchant=registry["merchant"], email=sample.email.upper(), reference=sample.reference
    )
    with CaptureQueriesContext(connection) as captured, pytest.raises(ValidationError) as refused:
        twin.validate_constraints()
    assert set(refused.value.message_dict) == {"email", "reference"}
    assert len(unique_checks(captured.captured_queries)) == 2
    for sql in unique_checks(captured.captured_queries):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
        assert index_names(plan) & {
            "customer_unique_email_per_merchant", "customer_unique_reference_per_merchant"
        }, json.dumps(plan)  # fmt: skip
        assert rows_read(plan) == 1, json.dumps(plan)


# --- the event feed ---------------------------------------------------------------------------

EVENTS = 100_000


@pytest.fixture(scope="module")
def event_log(registry, django_db_blocker):
    """A hundred thousand events of the big merchant, numbered in time order as the services
    number them: most updates, some creations, a few deletions; then fresh statistics."""
    import datetime
    import random

    from django.utils import timezone

    merchant = registry["merchant"]
    rng = random.Random(3)
    start = timezone.now() - datetime.timedelta(days=400)
    with django_db_blocker.unblock():
        customer_ids = list(
            Customer.objects.filter(merchant=merchant).values_list("pk", flat=True)[:20_000]
        )
        actions = ["updated"] * 14 + ["status_changed"] * 3 + ["created"] * 2 + ["deleted"]
        numbered = CustomerEvent.objects.filter(merchant=merchant).count()
        CustomerEvent.objects.bulk_create(
            (
                CustomerEvent(
                    merchant=merchant,
                    number=numbered + n,
                    customer_id=rng.choice(customer_ids),
                    action=rng.choice(actions),
                    changes={},
                    data={"object": {}},
                    actor="api_key:plans",
                    source="api",
                    created_at=start + datetime.timedelta(minutes=5 * n),
                )
                for n in range(1, EVENTS + 1)
            ),
            batch_size=5000,
        )
        Merchant.objects.filter(pk=merchant.pk).update(last_event_number=numbered + EVENTS)
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {CustomerEvent._meta.db_table}")
        yield {"customer": customer_ids[0], "day": (start + datetime.timedelta(days=300)).date()}


def event_queries(registry, path: str, query: dict) -> list[str]:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry['key']}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200, response.content[:500]
    table = CustomerEvent._meta.db_table
    return [q["sql"] for q in captured.captured_queries if f'FROM "{table}"' in q["sql"]]


def events_read(plan: dict) -> int:
    node, total = plan, 0
    if node.get("Relation Name") == CustomerEvent._meta.db_table:
        assert node["Node Type"] != "Seq Scan", f"a scan of every event: {json.dumps(plan)}"
        total += (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        ) * node["Actual Loops"]
    return total + sum(events_read(child) for child in node.get("Plans", []))


FEED_QUERIES = [
    {}, {"limit": 100}, {"type": "customer.updated"}, {"type": "customer.created"},
    {"type": "customer.deleted"}, {"type": "customer.created,customer.deleted"},
    {"created_after": "DAY"}, {"created_before": "2000-01-01"}, {"customer": "CUSTOMER"},
]  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("query", FEED_QUERIES, ids=urlencode)
def test_the_event_feed_reads_a_small_part_of_the_events_from_start_and_deep_in(
    registry, event_log, query
):
    query = {
        name: {"DAY": str(event_log["day"]), "CUSTOMER": str(event_log["customer"])}.get(v, v)
        for name, v in query.items()
    }
    client = Client(HTTP_AUTHORIZATION=f"Bearer {registry['key']}")
    deep = client.get("/api/v1/events", {"limit": 100}).json()["meta"]["next_cursor"]
    for _ in range(30):  # 3,000 events in
        deep = client.get("/api/v1/events", {"limit": 100, "cursor": deep}).json()["meta"][
            "next_cursor"
        ]
    for cursor in (None, deep):
        params = {**query, **({"cursor": cursor} if cursor else {})}
        for sql in event_queries(registry, "/api/v1/events", params):
            with connection.cursor() as cursor_:
                cursor_.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor_.fetchone()[0][0]["Plan"]
            read = events_read(plan)
            assert read <= EVENTS // 8, f"{read} events read by\n{sql}\n{json.dumps(plan)}"


@pytest.mark.django_db
def test_a_customers_events_read_only_that_customers(registry, event_log):
    path = f"/api/v1/customers/{event_log['customer']}/events"
    expected = CustomerEvent.objects.filter(customer_id=event_log["customer"]).count()
    for sql in event_queries(registry, path, {}):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0][0]["Plan"]
        assert events_read(plan) <= expected, json.dumps(plan)
