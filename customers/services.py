"""Every write to the registry goes through these functions, whatever the door.

They set ``source`` and ``created_by``, run the model's validation, record the history, and turn a
database refusal on a unique constraint into the same "duplicate" error that validation gives, so
a race between two requests ends as a clean 409, never a 500.
"""

import bisect
import contextlib
import heapq
import json
import re
import secrets
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

import orjson
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, models, router, transaction
from django.db.models import Count, F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify

from webhooks.services import deliveries_record, deliveries_record_many

from .exceptions import CustomerNotFound, StaleVersion
from .ids import uuid7
from .models import (
    ApiKey,
    Customer,
    CustomerCount,
    CustomerEvent,
    Merchant,
    WholeRows,
    new_instance,
)
from .representation import customer_json

#: Fields a client may write, in display order.
EDITABLE_FIELDS = (
    "reference",
    "type",
    "name",
    "first_name",
    "last_name",
    "company",
    "email",
    "phone",
    "whatsapp",
    "country",
    "address",
    "currency",
    "website",
    "description",
    "status",
    "metadata",
)

#: ``ck_<8 hex>_<secret>``: anything else is refused before the database is asked.
API_KEY_FORMAT = re.compile(rf"ck_[0-9a-f]{{{ApiKey.PREFIX_LENGTH}}}_[A-Za-z0-9_-]{{1,128}}")

#: ``last_used_at`` is written at most this often per key, not on every request.
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)

#: Who answers for a change: a staff user, an API key, or a label already made.
Actor = AbstractBaseUser | AnonymousUser | ApiKey | str


def actor_label(actor: Actor) -> str:
    """``user:<username>`` or ``api_key:<prefix>``; a string is taken as already a label."""
    if isinstance(actor, str):
        return actor
    if isinstance(actor, ApiKey):
        return f"api_key:{actor.prefix}"
    if not actor.is_authenticated:
        raise ValueError("Changes are made by someone: an anonymous user cannot make one.")
    return f"user:{actor.get_username()}"


def _duplicate_error(error: IntegrityError) -> ValidationError | None:
    """The validation error for a unique constraint the database enforced, if it was one: the
    same field, message and code as the model's own check of that constraint."""
    cause = error.__cause__
    constraint_name = getattr(getattr(cause, "diag", None), "constraint_name", None)  # PostgreSQL
    text = str(error)
    for constraint in Customer._meta.constraints:
        field = Customer.UNIQUE_FIELDS.get(constraint.name)
        # SQLite names an expression index, or the columns of a plain one.
        if field and (
            constraint_name == constraint.name
            or constraint.name in text
            or f"customers_customer.{field}" in text
        ):
            message = constraint.get_violation_error_message()
            code = constraint.violation_error_code
            return ValidationError({field: ValidationError(message, code=code)})
    return None


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {field: getattr(customer, field) for field in EDITABLE_FIELDS}


def _next_event(merchant_id) -> tuple[int, datetime]:
    """The number and time of the merchant's next event: ``_next_events`` for one."""
    return _next_events(merchant_id, 1)


def _next_events(merchant_id, count: int) -> tuple[int, datetime]:
    """The first of the numbers of the merchant's next ``count`` events, and their time, its
    row locked until the transaction ends; the time is now, or the previous event's if a clock
    is behind.

    Taken as the last step of every write, so no writer ever waits for another while holding
    this lock: writes of one merchant then commit in the order of their numbers, and a reader
    that has seen number n has seen every event before it (the feed's promise). The lock lets
    concurrent inserts of the merchant's customers through (their foreign key checks share it).
    """
    merchant = (
        Merchant.objects.select_for_update(no_key=True)
        .only("last_event_number", "last_event_at")
        .get(pk=merchant_id)
    )
    number = merchant.last_event_number + 1
    moment = timezone.now()
    if merchant.last_event_at is not None:
        moment = max(moment, merchant.last_event_at)
    Merchant.objects.filter(pk=merchant_id).update(
        last_event_number=number + count - 1, last_event_at=moment
    )
    return number, moment


