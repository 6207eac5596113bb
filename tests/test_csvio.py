"""The CSV layout every export shares: one column per writable field, the address spread over
one column per key, and cells a spreadsheet would run as formulas made inert."""

import pytest

from customers.csvio import EXPORT_COLUMNS, customer_row
from customers.normalizers import ADDRESS_KEYS
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_every_address_key_has_its_own_column_with_its_value(merchant):
    address = {key: f"{key} value" for key in ADDRESS_KEYS}
    customer = make_customer(merchant, address=address)

    row = dict(zip(EXPORT_COLUMNS, customer_row(customer), strict=True))

    assert {column: row[column] for column in row if column.startswith("address_")} == {
        f"address_{key}": f"{key} value" for key in ADDRESS_KEYS
    }


def test_a_row_holds_ids_json_metadata_timestamps_and_inert_formulas(merchant):
    customer = make_customer(
        merchant,
        name="=HYPERLINK(1)",
        phone="+221771234567",
        metadata={"tier": "gold", "score": 9.5},
    )

    row = dict(zip(EXPORT_COLUMNS, customer_row(customer), strict=True))

    assert row["id"] == str(customer.pk)
    assert row["name"] == "'=HYPERLINK(1)"
    assert row["phone"] == "+221771234567"  # a phone number is no formula
    assert row["metadata"] == '{"tier": "gold", "score": 9.5}'
    assert row["address_city"] == ""
    assert row["created_at"] == customer.created_at.isoformat()
    assert row["source"] == "admin"
