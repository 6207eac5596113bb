"""Customers from a file: CSV, JSON Lines or XLSX, with the API's column names or any of the
five providers' names for the same field, in their value shapes too.

The pieces, for the ``import_customers`` command and any other door that imports:

- ``read_file(source, filename)`` reads and checks the whole file once (encoding, structure,
  size of a cell), then gives its header and its rows, streamed;
- ``map_columns(header)`` maps every column to a field, or refuses the file naming what it
  cannot place (with a "did you mean");
- ``import_rows(merchant, table, columns, ...)`` sends the rows in batches through
  ``services.customers_import_batch`` (one transaction each) and writes the rejected rows to a
  rejects file; it returns the summary.

The rules of a customer are the model's, reached through the service: this module only turns
the file's cells into the API's fields.
"""

import codecs
import contextlib
import csv
import difflib
import io
import itertools
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import orjson
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from . import csvio
from .import_workers import validated_in_workers
from .models import Merchant
from .normalizers import ADDRESS_KEYS
from .services import (
    EDITABLE_FIELDS,
    IMPORT_CREATED,
    IMPORT_REJECTED,
    IMPORT_SKIPPED,
    IMPORT_UPDATED,
    Actor,
    ImportRow,
    SeenKeys,
    actor_label,
    customers_import_batch,
    customers_statistics_refresh,
)

#: Rows sent to the database together, each batch in one transaction.
BATCH_SIZE = 1000
#: The largest cell a CSV file may hold; a larger one refuses the file.
CELL_LIMIT = 16 * 1024 * 1024
#: How many rejected rows a summary lists (all of them are in the rejects file).
LISTED_REJECTS = 20
#: Once an import has written this many rows, then each time that number doubles, the
#: database's statistics are refreshed (``services.customers_statistics_refresh``).
STATISTICS_FROM = 5000
#: How many problems a message names (of a rejected row, of a refused header); the rest are
#: counted.
LISTED_PROBLEMS = 10

FORMATS = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}

csv.field_size_limit(max(csv.field_size_limit(), CELL_LIMIT + 1))


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says why, for a person to act on."""


Source = str | os.PathLike | IO[bytes]


@dataclass
class Table:
    """A file's header and its rows ``(row number, cells)``, read lazily, once."""

    format: str
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    total: int
    #: What a row number counts: ``row`` (spreadsheets, header is row 1) or ``line``.
    unit: str = "row"


# --- reading ----------------------------------------------------------------------------------


def read_file(source: Source, filename: str | None = None) -> Table:
    """The file's table, after a first pass that checks all of it: a file that cannot be read
    to its end is refused before anything is written."""
    name = filename or (os.fspath(source) if isinstance(source, str | os.PathLike) else "")
    fmt = FORMATS.get(Path(str(name)).suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise ImportRefused(
            _("%(name)s: unknown format; use %(known)s.")
            % {"name": Path(str(name)).name or _("The file"), "known": known}
        )
    opened = _open(source)
    opened.seek(0, io.SEEK_END)
    if opened.tell() == 0:
        raise ImportRefused(_("The file is empty (0 bytes): nothing to import."))
    opened.seek(0)
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "xlsx": _read_xlsx}[fmt]
    table = reader(opened)
    if not table.header:
        raise ImportRefused(_("The file has no header row naming its columns."))
    if not table.total:
        raise ImportRefused(_("The file has a header but no rows: nothing to import."))
    return table


def _open(source: Source) -> IO[bytes]:
    if isinstance(source, str | os.PathLike):
        try:
            return open(source, "rb")
        except OSError as error:
            raise ImportRefused(f"Cannot open {os.fspath(source)}: {error.strerror}.") from None
    return source


def _not_utf8(binary: IO[bytes]) -> ImportRefused:
    """The refusal of a file that is not UTF-8 text, naming its first byte that is not and the
    line that byte is on: the file is read again from its start for them (only a refused file
    pays for it)."""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line, byte, previous = 1, "", b""
    # The blocks, then the end of the file: a character it cuts short is an error there.
    for block in itertools.chain(iter(lambda: binary.read(1 << 16), b""), [b""]):
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as error:
            # Before the byte: this block, after the end of a character the last one began.
            line += _line_breaks(error.object[: error.start], previous)
            byte = error.object[error.start : error.start + 1].hex()
            break
        line += _line_breaks(block, previous)
        previous = block[-1:]
    return ImportRefused(
        _(
            "The file is not UTF-8 text (byte 0x%(byte)s on line %(line)s). Save it as UTF-8 "
            "(in Excel: CSV UTF-8) and import it again."
        )
        % {"byte": byte, "line": line}
    )


