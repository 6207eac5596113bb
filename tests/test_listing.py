"""``first_rows``, the read of a first page, a cursor's page and one customer: the statement the
ORM would send and the customers it would build, for every filter and ordering of the list; the
ORM itself for any other queryset."""

import datetime

import pytest
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from customers.filtersets import CustomerFilterSet
from customers.ids import uuid7
from customers.listing import KeysetPosition, first_rows, plain_ordering
from customers.models import Customer, column_attnames
from customers.selectors import customer_of_caller, customers_for_caller
from tests.factories import make_api_key, make_customer, make_merchant, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers(merchant):
    make_customer(make_merchant(), name="Elsewhere", email="awa@example.com")
    return [
        make_customer(
            merchant, name="Awa Diallo", email="Awa@Example.com", phone="+221 77 000 00 01",
            country="SN", currency="XOF", address={"city": "Dakar", "line1": "12 rue 7"},
            metadata={"tier": "gold", "visits": 3},
        ),
        make_customer(
            merchant, name="Kofi Mensah", type="business", company="Mensah Ltd",
            email="kofi@example.com", country="GH", status="blocked", reference="K-1",
        ),
        make_customer(merchant, name="Zainab Bello", phone="+2348064101609", status="inactive"),
        make_customer(merchant, name="Yaw Diallo", email="yaw@example.com", country="SN"),
    ]  # fmt: skip


def filtered(merchant, **params) -> "QuerySet[Customer]":  # noqa: F821
    filterset = CustomerFilterSet(params, queryset=Customer.objects.filter(merchant=merchant))
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def read_both_ways(queryset, limit: int):
    """(statement, customers) of ``first_rows``, then of the ORM's ``queryset[:limit]``."""
    reads = []
    for read in (lambda: first_rows(queryset, limit), lambda: list(queryset[:limit])):
        with CaptureQueriesContext(connection) as queries:
            rows = read()
        reads.append(([query["sql"] for query in queries.captured_queries], rows))
    return reads


def columns(rows: list[Customer]) -> list[tuple]:
    return [tuple(getattr(row, name) for name in column_attnames(Customer)) for row in rows]


@pytest.mark.parametrize("ordering", list(CustomerFilterSet.ORDERINGS))
@pytest.mark.parametrize("after", [False, True], ids=["first page", "cursor page"])
def test_first_rows_sends_the_orm_statement_for_every_ordering(
    customers, merchant, ordering, after
):
    queryset = filtered(merchant, ordering=ordering)
    if after:
        position = KeysetPosition.after_row(ordering, queryset.first())
        queryset = queryset.filter(position.rows_after())

    (ours, our_rows), (orm, orm_rows) = read_both_ways(queryset, 3)

    assert tuple(plain_ordering(queryset)) == CustomerFilterSet.ORDERINGS[ordering]
    assert ours == orm and len(ours) == 1
    assert [row.pk for row in our_rows] == [row.pk for row in orm_rows] and our_rows
    assert columns(our_rows) == columns(orm_rows)


@pytest.mark.parametrize(
    "params",
    [
        {"email": "AWA@example.com"}, {"phone": "+221770000001"}, {"reference": "K-1"},
        {"type": "business"}, {"status": "active,blocked"}, {"is_active": "false"},
        {"country": "Senegal", "currency": "XOF"}, {"search": "diallo"}, {"search": "77 000 00"},
        {"created_after": "2000-01-01", "created_before": "2100-01-01"},
    ],
    ids=lambda params: "&".join(f"{name}={value}" for name, value in params.items()),
)  # fmt: skip
def test_first_rows_sends_the_orm_statement_for_every_filter(customers, merchant, params):
    queryset = filtered(merchant, **params)

    (ours, our_rows), (orm, orm_rows) = read_both_ways(queryset, 20)

    assert plain_ordering(queryset) is not None
    assert ours == orm and len(ours) == 1
    assert our_rows and columns(our_rows) == columns(orm_rows)


