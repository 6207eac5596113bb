"""Customers as CSV: one column layout and one streamed response for every export (dashboard,
admin, command)."""

import csv
import datetime
import json
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Customer
from .normalizers import ADDRESS_KEYS
from .services import EDITABLE_FIELDS

#: The address is spread over one column per key: ``address_city`` → ``city``.
ADDRESS_COLUMNS = {f"address_{key}": key for key in ADDRESS_KEYS}

EXPORT_COLUMNS = (
    "id",
    *(
        column
        for field in EDITABLE_FIELDS
        for column in (ADDRESS_COLUMNS if field == "address" else [field])
    ),
    "source",
    "created_by",
    "created_at",
    "updated_at",
)

#: Rows fetched from the database at a time: a large export never sits in memory.
CHUNK_SIZE = 2000

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: str) -> str:
    if value and value.startswith(_FORMULA_STARTS) and not _is_phone(value):
        return "'" + value
    return value


def _is_phone(value: str) -> bool:
    return value.startswith("+") and value[1:].isdigit()


def _cell(customer: Customer, column: str) -> str:
    if column in ADDRESS_COLUMNS:
        return (customer.address or {}).get(ADDRESS_COLUMNS[column], "")
    if column == "metadata":
        return json.dumps(customer.metadata, ensure_ascii=False) if customer.metadata else ""
    value = customer.pk if column == "id" else getattr(customer, column)
    return value.isoformat() if isinstance(value, datetime.datetime) else str(value)


def customer_row(customer: Customer) -> list[str]:
    return [_safe(_cell(customer, column)) for column in EXPORT_COLUMNS]


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


def csv_response(customers: QuerySet[Customer]) -> StreamingHttpResponse:
    """The customers as a CSV download, streamed in chunks, named by the time of the export."""
    filename = f"customers-{timezone.now():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        iter_csv(customers.iterator(chunk_size=CHUNK_SIZE)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