def _line_breaks(data: bytes, before: bytes) -> int:
    """How many lines end in ``data`` (which ``before`` came just before): at LF, CR LF, or a
    CR alone (the old Mac spreadsheets' CSV, in Mac Roman: a file that comes here)."""
    breaks = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")
    return breaks - (before == b"\r" and data[:1] == b"\n")


def _csv_lines(binary: IO[bytes]) -> io.TextIOWrapper:
    binary.seek(0)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="", errors="strict")


def _read_csv(binary: IO[bytes]) -> Table:
    text = _csv_lines(binary)
    try:
        first = text.readline()
        try:
            delimiter = csv.Sniffer().sniff(first, delimiters=",;").delimiter
        except csv.Error:
            delimiter = ","
        text.seek(0)
        records = csv.reader(text, delimiter=delimiter)
        header = _header(next(records, []))
        total = 0
        for record in records:
            if any(record):
                total += 1
    except UnicodeDecodeError:
        raise _not_utf8(binary) from None
    except csv.Error as error:
        raise ImportRefused(_csv_problem(error, records.line_num)) from None
    text.detach()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        lines = _csv_lines(binary)
        records = csv.reader(lines, delimiter=delimiter)
        next(records, None)
        for number, record in enumerate(records, start=2):
            if any(record):
                yield number, record

    return Table("csv", header, rows(), total)


def _csv_problem(error: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(error):
        return _("Line %(line)s has a cell larger than %(size)s MB.") % {
            "line": line,
            "size": CELL_LIMIT // 1024 // 1024,
        }
    return _("Line %(line)s is not valid CSV: %(error)s.") % {"line": line, "error": error}


def _header(cells: list[Any]) -> list[str]:
    names = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in cells]
    while names and not names[-1]:
        names.pop()
    return names