def _record(
    customer: Customer,
    action: str,
    changes: dict,
    actor: Actor,
    source: str,
    *,
    previous: dict[str, Any] | None = None,
    reason: str = "",
) -> CustomerEvent:
    """Record a change: its history line, and its event with the customer as the API renders
    it now (``previous``: the API's rendering before an update, whose changed fields become
    ``previous_attributes``)."""
    data: dict[str, Any] = {"object": customer_json(customer)}
    if previous is not None:
        data["previous_attributes"] = {field: previous[field] for field in changes}
    number, moment = _next_event(customer.merchant_id)
    event = CustomerEvent.objects.create(
        merchant_id=customer.merchant_id,
        number=number,
        created_at=moment,
        customer_id=customer.pk,
        action=action,
        changes=changes,
        data=data,
        actor=actor_label(actor),
        source=source,
        reason=reason,
    )
    deliveries_record(event)
    return event


def _counted(customer: Customer | dict[str, Any]) -> tuple[str, str]:
    """The counter a customer falls under: its (status, type)."""
    if isinstance(customer, dict):
        return customer["status"], customer["type"]
    return customer.status, customer.type


def _count(merchant_id, changes: Counter[tuple[str, str]]) -> None:
    """Move the merchant's counts by ``changes`` ((status, type) → how many more or fewer).

    Inside the write's transaction, so a count moves exactly when its customer does. The rows
    are touched in one fixed order, so two writers never wait for each other crosswise.
    """
    for (status, type_), delta in sorted(changes.items()):
        if not delta:
            continue
        rows = CustomerCount.objects.filter(merchant_id=merchant_id, status=status, type=type_)
        if rows.update(count=F("count") + delta):
            continue
        try:
            with transaction.atomic():
                CustomerCount.objects.create(
                    merchant_id=merchant_id, status=status, type=type_, count=delta
                )
        except IntegrityError:  # another writer created the row meanwhile
            rows.update(count=F("count") + delta)


def _locked(pk) -> Customer:
    """The customer as stored now, locked until the transaction ends."""
    customer = Customer.objects.select_for_update().filter(pk=pk).first()
    if customer is None:
        raise CustomerNotFound
    return customer


