"""The layout every export shares: the import's columns (the address spread over one column per
key), and cells a spreadsheet would run as formulas, or turn into numbers, made inert."""

import pytest
from django.db.models.functions import Length

from customers import csvio
from customers.csvio import EXPORT_COLUMNS, customer_row, export_values, safe_cell, unescape_cell
from customers.models import Customer
from customers.normalizers import ADDRESS_KEYS
from customers.services import EDITABLE_FIELDS
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_every_address_key_has_its_own_column_with_its_value(merchant):
    address = {key: f"{key} value" for key in ADDRESS_KEYS}
    customer = make_customer(merchant, address=address)

    row = dict(zip(EXPORT_COLUMNS, customer_row(customer), strict=True))

    assert {column: row[column] for column in row if column.startswith("address.")} == {
        f"address.{key}": f"{key} value" for key in ADDRESS_KEYS
    }


def test_a_row_holds_json_metadata_inert_formulas_and_phones_kept_as_text(merchant):
    customer = make_customer(
        merchant,
        name="=HYPERLINK(1)",
        phone="+221771234567",
        metadata={"tier": "gold", "score": 9.5},
    )

    row = dict(zip(EXPORT_COLUMNS, customer_row(customer), strict=True))

    assert row["name"] == "'=HYPERLINK(1)"
    assert row["phone"] == "'+221771234567"  # a spreadsheet would make it a number
    assert row["metadata"] == '{"tier":"gold","score":9.5}'
    assert row["address.city"] == ""
    assert "id" not in row and "created_at" not in row  # not columns an import can write


@pytest.mark.parametrize("value", ["=1+1", "+221771234567", "-5", "@x", "'=a", "''+1", "'plain"])
def test_an_inert_cell_reads_back_exactly(value):
    assert unescape_cell(safe_cell(value)) == value


def test_exported_values_are_those_the_orm_reads_whatever_the_chunk_size(merchant, monkeypatch):
    monkeypatch.setattr(csvio, "CHUNK_SIZE", 2)
    make_customer(
        merchant,
        name="Awa Diop",
        email="awa@example.com",
        address={key: f"{key} à Thiès" for key in ADDRESS_KEYS},
        metadata={"tier": "or", "score": 9.5, "vip": True, "visits": 12},
    )
    make_customer(merchant, name="Binta Sow", phone="+221779876543")
    make_customer(merchant, name="=Cheikh", email="cheikh@example.com", address={"city": "Dakar"})
    customers = Customer.objects.filter(merchant=merchant).order_by("name")

    assert list(export_values(customers)) == list(customers.values_list(*EDITABLE_FIELDS))
    assert list(export_values(customers.filter(pk__in=[]))) == []
    # A distinct query ordered by an expression selects a column more: read by Django's iterator.
    by_length = customers.distinct().order_by(Length("name"), "name")
    assert list(export_values(by_length)) == list(by_length.values_list(*EDITABLE_FIELDS))
