"""Customers as files: one column layout and one writer for every export (dashboard, admin,
``export_customers``), whose columns are exactly the import's, so an export imports unchanged.

CSV starts with a UTF-8 byte order mark (spreadsheets then read the accents right). A cell a
spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) gets a leading ``'``: phone
numbers too, which a spreadsheet then keeps as text instead of turning ``+221771234567`` into a
number. The import takes that one ``'`` off again (``unescape_cell``).
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from django.core.exceptions import EmptyResultSet
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
#: Lines sent at a time by a CSV download.
PIECE_ROWS = 500

BOM = "\ufeff"

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection);
# so are those that already start with quotes before one, so that unescaping is exact.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")
#: The characters such a cell starts with: most cells start with none, and are passed as they
#: are without the pattern's work.
_FORMULA_FIRST = frozenset("'=+-@\t\r")


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet reads it as text."""
    if value and value[0] in _FORMULA_FIRST and _FORMULA.match(value):
        return "'" + value
    return value


def unescape_cell(value: str) -> str:
    """The value ``safe_cell`` made inert, as it was."""
    return value[1:] if value.startswith("'") and _FORMULA.match(value, 1) else value


_ADDRESS_AT = EDITABLE_FIELDS.index("address")
_METADATA_AT = EDITABLE_FIELDS.index("metadata")
assert EDITABLE_FIELDS[-1] == "metadata", "row_cells() writes the metadata last"
#: An address without one of its keys has an empty cell for it.
_NO_ADDRESS = ("",) * len(ADDRESS_KEYS)


def export_values(customers: QuerySet[Customer]) -> Iterator[tuple]:
    """The editable fields of ``customers``, streamed in chunks.

    The ORM writes the query and opens the cursor ``.iterator()`` would (a server-side one on
    PostgreSQL); the rows are read from it as they are, the two JSON columns decoded by orjson.
    Django's converters, applied to each row in Python, took two-thirds of an export's time.
    """
    queryset = customers.values_list(*EDITABLE_FIELDS)
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return
    columns = [expression for expression, _, _ in compiler.select]
    # Columns the query selects beyond the fields (to order a distinct query by an expression)
    # or any conversion besides the JSON's: Django's own iterator reads the rows.
    if compiler.has_extra_select or compiler.get_converters(columns) != _json_converters(columns):
        yield from queryset.iterator(chunk_size=CHUNK_SIZE)
        return
    loads = orjson.loads
    cursor = compiler.connection.chunked_cursor()
    try:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK_SIZE):
            for row in rows:
                address, metadata = row[_ADDRESS_AT], row[_METADATA_AT]
                yield (
                    *row[:_ADDRESS_AT],
                    None if address is None else loads(address),
                    *row[_ADDRESS_AT + 1 : _METADATA_AT],
                    None if metadata is None else loads(metadata),
                )
    finally:
        cursor.close()


def _json_converters(columns: list) -> dict[int, tuple[list, Any]]:
    """The converters Django gives ``columns`` when only the address and the metadata (JSON
    text as the database returns it) need one: their fields' ``from_db_value``."""
    return {
        at: ([columns[at].target.from_db_value], columns[at]) for at in (_ADDRESS_AT, _METADATA_AT)
    }


def row_cells(values: tuple) -> list[str]:
    """One customer's cells, in ``EXPORT_COLUMNS`` order, from its ``EDITABLE_FIELDS`` values."""
    address = values[_ADDRESS_AT] or {}
    metadata = values[_METADATA_AT]
    texts = (
        *values[:_ADDRESS_AT],
        *map(address.get, ADDRESS_KEYS, _NO_ADDRESS),
        *values[_ADDRESS_AT + 1 : _METADATA_AT],
    )
    # Only a cell that starts as a formula may need escaping (an export's hot loop).
    cells = [safe_cell(text) if text and text[0] in _FORMULA_FIRST else text for text in texts]
    cells.append(orjson.dumps(metadata).decode() if metadata else "")
    return cells


def customer_row(customer: Customer) -> list[str]:
    return row_cells(tuple(getattr(customer, name) for name in EDITABLE_FIELDS))


def row_object(values: tuple) -> dict[str, Any]:
    """One customer as a JSON Lines object: the fields it has, nested as the API nests them."""
    return {name: value for name, value in zip(EDITABLE_FIELDS, values, strict=True) if value}


def iter_csv(rows: Iterable[tuple]) -> Iterator[str]:
    """A byte order mark and the header, then a line per row of ``EDITABLE_FIELDS`` values, in
    pieces of ``PIECE_ROWS`` lines: a piece per line would cost a download a write to its
    socket per customer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(EXPORT_COLUMNS)
    for count, values in enumerate(rows, 1):
        writer.writerow(row_cells(values))
        if count % PIECE_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if rest := buffer.getvalue():
        yield rest


def write_csv(customers: QuerySet[Customer], out: IO[str]) -> int:
    """``customers`` as CSV into ``out`` (the download's file), streamed; returns how many rows
    were written."""
    count = 0

    def counted(rows: Iterable[tuple]) -> Iterator[tuple]:
        nonlocal count
        for values in rows:
            count += 1
            yield values

    out.writelines(iter_csv(counted(export_values(customers))))
    return count


def write_jsonl(customers: QuerySet[Customer], out: IO[str]) -> int:
    """``customers`` as JSON Lines into ``out``, streamed; returns how many were written."""
    count = 0
    for values in export_values(customers):
        out.write(orjson.dumps(row_object(values)).decode())
        out.write("\n")
        count += 1
    return count


def csv_response(customers: QuerySet[Customer]) -> StreamingHttpResponse:
    """The customers as a CSV download, streamed in chunks, named by the time of the export."""
    filename = f"customers-{timezone.now():%Y%m%d-%H%M%S}.csv"
    return StreamingHttpResponse(
        iter_csv(export_values(customers)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