def customer_create(*, merchant: Merchant, actor: Actor, source: str, **fields) -> Customer:
    """Validate and insert a customer of ``merchant``; record its creation and count it."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"customer_create() got unexpected fields: {', '.join(sorted(unknown))}")
    customer = Customer(merchant=merchant, source=source, created_by=actor_label(actor), **fields)
    customer.full_clean()
    customer.created_at = customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            customer.save(force_insert=True)
            _count(customer.merchant_id, Counter({_counted(customer): 1}))
            _record(customer, CustomerEvent.Action.CREATED, _snapshot(customer), actor, source)
    except IntegrityError as error:
        raise (_duplicate_error(error) or error) from error
    return customer


def customer_update(
    *,
    customer: Customer,
    actor: Actor,
    source: str,
    data: dict[str, Any],
    expected_version: int | None = None,
    reason: str = "",
) -> Customer:
    """Change the given fields of ``customer`` and record what changed (and ``reason``, why,
    when one is given).

    With ``expected_version``, the write happens only if the stored customer still has that
    version (one conditional UPDATE), so what the caller read is what it changes; otherwise
    ``StaleVersion`` and nothing changes. Without it, the change applies to the customer as
    stored now: its row is read again and locked until the change commits. Either way the
    history and the counts start from what was stored. A customer deleted meanwhile is
    ``CustomerNotFound``.
    """
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unexpected fields: {', '.join(sorted(unknown))}")
    try:
        with transaction.atomic():
            if expected_version is None:
                customer = _locked(customer.pk)
            before = _snapshot(customer)
            previous = customer_json(customer)
            name_follows = customer.name_is_derived
            for field, value in data.items():
                setattr(customer, field, value)
            if name_follows and customer.name == before["name"] and customer.first_name:
                # A name made of the first and last name follows them; a chosen one stays.
                customer.name = Customer.derived_name(customer.first_name, customer.last_name)
            customer.full_clean()
            after = _snapshot(customer)
            changed = {f: [before[f], after[f]] for f in EDITABLE_FIELDS if before[f] != after[f]}
            rows = Customer.objects.filter(pk=customer.pk)
            if expected_version is not None:
                rows = rows.filter(version=expected_version)
            if not changed:
                if expected_version is not None and not rows.exists():
                    _raise_missed(customer, expected_version)
                return customer
            now = timezone.now()
            values = {field: after[field] for field in changed}
            if not rows.update(**values, updated_at=now, version=F("version") + 1):
                _raise_missed(customer, expected_version)
            customer.updated_at = now
            customer.version = (expected_version or customer.version) + 1
            if _counted(before) != _counted(after):
                _count(customer.merchant_id, Counter({_counted(before): -1, _counted(after): 1}))
            action = (
                CustomerEvent.Action.STATUS_CHANGED
                if set(changed) == {"status"}
                else CustomerEvent.Action.UPDATED
            )
            _record(customer, action, changed, actor, source, previous=previous, reason=reason)
    except IntegrityError as error:
        raise (_duplicate_error(error) or error) from error
    return customer


def _raise_missed(customer: Customer, expected_version: int | None):
    """A conditional write touched no row: the customer changed, or it is gone."""
    if expected_version is not None and Customer.objects.filter(pk=customer.pk).exists():
        raise StaleVersion
    raise CustomerNotFound


def customer_set_status(
    *, customer: Customer, status: str, actor: Actor, source: str, reason: str = ""
) -> Customer:
    """Block, activate or otherwise move a customer to ``status``, saying why if one knows
    (the dashboard asks a reason to block)."""
    return customer_update(
        customer=customer, actor=actor, source=source, data={"status": status}, reason=reason
    )


def customer_delete(
    *, customer: Customer, actor: Actor, source: str, expected_version: int | None = None
) -> None:
    """Delete ``customer``; its history stays, with a last line saying who deleted it and what
    it was when it went. With ``expected_version``, only if it still has that version."""
    with transaction.atomic():
        stored = _locked(customer.pk)
        if expected_version is not None and stored.version != expected_version:
            raise StaleVersion
        Customer.objects.filter(pk=stored.pk).delete()
        _count(stored.merchant_id, Counter({_counted(stored): -1}))
        _record(stored, CustomerEvent.Action.DELETED, _snapshot(stored), actor, source)


# --- imports -------------------------------------------------------------------------------

#: What became of one imported row.
IMPORT_CREATED, IMPORT_UPDATED, IMPORT_SKIPPED, IMPORT_REJECTED = (
    "created",
    "updated",
    "skipped",
    "rejected",
)


@dataclass
class ImportRow:
    """One row of an import: where it is in the file, its fields as the API names them, and
    the problems met reading the values that are not among them. An ``unreadable`` row gave no
    fields at all (a line that is no JSON object): it is refused for that alone, not as a
    customer missing every field."""

    number: int
    fields: dict[str, Any]
    errors: dict[str, list[ValidationError]] = field(default_factory=dict)
    unreadable: bool = False


@dataclass
class ImportOutcome:
    number: int
    result: str
    error: ValidationError | None = None
    customer_id: Any = None


class SeenKeys:
    """The references and emails of the rows of one file taken so far: a later row with one
    of them duplicates an earlier one. Held as 64-bit hashes, not the values: the latest in a
    set, the others in sorted arrays of 8 bytes a hash, merged as they double (a Python set
    costs some 60 bytes a hash: 120 MB for the two million keys of a million rows, 16 MB so).
    """

    #: Hashes kept in the set before they go to a sorted array.
    RECENT = 65_536

    def __init__(self) -> None:
        self._recent: set[int] = set()
        #: Sorted arrays, each at least twice as long as the next one.
        self._sorted: list[array] = []

    def __contains__(self, key: tuple[str, str]) -> bool:
        value = hash(key)
        if value in self._recent:
            return True
        for hashes in self._sorted:
            at = bisect.bisect_left(hashes, value)
            if at < len(hashes) and hashes[at] == value:
                return True
        return False

    def add(self, key: tuple[str, str]) -> None:
        self._recent.add(hash(key))
        if len(self._recent) >= self.RECENT:
            merged = array("q", sorted(self._recent))
            self._recent = set()
            while self._sorted and len(self._sorted[-1]) <= 2 * len(merged):
                merged = array("q", heapq.merge(self._sorted.pop(), merged))
            self._sorted.append(merged)


#: What a row that repeats an earlier row's reference or email is told.
DUPLICATE_ROW_MESSAGE = "An earlier row of this file has the same %(field)s."


def _import_keys(customer: Customer) -> list[tuple[str, str]]:
    keys = []
    if customer.reference:
        keys.append(("reference", customer.reference))
    if customer.email:
        keys.append(("email", customer.email.lower()))
    return keys


def _existing(merchant: Merchant, candidates: list[Customer], full: bool) -> dict:
    """The merchant's customers that share a reference, email or phone with ``candidates``,
    by ``("reference" | "email" | "phone", value)``: three indexed queries per batch."""
    customers = Customer.objects.filter(merchant=merchant).order_by("created_at", "id")
    if not full:
        customers = customers.only("id", "reference", "email", "phone", "created_at")
    found: dict[tuple[str, str], Customer] = {}
    references = {c.reference for c in candidates if c.reference}
    emails = {c.email.lower() for c in candidates if c.email}
    # A phone is a key only when the row has neither reference nor email.
    phones = {c.phone for c in candidates if c.phone and not c.reference and not c.email}
    if references:
        # The conditions of the partial unique indexes, said again, so that they serve.
        for customer in customers.exclude(reference="").filter(reference__in=_one_of(references)):
            found.setdefault(("reference", customer.reference), customer)
    if emails:
        for customer in (
            customers.exclude(email="")
            .alias(email_lower=Lower("email"))
            .filter(email_lower__in=_one_of(emails))
        ):
            found.setdefault(("email", customer.email.lower()), customer)
    if phones:
        for customer in customers.filter(phone__in=_one_of(phones)):
            found.setdefault(("phone", customer.phone), customer)
    return found


def _one_of(values: set[str]) -> set[str] | RawSQL:
    """``values`` as the right side of an ``__in`` lookup. PostgreSQL gets them as one array,
    unnested: a list of a thousand values costs Django and psycopg a placeholder each, and the
    planner an estimate each (9 ms to plan a batch's email lookup against the statistics of
    the lower-cased emails, half a millisecond this way), for the same probes of the index."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::text[])", [list(values)])
    return values


