"""Customers as CSV rows: one column layout for every export (dashboard, admin, command)."""

import csv
import json
from collections.abc import Iterable, Iterator

from .models import Customer
from .normalizers import ADDRESS_KEYS
from .services import EDITABLE_FIELDS

EXPORT_COLUMNS = (
    "id",
    *(
        column
        for field in EDITABLE_FIELDS
        for column in (
            [f"address_{key}" for key in ADDRESS_KEYS] if field == "address" else [field]
        )
    ),
    "source",
    "created_by",
    "created_at",
    "updated_at",
)

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str) -> str:
    if value and value.startswith(_FORMULA_STARTS) and not _is_phone(value):
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def customer_row(customer: Customer) -> list[str]:
    address = customer.address or {}
    values = {
        "id": str(customer.pk),
        "address_line1": address.get("line1", ""),
        "address_line2": address.get("line2", ""),
        "address_city": address.get("city", ""),
        "address_state": address.get("state", ""),
        "address_postal_code": address.get("postal_code", ""),
        "metadata": json.dumps(customer.metadata, ensure_ascii=False) if customer.metadata else "",
        "created_at": customer.created_at.isoformat(),
        "updated_at": customer.updated_at.isoformat(),
    }
    return [_safe(str(values[c] if c in values else getattr(customer, c))) for c in EXPORT_COLUMNS]


class _Echo:
    """A file-like object whose write returns the line, for streaming through csv.writer."""

    def write(self, value: str) -> str:
        return value


def iter_csv(customers: Iterable[Customer]) -> Iterator[str]:
    """The header, then one line per customer. Pass ``queryset.iterator()`` for big exports:
    nothing is held in memory but the current chunk."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for customer in customers:
        yield writer.writerow(customer_row(customer))