def _flatten(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted columns (``billing_address.zip_code``); metadata stays whole."""
    flat: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name.lower() != "metadata":
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


class _NotAnObject:
    """A line of a JSON Lines file that is no JSON object: rejected as it stands."""

    def __init__(self, text: str, problem: str):
        self.text, self.problem = text, problem


def _jsonl_records(binary: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | _NotAnObject]]:
    binary.seek(0)
    for number, raw in enumerate(binary, start=1):
        try:
            # No character spans a line break: each line is decoded whole, the last one too.
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(binary) from None
        line = line.lstrip("\ufeff").strip()
        if not line:
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            yield number, _NotAnObject(line, _("Not JSON: %(error)s.") % {"error": error})
            continue
        if isinstance(value, dict):
            yield number, _flatten(value)
        else:
            yield number, _NotAnObject(line, _("Not a JSON object: each line is one customer."))


def _read_jsonl(binary: IO[bytes]) -> Table:
    keys: dict[str, None] = {}
    total = 0
    for __, record in _jsonl_records(binary):
        total += 1
        if isinstance(record, dict):
            keys.update(dict.fromkeys(record))
    header = list(keys)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, record in _jsonl_records(binary):
            if isinstance(record, _NotAnObject):
                yield number, [record]
            else:
                # A JSON string is a value, never a formula: made inert as a spreadsheet's
                # text is, it reads back as it was.
                yield number, [_as_text_cell(record.get(key)) for key in header]

    return Table("jsonl", header, rows(), total, unit="line")


def _as_text_cell(value: Any) -> Any:
    return csvio.safe_cell(value) if isinstance(value, str) else value


def _read_xlsx(binary: IO[bytes]) -> Table:
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    unreadable = ImportRefused(
        _("The file is not a readable XLSX workbook (it may be truncated or another format).")
    )

    def sheet_rows():
        try:
            workbook = openpyxl.load_workbook(binary, read_only=True, data_only=False)
            sheet = workbook.worksheets[0]
            yield from sheet.iter_rows(values_only=True)
            workbook.close()
        except (zipfile.BadZipFile, InvalidFileException, KeyError, EOFError, OSError) as error:
            raise unreadable from error
        except Exception as error:  # a damaged workbook fails in many ways inside openpyxl
            if isinstance(error, ImportRefused):
                raise
            raise unreadable from error

    records = sheet_rows()
    header = _header(list(next(records, ())))
    total = sum(1 for record in records if any(cell not in (None, "") for cell in record))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        records = sheet_rows()
        next(records, None)
        for number, record in enumerate(records, start=2):
            if any(cell not in (None, "") for cell in record):
                yield number, list(record)

    return Table("xlsx", header, rows(), total)


# --- columns ----------------------------------------------------------------------------------


class _Missing:
    """A cell that gives nothing: the field is left out of the row."""


MISSING = _Missing()


def _key(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _text(value: Any) -> Any:
    if type(value) is str and value and value[0] not in "='":
        # The cells of a CSV file, nearly all of them: text that is no formula, not escaped.
        return value if not value[0].isspace() or value.strip() else MISSING
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime) and value.time() == time() and value.tzinfo is None:
        # A spreadsheet's date cell, which openpyxl gives as that day's midnight: the day.
        return value.date().isoformat()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError("Give text here, not a list or an object.")
    if value.startswith("="):
        raise ValueError(
            "This cell is a spreadsheet formula, not a value; put the value itself "
            "(or start the cell with ' to keep it as text)."
        )
    value = csvio.unescape_cell(value)
    return value if value.strip() else MISSING


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is MISSING:
        return MISSING
    lowered = text.strip().lower()
    if lowered in {"true", "yes", "y", "1"}:
        return True
    if lowered in {"false", "no", "n", "0"}:
        return False
    raise ValueError(f"Give true or false, not “{text[:50]}”.")


def _lower(value: Any) -> Any:
    text = _text(value)
    return text if text is MISSING else text.strip().lower().replace(" ", "_")


def _is_business(value: Any) -> Any:
    flag = _boolean(value)
    return flag if flag is MISSING else ("business" if flag else "individual")


def _blacklist(value: Any) -> Any:
    # Not blacklisted says nothing of the status (active, pending KYC…): the default stands.
    flag = _boolean(value)
    return "blocked" if flag is True else MISSING


def _active(value: Any) -> Any:
    flag = _boolean(value)
    return flag if flag is MISSING else ("active" if flag else "inactive")


def _metadata(value: Any) -> Any:
    if value is None or value == "":
        return MISSING
    if isinstance(value, dict):
        return value
    text = _text(value)
    if text is MISSING:
        return MISSING
    try:
        parsed = json.loads(text)
    except ValueError:
        raise ValueError('Give the metadata as a JSON object, e.g. {"tier": "gold"}.') from None
    if parsed is None or parsed == {}:
        return MISSING
    if not isinstance(parsed, dict):
        raise ValueError('Give the metadata as a JSON object, e.g. {"tier": "gold"}.')
    return parsed


def _metadata_value(value: Any) -> Any:
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool | int | float | Decimal):
        return value
    return _text(value)


Convert = Callable[[Any], Any]

#: Every column name the importer knows (compared without case, spaces as "_"), with the field
#: it fills (``address.<key>``, ``metadata``) and how its cells are read. The API's own names
#: first, then the providers' (``../shared/seeds/``).
COLUMNS: dict[str, tuple[str, Convert]] = {
    **{name: (name, _text) for name in EDITABLE_FIELDS if name not in {"address", "metadata"}},
    **{f"address.{key}": (f"address.{key}", _text) for key in ADDRESS_KEYS},
    "type": ("type", _lower),
    "status": ("status", _lower),
    "metadata": ("metadata", _metadata),
    # Exports before these columns were dotted.
    **{f"address_{key}": (f"address.{key}", _text) for key in ADDRESS_KEYS},
    # Provider documents.
    "phone_number": ("phone", _text),
    "whatsapp_number": ("whatsapp", _text),
    "address": ("address.line1", _text),
    "city": ("address.city", _text),
    "state": ("address.state", _text),
    "postal_code": ("address.postal_code", _text),
    "zip_code": ("address.postal_code", _text),
    "is_business": ("type", _is_business),
    "customer_type": ("type", _lower),
    "blacklist": ("status", _blacklist),
    "blacklisted": ("status", _blacklist),
    "is_active": ("status", _active),
    "active": ("status", _active),
    "externalid": ("reference", _text),
    "external_id": ("reference", _text),
    **{f"billing_address.{key}": (f"address.{key}", _text) for key in ADDRESS_KEYS},
    "billing_address.zip_code": ("address.postal_code", _text),
    "billing_address.country": ("country", _text),
}

#: Columns read from an export (ours or a provider's) that say nothing a customer can be
#: given: ids, timestamps, the door it came through, and a rejects file's ``error``.
IGNORED_COLUMNS = frozenset(
    {
        "id", "_id", "customer_id", "merchant_id", "organization_id", "source", "sourceorigin",
        "created_by", "created_at", "updated_at", "createdat", "updatedat", "error",
    }
)  # fmt: skip


@dataclass
class ColumnMap:
    """Where each column of a file goes: ``(position, column name, field, reader)``."""

    columns: list[tuple[int, str, str, Convert]]
    ignored: list[str] = field(default_factory=list)

    def column_of(self, target: str) -> str:
        """The file's name for a field (or its first part), to say where a problem is."""
        for __, name, where, ___ in self.columns:
            if where == target:
                return name
        head = target.split(".", 1)[0]
        for __, name, where, ___ in self.columns:
            if where.split(".", 1)[0] == head and "." not in target:
                return name
        return target

    def convert(self, cells: list[Any]) -> ImportRow:
        """The row's fields (``ImportRow.fields``) and the cells that could not be read."""
        fields: dict[str, Any] = {}
        errors: dict[str, list[ValidationError]] = {}
        for position, _name, target, convert in self.columns:
            raw = cells[position] if position < len(cells) else None
            try:
                value = convert(raw)
            except ValueError as error:
                errors[target] = [ValidationError(str(error), code="invalid_cell")]
                continue
            if value is MISSING:
                continue
            if "." in target:
                outer, key = target.split(".", 1)
                fields.setdefault(outer, {})[key] = value
            else:
                fields[target] = value
        return ImportRow(0, fields, errors)


def map_columns(header: list[str]) -> ColumnMap:
    """Each column's field, or ``ImportRefused`` naming every column that cannot be placed:
    an unknown one (with a "did you mean"), one without a name, one given twice, two that give
    the same field."""
    problems: list[str] = []
    columns: list[tuple[int, str, str, Convert]] = []
    ignored: list[str] = []
    seen_names: dict[str, int] = {}
    given: dict[str, str] = {}
    known = [name for name in COLUMNS if not name.startswith("address_")]
    for position, name in enumerate(header):
        if len(problems) > LISTED_PROBLEMS:
            # A header of thousands of unknown names: the first ones say what is wrong.
            problems.append(
                _("Column %(number)s and those after it were not checked.")
                % {"number": position + 1}
            )
            break
        key = _key(name)
        if not key:
            problems.append(_("Column %(number)s has no name.") % {"number": position + 1})
            continue
        if key in seen_names:
            problems.append(
                _(
                    "The column “%(name)s” appears twice (columns %(first)s and %(second)s); "
                    "keep one."
                )
                % {"name": name, "first": seen_names[key] + 1, "second": position + 1}
            )
            continue
        seen_names[key] = position
        if key in IGNORED_COLUMNS:
            ignored.append(name)
            continue
        if key in COLUMNS:
            target, convert = COLUMNS[key]
        elif key.startswith("metadata.") and len(key) > len("metadata."):
            # The key as written: metadata keys are case-sensitive.
            target, convert = f"metadata.{name.strip()[len('metadata.') :]}", _metadata_value
        else:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            if close:
                problem = _("Unknown column “%(name)s”; did you mean “%(close)s”?")
            else:
                problem = _("Unknown column “%(name)s”.")
            problems.append(problem % {"name": name, "close": close[0] if close else ""})
            continue
        if target in given:
            problems.append(
                _("The columns “%(first)s” and “%(second)s” both give %(field)s; keep one.")
                % {"first": given[target], "second": name, "field": target}
            )
            continue
        given[target] = name
        columns.append((position, name, target, convert))
    if "metadata" in given and any(t.startswith("metadata.") for t in given):
        problems.append(
            _(
                "Give the metadata either as one “metadata” column or as “metadata.<key>” "
                "columns, not both."
            )
        )
    if problems:
        raise ImportRefused(_("The file cannot be imported:") + "\n  " + "\n  ".join(problems))
    return ColumnMap(columns, ignored)


# --- importing --------------------------------------------------------------------------------


@dataclass
class ImportSummary:
    total: int = 0
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    #: The first rejected rows: ``(row number, error)``.
    rejects: list[tuple[int, str]] = field(default_factory=list)
    rejects_path: str | None = None

    def line(self) -> str:
        return (
            f"{self.read} rows read: {self.created} created, {self.updated} updated, "
            f"{self.skipped} skipped, {self.rejected} rejected."
        )


class RejectsWriter:
    """``<FILE>.rejects.csv``: each rejected row with its original cells and an ``error``
    column; written only once a row is rejected, replacing an older one."""

    def __init__(self, path: str, header: list[str]):
        self.path = path
        self.header = header
        self._file: IO[str] | None = None
        self._writer: Any = None
        if os.path.exists(path):
            os.remove(path)

    def write(self, cells: list[Any], error: str) -> None:
        if self._writer is None:
            self._file = open(self.path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow([*self.header, "error"])
        width = len(self.header)
        values = [_rejected_cell(cell) for cell in cells[:width]]
        values += [""] * (width - len(values))
        self._writer.writerow([*values, csvio.safe_cell(error)])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _rejected_cell(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, dict | list):
        return csvio.safe_cell(json.dumps(cell, ensure_ascii=False))
    if isinstance(cell, bool):
        return "true" if cell else "false"
    text = str(cell)
    # A formula refused by the import is kept as it was, inert.
    return csvio.safe_cell(text) if text.startswith("=") else text


def error_text(error: ValidationError | None, columns: ColumnMap) -> str:
    """A rejected row's problems, each named by the file's column: ``phone_number: …``."""
    from .api.exceptions import field_errors

    if error is None:
        return ""
    parts = []
    for target, items in field_errors(error).items():
        messages = " ".join(message for item in items for message in item.messages)
        if target == NON_FIELD_ERRORS:
            parts.append(messages)
        else:
            parts.append(
                _("%(column)s: %(problems)s")
                % {"column": columns.column_of(target), "problems": messages}
            )
    return "; ".join(_listed(parts))


def rejected_text(unit: str, number: int, problems: str) -> str:
    """How a rejected row is told, in the language in force: ``row 4: email: …``."""
    if unit == "line":
        return _("line %(number)s: %(problems)s") % {"number": number, "problems": problems}
    return _("row %(number)s: %(problems)s") % {"number": number, "problems": problems}


def _listed(problems: list[str]) -> list[str]:
    """The first ``LISTED_PROBLEMS`` problems, and how many more there are."""
    if len(problems) <= LISTED_PROBLEMS:
        return problems
    more = len(problems) - LISTED_PROBLEMS
    return [*problems[:LISTED_PROBLEMS], _("and %(count)s more problems") % {"count": more}]


def _chunks(
    rows: Iterator[tuple[int, list[Any]]], batch_size: int, resume_after: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    """The rows in batches: ``resume_after`` rows in batches of their own first (those an
    earlier run committed), then batches of ``batch_size``."""
    replaying = resume_after
    while chunk := list(itertools.islice(rows, min(batch_size, replaying) or batch_size)):
        replaying = max(0, replaying - len(chunk))
        yield chunk


def rows_of(chunk: list[tuple[int, list[Any]]], columns: ColumnMap, width: int) -> list[ImportRow]:
    """A batch's ``(row number, cells)`` as rows of fields, with the problems of their cells
    (``width``: how many columns the header names)."""
    rows = []
    for number, cells in chunk:
        if len(cells) == 1 and isinstance(cells[0], _NotAnObject):
            problem = ValidationError(cells[0].problem, code="invalid_line")
            row = ImportRow(number, {}, {NON_FIELD_ERRORS: [problem]}, unreadable=True)
        else:
            row = columns.convert(cells)
            row.number = number
            if len(cells) > width and any(cells[width:]):
                extra = ValidationError("The row has more cells than the header has columns.")
                row.errors[NON_FIELD_ERRORS] = [extra]
        rows.append(row)
    return rows


def import_rows(
    merchant: Merchant,
    table: Table,
    columns: ColumnMap,
    *,
    actor: Actor,
    dry_run: bool = False,
    update_existing: bool = False,
    rejects_path: str | None = None,
    progress: Callable[[int], object] | None = None,
    batch_size: int = BATCH_SIZE,
    summary: ImportSummary | None = None,
    resume_after: int = 0,
    workers: int = 0,
) -> ImportSummary:
    """Import ``table``'s rows into ``merchant`` batch by batch (each batch committed in one
    transaction); rejected rows go to ``rejects_path`` (not on a dry run). ``summary``, when
    given, is kept up to date as batches commit, so a caller interrupted midway can say what
    was done.

    ``progress`` is called after each batch, with its number of rows; when no row of the batch
    updates a customer, inside the batch's transaction, so that what it records (how far the
    import is, and its counts) commits exactly with the batch.

    ``resume_after``: that many rows were imported by an earlier run that stopped, and are in
    ``summary`` already. They are gone through again as a dry run (nothing written, nothing
    counted) so that a later row repeating one of them is still told so and their rejected
    rows are in the rejects file again; the rest is imported.

    ``workers``: the rows are validated by that many processes of their own
    (``import_workers``) while this one writes; the outcome is the same, row for row.
    """
    summary = summary if summary is not None else ImportSummary()
    summary.total = table.total
    seen = SeenKeys()
    rejects = RejectsWriter(rejects_path, table.header) if rejects_path and not dry_run else None
    width = len(table.header)
    chunks = _chunks(table.rows, batch_size, resume_after)
    validated: Iterator[tuple[list[tuple[int, list[Any]]], list | None]]
    if workers > 0:
        validated = validated_in_workers(
            chunks,
            workers=workers,
            merchant=merchant,
            actor=actor_label(actor),
            columns=columns,
            width=width,
        )
    else:
        validated = ((chunk, None) for chunk in chunks)
    replaying = resume_after
    written, refresh_at = 0, STATISTICS_FROM
    try:
        for chunk, built in validated:
            replay = replaying > 0
            replaying = max(0, replaying - len(chunk))
            cells_of = dict(chunk)
            rows = rows_of(chunk, columns, width) if built is None else None
            # Updates commit one by one (each locks its customer, then the merchant's events):
            # a batch with some is never held in one transaction.
            one_transaction = not (dry_run or replay or update_existing)
            with transaction.atomic() if one_transaction else contextlib.nullcontext():
                outcomes = customers_import_batch(
                    merchant=merchant,
                    rows=rows or [],
                    actor=actor,
                    update_existing=update_existing,
                    dry_run=dry_run or replay,
                    seen=seen,
                    validated=built,
                )
                for outcome in outcomes:
                    if not replay:
                        summary.read += 1
                    if outcome.result == IMPORT_REJECTED:
                        text = rejected_text(
                            table.unit, outcome.number, error_text(outcome.error, columns)
                        )
                        cells = cells_of[outcome.number]
                        if len(cells) == 1 and isinstance(cells[0], _NotAnObject):
                            cells = [cells[0].text]
                        if rejects is not None:
                            rejects.write(cells, text)
                            summary.rejects_path = rejects.path
                        if len(summary.rejects) < LISTED_REJECTS:
                            summary.rejects.append((outcome.number, text))
                    if replay:
                        continue
                    if outcome.result == IMPORT_CREATED:
                        summary.created += 1
                    elif outcome.result == IMPORT_UPDATED:
                        summary.updated += 1
                    elif outcome.result == IMPORT_SKIPPED:
                        summary.skipped += 1
                    elif outcome.result == IMPORT_REJECTED:
                        summary.rejected += 1
                if progress is not None:
                    progress(len(chunk))
            if not (dry_run or replay):
                written += sum(o.result in (IMPORT_CREATED, IMPORT_UPDATED) for o in outcomes)
                if written >= refresh_at:
                    customers_statistics_refresh()
                    refresh_at = 2 * written
    finally:
        if rejects is not None:
            rejects.close()
    return summary