def _duplicate_of_existing(field_name: str) -> ValidationError:
    """The model's own refusal of a second customer with this ``field_name``'s value."""
    for constraint in Customer._meta.constraints:
        if Customer.UNIQUE_FIELDS.get(constraint.name) == field_name:
            return ValidationError(
                {
                    field_name: ValidationError(
                        constraint.get_violation_error_message(),
                        code=constraint.violation_error_code,
                    )
                }
            )
    raise LookupError(field_name)


#: A row of an import validated: the row, the customer it makes, and its problems by field.
ValidatedRow = tuple[ImportRow, Customer, dict[str, list[ValidationError]]]


def customers_import_validate(
    *, merchant: Merchant, rows: Iterable[ImportRow], actor: Actor
) -> list[ValidatedRow]:
    """Each row as the customer it would make, validated by the model (``full_clean``) exactly
    as a create is, with its problems. Nothing is asked of the database: this may run in a
    process of its own (``customers.import_workers``)."""
    label = actor_label(actor)
    source = Customer.Source.IMPORT
    editable = set(EDITABLE_FIELDS)
    remember_merchant = Customer.merchant.field.set_cached_value
    built: list[ValidatedRow] = []
    for row in rows:
        unknown = set(row.fields) - editable
        if unknown:
            raise TypeError(f"Unexpected fields: {', '.join(sorted(unknown))}")
        customer = new_instance(
            Customer, merchant_id=merchant.pk, source=source, created_by=label, **row.fields
        )
        remember_merchant(customer, merchant)
        errors: dict[str, list[ValidationError]] = {}
        if not row.unreadable:
            try:
                # Uniqueness is checked below for the whole batch at once.
                customer.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                errors = dict(error.error_dict)
        errors.update(row.errors)
        built.append((row, customer, errors))
    return built


