from io import StringIO

import phonenumbers
import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.test import RequestFactory

from customers.demo import DEMO_CUSTOMERS, generated_customers, insert_generated_customers
from customers.ids import uuid7
from customers.models import ApiKey, Customer, Merchant
from customers.services import api_key_authenticate

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().splitlines()


def test_create_merchant_prints_its_id_and_slug():
    lines = run("create_merchant", "Teranga Market")
    merchant = Merchant.objects.get()
    assert (merchant.name, merchant.slug) == ("Teranga Market", "teranga-market")
    assert lines == [
        "Created merchant 'Teranga Market'.",
        f"id:   {merchant.pk}",
        "slug: teranga-market",
    ]


def test_create_merchant_takes_a_slug_and_refuses_a_taken_one():
    run("create_merchant", "Teranga Market", "--slug", "teranga")
    with pytest.raises(CommandError, match=r"slug: Merchant with this Slug already exists\."):
        run("create_merchant", "Another", "--slug", "teranga")


def test_create_api_key_prints_a_key_that_authenticates_and_stores_only_its_hash(merchant):
    lines = run("create_api_key", "--merchant", merchant.slug, "--name", "Checkout backend")
    raw_key = lines[-1]
    api_key = ApiKey.objects.get()
    assert raw_key.startswith(f"ck_{api_key.prefix}_")
    assert api_key_authenticate(raw_key) == api_key
    secret = raw_key.split("_", 2)[2]
    stored = [
        str(v) for v in ApiKey.objects.values_list(*[f.attname for f in ApiKey._meta.fields]).get()
    ]
    assert not any(secret in value for value in stored)
    assert api_key.scopes == ["customers:read", "customers:write"]


def test_create_api_key_with_read_scope_only(merchant):
    lines = run(
        "create_api_key",
        "--merchant",
        merchant.slug,
        "--name",
        "Reports",
        "--scopes",
        "customers:read",
    )
    assert api_key_authenticate(lines[-1]).scopes == ["customers:read"]


def test_create_api_key_for_an_unknown_merchant_fails_clearly():
    with pytest.raises(CommandError, match=r"No merchant with slug 'nope'\."):
        run("create_api_key", "--merchant", "nope", "--name", "x")


def test_create_api_key_with_an_unknown_scope_fails_clearly(merchant):
    with pytest.raises(CommandError, match="Choose scopes among"):
        run("create_api_key", "--merchant", merchant.slug, "--name", "x", "--scopes", "everything")


def test_seed_demo_creates_merchant_customers_login_and_key():
    lines = run("seed_demo", "--password", "demo-pass-123")
    merchant = Merchant.objects.get(slug="demo")
    assert Customer.objects.filter(merchant=merchant).count() == len(DEMO_CUSTOMERS)
    assert {c.country for c in Customer.objects.all()} >= {"SN", "NG", "GH", "KE"}
    assert "  Username:  demo" in lines
    assert "  Password:  demo-pass-123" in lines
    assert (
        "  Dashboard: http://127.0.0.1:8000/   (log in at http://127.0.0.1:8000/accounts/login/)"
        in lines
    )
    # A login is always a request's: the lockout counts it by the client's address.
    user = authenticate(
        RequestFactory().post("/accounts/login/"), username="demo", password="demo-pass-123"
    )
    assert user.is_staff and user.groups.filter(name="Manager").exists()
    raw_key = next(line.split()[-1] for line in lines if line.startswith("  API key:"))
    assert api_key_authenticate(raw_key).merchant == merchant


def test_seed_demo_is_safe_to_rerun_and_keeps_one_live_key():
    run("seed_demo")
    lines = run("seed_demo")
    assert Customer.objects.count() == len(DEMO_CUSTOMERS)
    assert ApiKey.objects.filter(revoked_at=None).count() == 1
    raw_key = next(line.split()[-1] for line in lines if line.startswith("  API key:"))
    assert api_key_authenticate(raw_key) is not None


def test_seed_demo_generates_customers_in_bulk():
    lines = run("seed_demo", "--customers", "250")
    assert Customer.objects.count() == len(DEMO_CUSTOMERS) + 250
    assert any(line.startswith("Generated 250 customers in ") for line in lines)


def customers_table_schema() -> tuple[list, list]:
    """The customers table's indexes (with their columns' statistics targets) and constraints,
    as PostgreSQL describes them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), "
            "  array(SELECT a.attstattarget FROM pg_attribute a "
            "        WHERE a.attrelid = i.indexrelid ORDER BY a.attnum) "
            "FROM pg_index i WHERE i.indrelid = %s::regclass ORDER BY 1",
            [Customer._meta.db_table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY 1",
            [Customer._meta.db_table],
        )
        return indexes, cursor.fetchall()


@pytest.mark.postgres
def test_a_bulk_load_gives_back_every_index_constraint_and_statistics_target(merchant):
    before = customers_table_schema()
    assert len(before[0]) > 15 and any("FOREIGN KEY" in c[1] for c in before[1])
    insert_generated_customers(merchant, 50_000, seed=3)
    assert Customer.objects.filter(merchant=merchant).count() == 50_000
    assert customers_table_schema() == before


@pytest.mark.postgres
def test_a_bulk_load_of_rows_that_break_a_constraint_adds_nothing(merchant):
    before = customers_table_schema()
    unsaved = Merchant(pk=uuid7(), name="Nowhere", slug="nowhere")
    with pytest.raises(IntegrityError):
        insert_generated_customers(unsaved, 50_000, seed=4)
    assert Customer.objects.count() == 0
    assert customers_table_schema() == before


def test_demo_customers_pass_every_customer_rule(merchant):
    for customer in generated_customers(merchant, 300, seed=7):
        customer.full_clean(exclude=["merchant"])
        assert phonenumbers.is_valid_number(phonenumbers.parse(customer.phone))


def test_seed_demo_twice_with_generated_customers_never_collides():
    run("seed_demo", "--customers", "50")
    run("seed_demo", "--customers", "50")
    assert Customer.objects.count() == len(DEMO_CUSTOMERS) + 100
