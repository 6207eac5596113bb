"""Customers as files: one column layout and one writer for every export (dashboard, admin,
``export_customers``), whose columns are exactly the import's, so an export imports unchanged.

CSV starts with a UTF-8 byte order mark (spreadsheets then read the accents right). A cell a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) gets a leading ``'``: phone
numbers too, which a spreadsheet then keeps as text instead of turning ``+221771234567`` into a
number. The import takes that one ``'`` off again (``unescape_cell``).
"""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from .models import Customer
from .normalizers import ADDRESS_KEYS
from .services import EDITABLE_FIELDS

#: The address is spread over one column per key: ``address.city``.
ADDRESS_COLUMNS = tuple(f"address.{key}" for key in ADDRESS_KEYS)

#: The columns of every export and the API names the import reads, in display order.
EXPORT_COLUMNS = tuple(
    column
    for name in EDITABLE_FIELDS
    for column in (ADDRESS_COLUMNS if name == "address" else [name])
)

#: Rows fetched from the database at a time: a large export never sits in memory.
CHUNK_SIZE = 5000

BOM = "\ufeff"

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection);
# so are those that already start with quotes before one, so that unescaping is exact.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet reads it as text."""
    return "'" + value if value and _FORMULA.match(value) else value


def unescape_cell(value: str) -> str:
    """The value ``safe_cell`` made inert, as it was."""
    return value[1:] if value.startswith("'") and _FORMULA.match(value, 1) else value


def _values(customers: QuerySet[Customer]) -> Iterator[tuple]:
    """The editable fields of ``customers``, streamed in chunks."""
    return customers.values_list(*EDITABLE_FIELDS).iterator(chunk_size=CHUNK_SIZE)


_ADDRESS_AT = EDITABLE_FIELDS.index("address")
_METADATA_AT = EDITABLE_FIELDS.index("metadata")


def row_cells(values: tuple) -> list[str]:
    """One customer's cells, in ``EXPORT_COLUMNS`` order, from its ``EDITABLE_FIELDS`` values."""
    cells: list[str] = []
    for index, value in enumerate(values):
        if index == _ADDRESS_AT:
            address = value or {}
            cells.extend(safe_cell(address.get(key, "")) for key in ADDRESS_KEYS)
        elif index == _METADATA_AT:
            cells.append(orjson.dumps(value).decode() if value else "")
        else:
            cells.append(safe_cell(value))
    return cells


def customer_row(customer: Customer) -> list[str]:
    return row_cells(tuple(getattr(customer, name) for name in EDITABLE_FIELDS))


def row_object(values: tuple) -> dict[str, Any]:
    """One customer as a JSON Lines object: the fields it has, nested as the API nests them."""
    return {name: value for name, value in zip(EDITABLE_FIELDS, values, strict=True) if value}


class _Echo:
    """A file-like object whose write returns the line, for streaming through csv.writer."""

    def write(self, value: str) -> str:
        return value


def iter_csv(rows: Iterable[tuple]) -> Iterator[str]:
    """A byte order mark and the header, then one line per row of ``EDITABLE_FIELDS`` values."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(EXPORT_COLUMNS)
    for values in rows:
        yield writer.writerow(row_cells(values))


def write_csv(customers: QuerySet[Customer], out: IO[str]) -> int:
    """``customers`` as CSV into ``out``, streamed; returns how many rows were written."""
    writer = csv.writer(out)
    out.write(BOM)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for values in _values(customers):
        writer.writerow(row_cells(values))
        count += 1
    return count


def write_jsonl(customers: QuerySet[Customer], out: IO[str]) -> int:
    """``customers`` as JSON Lines into ``out``, streamed; returns how many were written."""
    count = 0
    for values in _values(customers):
        out.write(orjson.dumps(row_object(values)).decode())
        out.write("\n")
        count += 1
    return count


def csv_response(customers: QuerySet[Customer]) -> StreamingHttpResponse:
    """The customers as a CSV download, streamed in chunks, named by the time of the export."""
    filename = f"customers-{timezone.now():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        iter_csv(_values(customers)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