def customers_import_batch(
    *,
    merchant: Merchant,
    rows: Iterable[ImportRow],
    actor: Actor,
    update_existing: bool = False,
    dry_run: bool = False,
    seen: SeenKeys | None = None,
    validated: list[ValidatedRow] | None = None,
) -> list[ImportOutcome]:
    """Import a batch of rows into ``merchant``: what ``customer_create`` does for each row, in
    one transaction and a handful of queries for the whole batch.

    Each row is validated by the model (``customers_import_validate``, unless ``validated``
    gives its result already), exactly as a create is. A row whose reference (else email, else
    phone) is an existing customer's is skipped, or with ``update_existing`` goes through
    ``customer_update``. A row repeating the reference or email of an earlier row of the file
    (``seen``) is rejected. The new customers are inserted together, counted once and get
    their ``customer.created`` events (numbers taken once, under the merchant's lock) and
    webhook deliveries. Should another writer take one of their emails or references
    meanwhile, the rows are created one by one instead, and a row that collides is rejected.
    ``dry_run`` decides every row the same way and writes nothing.
    """
    seen = seen if seen is not None else SeenKeys()
    if validated is None:
        rows = list(rows)
        built = customers_import_validate(merchant=merchant, rows=rows, actor=actor)
    else:
        built = validated
        rows = [row for row, _, _ in built]

    existing = _existing(merchant, [c for _, c, _ in built], full=update_existing)
    outcomes: dict[int, ImportOutcome] = {}
    creates: list[tuple[ImportRow, Customer]] = []
    updates: list[tuple[ImportRow, Customer]] = []
    for row, customer, errors in built:
        key_field = next((f for f in ("reference", "email", "phone") if row.fields.get(f)), None)
        if key_field is None or key_field in errors:
            outcomes[row.number] = _rejected(row, errors)
            continue
        keys = _import_keys(customer)
        repeated = next((kind for kind, value in keys if (kind, value) in seen), None)
        if repeated:
            message = DUPLICATE_ROW_MESSAGE % {"field": repeated}
            refusal = ValidationError({repeated: ValidationError(message, code="duplicate_row")})
            outcomes[row.number] = ImportOutcome(row.number, IMPORT_REJECTED, refusal)
            continue
        value = getattr(customer, key_field)
        match = existing.get((key_field, value.lower() if key_field == "email" else value))
        if match is None and not errors:
            taken = next(
                (f for f, v in keys if f != key_field and (f, v) in existing),
                None,
            )
            if taken:
                refusal = _duplicate_of_existing(taken)
                outcomes[row.number] = ImportOutcome(row.number, IMPORT_REJECTED, refusal)
                continue
            creates.append((row, customer))
        elif match is None:
            outcomes[row.number] = _rejected(row, errors)
            continue
        elif update_existing:
            updates.append((row, match))
        else:
            outcomes[row.number] = ImportOutcome(row.number, IMPORT_SKIPPED, customer_id=match.pk)
        for key in keys:
            seen.add(key)

    if dry_run:
        for row, _customer in creates:
            outcomes[row.number] = ImportOutcome(row.number, IMPORT_CREATED)
    else:
        outcomes.update(_import_creates(merchant, creates, actor))
    for row, match in updates:
        outcomes[row.number] = _import_update(row, match, actor, dry_run=dry_run)
    return [outcomes[row.number] for row in rows]


def customers_statistics_refresh() -> None:
    """Have PostgreSQL's planner see the customers as they are now. Once an import has added
    many rows to a merchant, the statistics still describe the merchant as it was (a new one:
    no rows): each batch's lookups, planned for a merchant of a few rows, then read all of its
    rows instead of probing the unique indexes, slower with every batch. Autovacuum gets there
    in time, if it runs; an import does not wait for it. Only the merchant column is analysed
    (a fraction of a second; the whole table's columns take seconds): its statistics are the
    ones that were wrong. ANALYZE blocks no reader nor writer."""
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        table = quote(Customer._meta.db_table)
        column = quote(Customer._meta.get_field("merchant").column)
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table} ({column})")