def test_a_customer_read_by_first_rows_is_one_read_from_the_database(customers):
    (customer,) = first_rows(Customer.objects.filter(pk=customers[0].pk), 1)

    assert customer.address == {"city": "Dakar", "line1": "12 rue 7"}
    assert customer.metadata == {"tier": "gold", "visits": 3}
    assert customer.merchant_id == customers[0].merchant_id
    assert customer.created_at == customers[0].created_at and customer.created_at.tzinfo
    assert not customer._state.adding and customer._state.db == "default"
    customer.name = "Awa Ndiaye"
    customer.save(update_fields=["name"])
    assert Customer.objects.get(pk=customer.pk).name == "Awa Ndiaye"


def test_first_rows_of_no_row_or_of_every_row(customers):
    with CaptureQueriesContext(connection) as queries:
        assert first_rows(Customer.objects.none(), 5) == []
    assert not queries.captured_queries

    (ours, our_rows), (orm, orm_rows) = read_both_ways(Customer.objects.all(), 10)
    assert ours == orm and columns(our_rows) == columns(orm_rows) and len(our_rows) == 5


@pytest.mark.parametrize(
    "reshape",
    [
        lambda rows: rows.select_related("merchant"),
        lambda rows: rows.filter(merchant__slug="teranga"),
        lambda rows: rows.annotate(mark=Value(1)),
        lambda rows: rows.only("name"),
        lambda rows: rows.order_by("merchant__name", "name"),
        lambda rows: rows.order_by(Value(1).asc(), "name"),
        lambda rows: rows.values("name"),
        lambda rows: rows.distinct(),
        lambda rows: rows.reverse(),
    ],
    ids=["joined", "filtered across", "annotated", "in part", "ordered across",
         "ordered by expression", "values", "distinct", "reversed"],
)  # fmt: skip
def test_any_other_queryset_is_read_by_the_orm(customers, merchant, reshape):
    queryset = reshape(Customer.objects.filter(merchant=merchant).order_by("name"))

    (ours, our_rows), (orm, orm_rows) = read_both_ways(queryset, 3)

    assert plain_ordering(queryset) is None
    assert ours == orm and our_rows == orm_rows and our_rows
    if isinstance(orm_rows[0], Customer):
        assert columns(our_rows) == columns(orm_rows)


def test_a_date_filter_reads_the_same_moments(customers, merchant):
    moment = customers[1].created_at
    queryset = filtered(merchant, created_after=moment.isoformat(), ordering="created_at")

    (ours, our_rows), (orm, orm_rows) = read_both_ways(queryset, 20)

    assert ours == orm and columns(our_rows) == columns(orm_rows)
    assert [row.pk for row in our_rows] == [row.pk for row in customers[1:]]
    assert all(row.created_at >= moment.astimezone(datetime.UTC) for row in our_rows)


def test_an_api_key_gets_a_fresh_queryset_of_its_merchant_on_each_request(customers, merchant):
    api_key, _ = make_api_key(merchant)
    other_key, _ = make_api_key(make_merchant())

    first = customers_for_caller(None, api_key)
    assert {row.pk for row in first} == {row.pk for row in customers}
    newcomer = make_customer(merchant, name="Newcomer")
    second = customers_for_caller(None, api_key)

    assert second is not first and second.query is not first.query
    assert newcomer.pk in {row.pk for row in second} and newcomer not in first  # first was read
    assert second.filter(name="Newcomer").count() == 1 and second.count() == len(customers) + 1
    assert not customers_for_caller(None, other_key).filter(pk=newcomer.pk).exists()


def test_one_customer_of_a_caller_is_read_in_one_statement_and_never_another_merchants(
    customers, merchant, django_assert_num_queries
):
    api_key, _ = make_api_key(merchant)
    stranger_key, _ = make_api_key(make_merchant())
    staff = make_user(merchant, group="Viewer")
    wanted = customers[0]

    with django_assert_num_queries(1):
        found = customer_of_caller(None, api_key, wanted.pk)

    assert columns([found]) == columns([Customer.objects.get(pk=wanted.pk)])
    assert not found._state.adding
    assert customer_of_caller(None, stranger_key, wanted.pk) is None
    assert customer_of_caller(None, api_key, uuid7()) is None
    assert customer_of_caller(staff, None, wanted.pk) == wanted
    assert customer_of_caller(make_user(make_merchant(), group="Viewer"), None, wanted.pk) is None
