"""The list's queries are served by indexes, checked on PostgreSQL's own query plans."""

import pytest
from django.db import connection

from customers.demo import generated_customers
from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from tests.factories import make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def plan_of(merchant, params) -> str:
    queryset = CustomerFilterSet(params, queryset=Customer.objects.filter(merchant=merchant)).qs
    sql, sql_params = queryset[:20].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def customers(merchant, other_merchant):
    """Enough rows, over two merchants, for the planner to prefer an index to a scan."""
    for owner in (merchant, other_merchant):
        Customer.objects.bulk_create(generated_customers(owner, 3000, seed=1), batch_size=1000)
    make_customer(
        merchant, name="Zyzzyva Qoph", email="zyzzyva@example.com", phone="+221770001122",
        reference="ZQ-1", company="Zyzzyva Holdings",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")


def test_search_uses_the_trigram_index_of_each_searched_column(merchant, customers):
    # Unscoped and with plain scans off, only an index that matches the emitted UPPER(col::text)
    # LIKE expression can serve the search: this checks the indexes fit the query.
    queryset = CustomerFilterSet({"search": "zyzzyva"}, queryset=Customer.objects.all()).qs
    sql, sql_params = queryset[:20].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for column in ("name", "email", "phone", "reference", "company"):
        assert f"Bitmap Index Scan on customer_{column}_trgm" in plan


def test_email_filter_uses_the_unique_lower_email_index(merchant, customers):
    assert "customer_unique_email_per_merchant" in plan_of(
        merchant, {"email": "ZYZZYVA@Example.com"}
    )


def test_reference_filter_uses_the_unique_reference_index(merchant, customers):
    assert "customer_unique_reference_per_merchant" in plan_of(merchant, {"reference": "ZQ-1"})


def test_default_order_walks_the_merchant_created_index(merchant, customers):
    plan = plan_of(merchant, {})
    assert "Index Scan Backward using customer_created_idx" in plan
    assert "Sort" not in plan


def test_phone_filter_uses_the_merchant_phone_index(merchant, customers):
    assert "customer_phone_idx" in plan_of(merchant, {"phone": "+221770001122"})