def _rejected(row: ImportRow, errors: dict[str, list[ValidationError]]) -> ImportOutcome:
    return ImportOutcome(row.number, IMPORT_REJECTED, ValidationError(errors))


M = TypeVar("M", bound=models.Model)


def _bulk_insert(model: type[M], objects: list[M]) -> list[M]:
    """Insert ``objects`` (their ids already set by their defaults): ``_inserting``, with
    nothing to do meanwhile."""
    with _inserting(model, objects):
        pass
    return objects


@contextlib.contextmanager
def _inserting(model: type[M], objects: list[M]) -> Iterator[None]:
    """Insert ``objects`` (their ids already set by their defaults): one ``COPY`` on
    PostgreSQL, which takes thousands of rows a second more than ``INSERT``s of the same
    values; ``bulk_create`` elsewhere. A constraint refused is an ``IntegrityError`` either way.

    On PostgreSQL the body of the ``with`` runs once the rows are sent, while the database
    stores and indexes them (most of an import's time in the database): only then is the end
    of the ``COPY`` waited for, and a refusal raised."""
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects, batch_size=500)
        yield
        return
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    statement = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    # The values as they are (psycopg writes text, numbers, UUIDs and times itself), JSON as
    # its text, which the column reads as any JSON input: Field.get_db_prep_save for each value
    # would cost as much as the COPY.
    json_fields = {field.attname: field for field in fields if isinstance(field, models.JSONField)}
    attnames = [field.attname for field in fields]
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for obj in objects:
            values = obj.__dict__
            copy.write_row(
                [
                    _json_text(values[name], json_fields[name].encoder)
                    if name in json_fields
                    else values[name]
                    for name in attnames
                ]
            )
        yield
    for obj in objects:
        obj._state.adding = False


def _json_text(value: Any, encoder: type[json.JSONEncoder] | None) -> str | None:
    """``value`` as the JSON text Django would store for it (``None`` stays SQL NULL): orjson
    for plain values, the field's encoder for anything else."""
    if value is None:
        return None
    if encoder is None:
        try:
            return orjson.dumps(value).decode()
        except TypeError:
            pass
    return json.dumps(value, cls=encoder)


def _import_creates(
    merchant: Merchant, creates: list[tuple[ImportRow, Customer]], actor: Actor
) -> dict[int, ImportOutcome]:
    if not creates:
        return {}
    label = actor_label(actor)
    source = Customer.Source.IMPORT
    now = timezone.now()
    customers = [customer for _, customer in creates]
    for customer in customers:
        customer.created_at = customer.updated_at = now
    try:
        with transaction.atomic():
            # Their events are made while the database takes the customers in; they are
            # numbered once the customers are in (the number is the write's last step).
            with _inserting(Customer, customers):
                events = [
                    new_instance(
                        CustomerEvent,
                        id=uuid7(),
                        merchant_id=merchant.pk,
                        number=None,
                        created_at=None,
                        customer_id=customer.pk,
                        action=CustomerEvent.Action.CREATED,
                        changes=_snapshot(customer),
                        data={"object": customer_json(customer)},
                        actor=label,
                        source=source,
                        reason="",
                    )
                    for customer in customers
                ]
            _count(merchant.pk, Counter(_counted(c) for c in customers))
            first, moment = _next_events(merchant.pk, len(customers))
            for number, event in enumerate(events, start=first):
                event.number, event.created_at = number, moment
            deliveries_record_many(merchant.pk, _bulk_insert(CustomerEvent, events))
    except IntegrityError:
        # Another writer took one of these emails or references since they were looked up:
        # each row on its own, so that only the one that collides is refused.
        outcomes = {}
        for row, _ in creates:
            try:
                customer = customer_create(
                    merchant=merchant, actor=actor, source=source, **row.fields
                )
            except ValidationError as error:
                outcomes[row.number] = ImportOutcome(row.number, IMPORT_REJECTED, error)
            else:
                outcomes[row.number] = ImportOutcome(row.number, IMPORT_CREATED, None, customer.pk)
        return outcomes
    return {
        row.number: ImportOutcome(row.number, IMPORT_CREATED, None, customer.pk)
        for row, customer in creates
    }


def _import_update(
    row: ImportRow, match: Customer, actor: Actor, *, dry_run: bool
) -> ImportOutcome:
    """``customer_update`` with the row's fields; the address and metadata keys of the row
    are set, the others kept. A dry run rolls the change back."""
    if row.errors:
        return _rejected(row, row.errors)
    data = dict(row.fields)
    for name in ("address", "metadata"):
        if isinstance(data.get(name), dict):
            data[name] = {**(getattr(match, name) or {}), **data[name]}
    version = match.version
    try:
        with transaction.atomic():
            updated = customer_update(
                customer=match, actor=actor, source=Customer.Source.IMPORT, data=data
            )
            if dry_run:
                transaction.set_rollback(True)
    except ValidationError as error:
        return ImportOutcome(row.number, IMPORT_REJECTED, error)
    except CustomerNotFound:
        message = "The customer this row matches was deleted meanwhile; import it again."
        return ImportOutcome(row.number, IMPORT_REJECTED, ValidationError(message))
    result = IMPORT_UPDATED if updated.version != version else IMPORT_SKIPPED
    return ImportOutcome(row.number, result, None, updated.pk)


def customer_counts_rebuild(*, merchant: Merchant | None = None) -> int:
    """Count ``merchant``'s customers (every merchant's without one) from scratch, replacing
    the kept counts; return how many customers were counted. Writers wait meanwhile."""
    customers = Customer.objects.all()
    counts = CustomerCount.objects.all()
    if merchant is not None:
        customers = customers.filter(merchant=merchant)
        counts = counts.filter(merchant=merchant)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Readers go on; writes (and another rebuild) wait until the counts are replaced.
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {Customer._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        counts.delete()
        groups = (
            customers.order_by().values("merchant_id", "status", "type").annotate(n=Count("pk"))
        )
        CustomerCount.objects.bulk_create(
            CustomerCount(
                merchant_id=group["merchant_id"],
                status=group["status"],
                type=group["type"],
                count=group["n"],
            )
            for group in groups
        )
    return sum(group["n"] for group in groups)


# --- merchants and API keys -----------------------------------------------------------------


def merchant_create(*, name: str, slug: str = "") -> Merchant:
    merchant = Merchant(name=name.strip(), slug=slug or slugify(name)[:60])
    merchant.full_clean()
    merchant.save(force_insert=True)
    return merchant


def api_key_create(
    *,
    merchant: Merchant,
    name: str,
    scopes: list[str] | None = None,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its full secret, which is never stored nor shown again."""
    secret = secrets.token_urlsafe(32)
    api_key = ApiKey(
        merchant=merchant,
        name=name.strip(),
        scopes=list(scopes if scopes is not None else ApiKey.DEFAULT_SCOPES),
        created_by=created_by,
        prefix=secrets.token_hex(ApiKey.PREFIX_LENGTH // 2),
        secret_hash=ApiKey.hash_secret(secret),
    )
    api_key.full_clean()
    api_key.save(force_insert=True)
    return api_key, f"ck_{api_key.prefix}_{secret}"


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The live key that ``raw_key`` is, or ``None``: one indexed lookup, constant-time compare."""
    if not API_KEY_FORMAT.fullmatch(raw_key):
        return None
    prefix, secret = raw_key[3:].split("_", 1)
    # Every API request asks this: written out, the query costs a fifth of what the ORM's does.
    # The merchant is fetched only if a request needs more of it than its id (a create).
    found = WholeRows.on(ApiKey, connections[router.db_for_read(ApiKey)]).matching(prefix=prefix)
    api_key = found[0] if found else None
    if api_key is None or api_key.is_revoked or not api_key.secret_matches(secret):
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        ApiKey.objects.filter(pk=api_key.pk, revoked_at=None).update(revoked_at=api_key.revoked_at)
    return api_key
