"""The customer registry: merchants (tenants), their staff, their API keys and their customers.

Every rule about a customer lives here: the normalisers it calls, ``Customer.clean()`` and the
constraints in ``Customer.Meta``. Writes go through ``customers.services``.
"""

import functools
import hashlib
import hmac
import uuid
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.core.exceptions import EmptyResultSet, FullResultSet, ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    URLValidator,
    validate_email,
)
from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q, Sum, Value, signals
from django.db.models.base import ModelState
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import Exact
from django.db.models.query import ModelIterable
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import normalizers
from .ids import uuid7

DESCRIPTION_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500

#: The rule every customer obeys, said the same way by the model, its constraint and each door.
EMAIL_OR_PHONE_REQUIRED = _("Give an email address or a phone number (or both).")


class CodeField(models.CharField):
    """A short standard code (ISO 3166, ISO 4217) that forms offer as a list of names, in the
    page's language (``customers.normalizers.country_choices``).

    Any spelling a normaliser reads may be stored through the API; the list is only the
    friendliest input for people.
    """

    code_length: int

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", self.code_length)
        super().__init__(*args, **kwargs)

    def code_choices(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    @staticmethod
    def normalize(value: str) -> str:
        raise NotImplementedError

    def choices_with_blank(self) -> list[tuple[str, str]]:
        return [("", "—"), *self.code_choices()]

    def formfield(self, form_class=None, choices_form_class=None, **kwargs) -> forms.Field:
        return CodeChoiceField(
            normalize=self.normalize,
            # Read when the list is shown: its names are in the page's language.
            choices=self.choices_with_blank,
            required=not self.blank,
            label=capfirst(self.verbose_name),
            **kwargs,
        )


class CodeChoiceField(forms.ChoiceField):
    """A list of codes that reads any spelling the API reads too (``Senegal``, ``sn``,
    ``SEN``; ``xof``): what a form posts goes through the field's normaliser first, whose
    message names the value it could not read."""

    def __init__(self, *, normalize, **kwargs):
        self.normalize = normalize
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return self.normalize(value) if value else value


class CountryField(CodeField):
    """An ISO 3166-1 alpha-2 code."""

    code_length = 2
    normalize = staticmethod(normalizers.normalize_country)

    def code_choices(self) -> list[tuple[str, str]]:
        return normalizers.country_choices()


class CurrencyField(CodeField):
    """An ISO 4217 code."""

    code_length = 3
    normalize = staticmethod(normalizers.normalize_currency)

    def code_choices(self) -> list[tuple[str, str]]:
        return normalizers.currency_choices()


class Merchant(models.Model):
    """A business account. Every customer, key and membership belongs to exactly one."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    #: Where the merchant's staff read the dashboard's times (the API speaks UTC).
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[normalizers.validate_time_zone],
        help_text=_(
            "An IANA zone such as Africa/Dakar or Africa/Lagos: the dashboard shows "
            "times in it (with UTC on hover); the API speaks UTC."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    #: The number and time of the merchant's latest event (``CustomerEvent.number``).
    last_event_number = models.BigIntegerField(default=0, editable=False)
    last_event_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A staff user works for a merchant. What they may do there is their model permissions."""

    # No index of its own: the unique constraint starts with the user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user")
        ]

    def __str__(self):
        return f"{self.user} @ {self.merchant}"


class ApiKey(models.Model):
    """A merchant's key to the REST API: ``ck_<prefix>_<secret>``.

    The prefix finds the row; only the SHA-256 of the secret is stored. Keys are long random
    strings, so one fast hash is right (a slow password hasher would only slow every request).
    """

    class Scope(models.TextChoices):
        READ = "customers:read", _("Read customers")
        WRITE = "customers:write", _("Write customers")
        WEBHOOKS = "webhooks:manage", _("Manage webhook endpoints")

    #: A new key's scopes unless others are chosen: the customers, not the webhooks.
    DEFAULT_SCOPES = [Scope.READ.value, Scope.WRITE.value]

    PREFIX_LENGTH = 8

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} (ck_{self.prefix}_…)"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def secret_matches(self, secret: str) -> bool:
        return hmac.compare_digest(self.secret_hash, self.hash_secret(secret))

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def clean(self):
        unknown = sorted(set(self.scopes or []) - set(self.Scope.values))
        if unknown or not self.scopes:
            raise ValidationError(
                {
                    "scopes": _("Choose scopes among %(scopes)s.")
                    % {"scopes": ", ".join(self.Scope.values)}
                }
            )


class CustomerType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    BUSINESS = "business", _("Business")


class CustomerStatus(models.TextChoices):
    PENDING_KYC = "pending_kyc", _("Pending KYC")
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    BLOCKED = "blocked", _("Blocked")


M = TypeVar("M", bound=models.Model)


@functools.cache
def column_attnames(model: type[models.Model]) -> tuple[str, ...]:
    """The attributes of ``model``'s columns, in the order Django selects them."""
    return tuple(field.attname for field in model._meta.concrete_fields)


@functools.cache
def orderable_columns(model: type[models.Model]) -> dict[str, str]:
    """The columns an ordering written out by ``WholeRows`` may name, by field name (and
    ``pk``): every one of ``model``'s own columns but its foreign keys."""
    fields = [field for field in model._meta.concrete_fields if not field.is_relation]
    return {field.name: field.column for field in fields} | {"pk": model._meta.pk.column}


def instance_from_columns(model: type[M], columns: Any, *, db: str | None = None) -> M:
    """``model``'s instance whose column attributes are ``columns`` (a mapping, or (attname,
    value) pairs, every column given), built as Django rebuilds a pickled one: without the
    checks ``Model.__init__`` makes of each argument, nor its signals. Read from ``db``, or
    new when ``db`` is None."""
    instance = model.__new__(model)
    instance.__dict__.update(columns)
    instance._state = ModelState()
    if db is not None:
        instance._state.adding, instance._state.db = False, db
    return instance


def new_instance(model: type[M], /, **values: Any) -> M:
    """``model(**values)``, ``values`` by attribute name (``merchant_id``) and every column not
    given its field's default, without the work ``Model.__init__`` does for each argument (a
    fifth of the validation of an import's row); by ``Model.__init__`` when an init signal
    watches the model, which then hears of it. A name that is not a column's is a
    ``TypeError``, as there."""
    if _init_is_watched(model):
        return model(**values)
    fixed, made = _column_defaults(model)
    unknown = values.keys() - fixed.keys() - made.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no column {', '.join(sorted(unknown))}.")
    columns = {**fixed, **{name: make() for name, make in made.items() if name not in values}}
    columns.update(values)
    return instance_from_columns(model, columns)


@functools.cache
def _column_defaults(model: type[models.Model]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The defaults of a new ``model`` instance's columns, by attribute name: those that are
    values, the same for every instance (a string, a number, ``None``), and those made for each
    one by calling the field's default (an id, a time, a dict)."""
    fixed, made = {}, {}
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            made[field.attname] = field.default
        else:
            fixed[field.attname] = field.get_default()
    return fixed, made


def _init_is_watched(model: type[models.Model]) -> bool:
    return signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model)


def reads_own_rows(queryset: models.QuerySet) -> bool:
    """Whether ``queryset`` reads whole rows of its model's table alone: no join (a join that a
    filter made and then trimmed, as one on ``merchant_id`` does, is none), annotation, deferred
    column, DISTINCT, slice, combination or lock. Its statement is then the table's select list,
    its WHERE clause and its ordering: what ``WholeRows`` and ``column_sum`` write themselves."""
    query = queryset.query
    table = queryset.model._meta.db_table
    return (
        queryset._iterable_class is ModelIterable
        and not queryset._prefetch_related_lookups  # type: ignore[attr-defined]  # no stub
        and query.default_cols
        and query.deferred_loading == (frozenset(), True)
        and not (query.annotations or query.extra or query.select_related or query.distinct)
        and not (query.combinator or query.select_for_update or query.is_sliced)
        and query.standard_ordering
        and all(alias == table for alias in query.alias_map if query.alias_refcount[alias])
    )


def where_clause(queryset: models.QuerySet) -> tuple[str, Sequence[Any]]:
    """The WHERE clause of ``queryset`` (one that ``reads_own_rows``) and its parameters, as the
    ORM compiles them; ``""`` when it selects every row. Raises ``EmptyResultSet`` when it
    selects none (``.none()``), as the compiler does."""
    query = queryset.query
    try:
        return query.get_compiler(using=queryset.db).compile(query.where)
    except FullResultSet:
        return "", ()


def column_sum(queryset: models.QuerySet, column: str) -> int:
    """``SUM(column)`` of an integer column over ``queryset``'s rows, 0 for none: the ORM's own
    aggregate statement, of which the ORM compiles the WHERE clause alone. Compiling the whole
    aggregate took a list request in page mode as many calls as reading its page."""
    if not reads_own_rows(queryset):
        return queryset.aggregate(total=Coalesce(Sum(column), 0))["total"]
    try:
        where, params = where_clause(queryset)
    except EmptyResultSet:
        return 0
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    table = quote(queryset.model._meta.db_table)
    summed = f"{table}.{quote(queryset.model._meta.get_field(column).column)}"
    sql = f"SELECT COALESCE(SUM({summed}), 0) AS {quote('total')} FROM {table}"
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} WHERE {where}" if where else sql, params)
        (total,) = cursor.fetchone()
    return int(total)  # PostgreSQL sums integers as numeric


class WholeRows:
    """Reads of whole rows of one model, by SQL whose WHERE clause is given: the rest of the
    statement, the same text the ORM writes, and the converters of the columns' values, those
    the ORM applies, are built once per model and database connection (``WholeRows.on``).

    For the reads every API request makes (its key, the customers it asks for): compiling a
    query names and converts each column anew, and that was the largest part of a request."""

    _on_connection: "weakref.WeakKeyDictionary[BaseDatabaseWrapper, dict[type, WholeRows]]" = (
        weakref.WeakKeyDictionary()
    )

    @classmethod
    def on(cls, model: type[models.Model], connection: BaseDatabaseWrapper) -> "WholeRows":
        built = cls._on_connection.setdefault(connection, {})
        if model not in built:
            built[model] = cls(model, connection)
        return built[model]

    def __init__(self, model: type[models.Model], connection: BaseDatabaseWrapper):
        self.model, self.connection = model, connection
        self.quote = connection.ops.quote_name
        self.table = self.quote(model._meta.db_table)
        fields = model._meta.concrete_fields
        columns = ", ".join(f"{self.table}.{self.quote(field.column)}" for field in fields)
        self.select_from = f"SELECT {columns} FROM {self.table}"
        #: (position in a row, its column, the converters of its values): the backend's
        #: converters first, then the field's, as ``SQLCompiler.get_converters`` has them.
        self.converters: list[tuple[int, Col, list]] = []
        for position, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                self.converters.append((position, column, found))
        self.attnames = column_attnames(model)
        #: The concrete fields by attribute name (``merchant_id`` for the merchant).
        self.columns = {field.attname: field for field in fields}
        self._orderings: dict[tuple[str, ...], str] = {}

    def order_by(self, ordering: Iterable[str]) -> str:
        """``ORDER BY "table"."column" DESC, …`` of column names (``-`` for descending), as the
        ORM writes it; nothing for no ordering."""
        key = tuple(ordering)
        if key not in self._orderings:
            terms = [
                f"{self.table}.{self.quote(orderable_columns(self.model)[name.removeprefix('-')])} "
                f"{'DESC' if name.startswith('-') else 'ASC'}"
                for name in key
            ]
            self._orderings[key] = f"ORDER BY {', '.join(terms)}" if terms else ""
        return self._orderings[key]

    def read(
        self,
        where: str,
        params: Sequence[Any],
        *,
        ordering: Iterable[str] = (),
        limit: int | None = None,
    ) -> list:
        """The instances of the rows ``where`` selects (no clause for ``""``)."""
        parts = [self.select_from, f"WHERE {where}" if where else "", self.order_by(ordering)]
        if limit is not None:
            parts.append(self.connection.ops.limit_offset_sql(0, limit))
        with self.connection.cursor() as cursor:
            cursor.execute(" ".join(part for part in parts if part), params)
            rows = cursor.fetchall()
        return self.instances(rows)

    def matching(self, **values: Any) -> list:
        """The instances of the rows whose columns (by attribute: ``merchant_id``, ``id``) equal
        ``values``, each value prepared for the database as the ORM prepares it."""
        fields = [self.columns[name] for name in values]
        where = " AND ".join(f"{self.table}.{self.quote(field.column)} = %s" for field in fields)
        params = [
            field.get_db_prep_value(value, self.connection)
            for field, value in zip(fields, values.values(), strict=True)
        ]
        return self.read(where, params)

    def instances(self, rows: Iterable[Sequence[Any]]) -> list:
        """The instances of ``rows``, their values converted as the ORM converts them; built by
        Django when an init signal watches the model, else as ``instance_from_columns`` builds
        them."""
        db, model, attnames = self.connection.alias, self.model, self.attnames
        watched = _init_is_watched(model)
        built = []
        for row in rows:
            values = list(row)
            for position, column, converters in self.converters:
                value = values[position]
                for convert in converters:
                    value = convert(value, column, self.connection)
                values[position] = value
            if watched:
                built.append(model.from_db(db, attnames, values))
            else:
                built.append(
                    instance_from_columns(model, zip(attnames, values, strict=True), db=db)
                )
        return built


class Customer(models.Model):
    """A person or company that pays a merchant."""

    # Module-level classes, so that Meta's check constraints can name their values too.
    Type = CustomerType
    Status = CustomerStatus

    class Source(models.TextChoices):
        API = "api", _("API")
        DASHBOARD = "dashboard", _("Dashboard")
        ADMIN = "admin", _("Admin")
        IMPORT = "import", _("Import")

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: every composite index below starts with the merchant.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,
        verbose_name=_("merchant"),
    )
    reference = models.CharField(
        _("reference"),
        max_length=64,
        blank=True,
        help_text=_("The merchant's own id for this customer."),
    )
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.INDIVIDUAL)
    name = models.CharField(_("name"), max_length=200)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    # Stored in E.164 (at most 16 characters); room is left for spaced input before it is
    # normalised, e.g. "+221 77 123 45 67".
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    whatsapp = models.CharField(_("WhatsApp"), max_length=32, blank=True)
    country = CountryField(_("country"), blank=True, help_text=_("ISO 3166-1 alpha-2."))
    address = models.JSONField(
        _("address"), default=dict, blank=True, validators=[normalizers.validate_address]
    )
    currency = CurrencyField(_("currency"), blank=True, help_text=_("ISO 4217 code."))
    website = models.URLField(
        _("website"),
        max_length=200,
        blank=True,
        validators=[
            URLValidator(
                schemes=normalizers.WEBSITE_SCHEMES, message=normalizers.WEBSITE_SCHEME_MESSAGE
            )
        ],
    )
    description = models.TextField(
        _("description"),
        max_length=DESCRIPTION_MAX_LENGTH,
        blank=True,
        # A TextField's max_length only sizes the form input: the validator enforces it.
        validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)],
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    metadata = models.JSONField(
        _("metadata"), default=dict, blank=True, validators=[normalizers.validate_metadata]
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, editable=False)
    created_by = models.CharField(_("created by"), max_length=200, editable=False)
    # Both set by the services: equal at creation, then moved by every change.
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)
    # Bumped on every change; the API's ETag, and the guard of conditional writes.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                F("merchant"),
                Lower("email"),
                condition=~Q(email=""),
                name="customer_unique_email_per_merchant",
                violation_error_code="duplicate",
                violation_error_message=_("A customer with this email already exists."),
            ),
            models.UniqueConstraint(
                fields=["merchant", "reference"],
                condition=~Q(reference=""),
                name="customer_unique_reference_per_merchant",
                violation_error_code="duplicate",
                violation_error_message=_("A customer with this reference already exists."),
            ),
            models.CheckConstraint(
                condition=Q(type__in=CustomerType.values), name="customer_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=CustomerStatus.values), name="customer_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(email="") | ~Q(phone=""),
                name="customer_email_or_phone",
                violation_error_message=EMAIL_OR_PHONE_REQUIRED,
            ),
        ]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # Merchant first: every query is scoped to one merchant. The id breaks ties for
            # keyset pagination on each orderable column.
            models.Index(fields=["merchant", "created_at", "id"], name="customer_created_idx"),
            # The admin's newest-first list across every merchant, for superusers.
            models.Index(fields=["created_at", "id"], name="customer_all_created_idx"),
            models.Index(fields=["merchant", "updated_at", "id"], name="customer_updated_idx"),
            models.Index(fields=["merchant", "name", "id"], name="customer_name_idx"),
            models.Index(fields=["merchant", "phone"], name="customer_phone_idx"),
            # An equality filter, then the default order: the rows of a rare status, type,
            # country or currency are found, newest first, without walking everyone else's.
            models.Index(
                fields=["merchant", "status", "created_at", "id"], name="customer_status_idx"
            ),
            models.Index(fields=["merchant", "type", "created_at", "id"], name="customer_type_idx"),
            models.Index(
                fields=["merchant", "country", "created_at", "id"], name="customer_country_idx"
            ),
            models.Index(
                fields=["merchant", "currency", "created_at", "id"], name="customer_currency_idx"
            ),
            # (merchant, lower(email)) and (merchant, reference) are the unique constraints'.
        ]

    # Fields the unique constraints guard, by constraint name: a database refusal is reported
    # against the field a person can fix.
    UNIQUE_FIELDS = {
        "customer_unique_email_per_merchant": "email",
        "customer_unique_reference_per_merchant": "reference",
    }

    #: The fields of text, each checked for what no database column should receive.
    TEXT_FIELDS = (
        "reference", "name", "first_name", "last_name", "company", "email", "phone", "whatsapp",
        "country", "currency", "website", "description", "status", "type",
    )  # fmt: skip

    #: The fields set to one of a list of values, with their choices.
    CHOICE_FIELDS = {"type": Type, "status": Status}

    def __str__(self):
        return self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        """A customer read whole from the database, built as Django rebuilds a pickled one:
        its values straight into its attributes. Lists read up to a hundred customers a
        request, and ``Model.__init__``, which checks each value as a keyword or positional
        argument might be, was up to a tenth of a list's cost (on a page of a hundred). Read
        in part (``only``, ``defer``), or watched by an init signal, a customer is built by
        Django as ever."""
        if len(values) != len(cls._meta.concrete_fields) or _init_is_watched(cls):
            return super().from_db(db, field_names, values)
        return instance_from_columns(cls, zip(column_attnames(cls), values, strict=True), db=db)

    @staticmethod
    def derived_name(first_name: str, last_name: str) -> str:
        """The name a customer gets from a first and last name when given none."""
        return " ".join(part.strip() for part in (first_name, last_name) if part and part.strip())

    @property
    def name_is_derived(self) -> bool:
        """Whether the name is the first and last name, rather than one chosen."""
        return bool(self.first_name) and self.name == self.derived_name(
            self.first_name, self.last_name
        )

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_blocked(self) -> bool:
        return self.status == self.Status.BLOCKED

    # --- validation ---------------------------------------------------------------------

    def normalize(self, exclude=()) -> dict:
        """Bring every field to its stored form in place; return the errors by field.

        Runs before the field validators, so lengths and formats are checked on what will be
        stored ("+221 77 123 45 67" is fine, " Ada@Example.COM " too).
        """
        errors = {}
        texts = {field: getattr(self, field) for field in self.TEXT_FIELDS if field not in exclude}
        # One look over all the texts, then one per text only if something is wrong.
        if normalizers.text_problem(" ".join(v for v in texts.values() if isinstance(v, str))):
            for field, value in texts.items():
                if isinstance(value, str) and (problem := normalizers.text_problem(value)):
                    errors[field] = [problem]

        def apply(field, normalize, *args):
            if field in exclude or field in errors:
                return
            value = getattr(self, field)
            if value is None:
                value = ""
            try:
                setattr(self, field, normalize(value, *args) if value else value)
            except ValidationError as error:
                errors[field] = error.error_list

        for field in ("reference", "name", "first_name", "last_name", "company", "website"):
            if field in errors:
                continue
            value = getattr(self, field)
            setattr(self, field, value.strip() if value else "")
        if not self.name and self.first_name and "name" not in exclude:
            self.name = self.derived_name(self.first_name, self.last_name)
        apply("email", normalizers.normalize_email)
        apply("country", normalizers.normalize_country)
        apply("currency", normalizers.normalize_currency)
        country = "" if "country" in errors else self.country
        apply("phone", normalizers.normalize_phone, country)
        apply("whatsapp", normalizers.normalize_phone, country)
        for field, choices in self.CHOICE_FIELDS.items():
            value = getattr(self, field)
            if field in exclude or field in errors or not isinstance(value, str):
                continue
            if not value or value in _values(field):
                continue
            # Refused here rather than by Django, to name the values to use.
            errors[field] = [
                ValidationError(
                    normalizers.not_a_choice_message(choices.choices),
                    code="invalid_choice",
                    params={"value": value},
                )
            ]
        apply("website", normalizers.normalize_website)
        if self.metadata is None:
            self.metadata = {}
        if "address" not in exclude:
            try:
                normalizers.validate_address(self.address)
                self.address = normalizers.normalize_address(self.address)
            except ValidationError as error:
                errors["address"] = error.error_list
        if "metadata" not in exclude:
            # Here as well as in the field's validators, which skip an "empty" value such as [].
            try:
                normalizers.validate_metadata(self.metadata)
            except ValidationError as error:
                errors["metadata"] = error.error_list
        return errors

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        errors = self.normalize(exclude)
        exclude |= set(errors)
        # A value that every check of its field plainly passes is not checked again by Django
        # (the field's own clean would return it unchanged); any other goes through Django's
        # clean, for its value and its message. A third of a row's validation in an import.
        for name, passes in _plain_checks().items():
            if name not in exclude and passes(getattr(self, name)):
                exclude.add(name)
        # A merchant read from the database is not looked up again (a query per customer
        # validated); the foreign key refuses one deleted since.
        if Customer.merchant.is_cached(self) and not self.merchant._state.adding:
            exclude.add("merchant")
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def validate_unique(self, exclude=None):
        """Django would ask the database whether a new customer's id is taken: it was just
        drawn (UUIDv7, 74 of its bits random) and the primary key refuses a clash anyway. What
        is unique per merchant is checked by ``validate_constraints``."""
        super().validate_unique({*(exclude or ()), "id"})

    def validate_constraints(self, exclude=None):
        """Check the unique constraints, each error on the field a person can fix.

        Only uniqueness needs the database's answer before a write. The check constraints say
        again what the field choices and ``clean()`` have just checked (Django would ask the
        database once more for each), and the database enforces them all on the write anyway.
        """
        # A form may leave the merchant out (it never changes after creation), yet uniqueness
        # is per merchant: check it whatever the form shows.
        exclude = set(exclude or ()) - {"merchant"}
        errors: dict[str, list[ValidationError]] = {}
        for constraint in self._meta.constraints:
            field = self.UNIQUE_FIELDS.get(constraint.name)
            if not field or field in exclude or not getattr(self, field):
                continue  # an empty email or reference is outside its constraint (not "")
            assert isinstance(constraint, models.UniqueConstraint)
            if self._clashes(constraint):
                errors[field] = [
                    ValidationError(
                        constraint.get_violation_error_message(),
                        code=constraint.violation_error_code,
                    )
                ]
        if errors:
            raise ValidationError(errors)

    def _clashes(self, constraint: models.UniqueConstraint) -> bool:
        """Whether another customer holds this one's values under ``constraint``.

        The constraint's own expressions and condition, asked as the one query its index
        answers. (Django's ``constraint.validate()`` would first have the database evaluate the
        condition against every field of this customer, in a savepoint: three times as long.)
        """
        values = {
            F(field.name): Value(getattr(self, field.attname), field)
            for field in self._meta.concrete_fields
        }
        # F() and Lower() alike, which django-stubs type as Combinable.
        keys: list[Any] = list(constraint.expressions) or [F(name) for name in constraint.fields]
        others = type(self)._default_manager.using(router.db_for_write(type(self), instance=self))
        others = others.filter(
            constraint.condition,
            *[Exact(key, key.replace_expressions(values)) for key in keys],
        )
        if not self._state.adding:
            others = others.exclude(pk=self.pk)
        return others.exists()

    def clean(self):
        if not self.email and not self.phone:
            raise ValidationError(
                {"email": ValidationError(EMAIL_OR_PHONE_REQUIRED, code="email_or_phone_required")}
            )


#: The field validators that ``Customer.normalize()`` runs itself on a field it did not exclude
#: and found no problem in: Django need not run them again.
_NORMALIZE_VALIDATES = {
    "email": validate_email,  # by normalizers.normalize_email
    "address": normalizers.validate_address,
    "metadata": normalizers.validate_metadata,
}


@functools.cache
def _values(field: str) -> frozenset[str]:
    """The values a customer's ``field`` (of ``CHOICE_FIELDS``) may take."""
    return frozenset(Customer.CHOICE_FIELDS[field].values)


@functools.cache
def _plain_checks() -> dict[str, Callable[[Any], bool]]:
    """For each field of a customer whose checks can be said in a line, a test that a value
    passes all of them: the field's type exactly, its choices, its lengths and bounds, and the
    validators ``normalize()`` already ran. ``False`` means "ask Django", never "invalid"."""
    checks: dict[str, Callable[[Any], bool]] = {}
    for field in Customer._meta.concrete_fields:
        limits, low, high, others = [], None, None, []
        for validator in field.validators:
            if type(validator) is MaxLengthValidator:
                limits.append(validator.limit_value)
            elif type(validator) is MinValueValidator:
                low = validator.limit_value
            elif type(validator) is MaxValueValidator:
                high = validator.limit_value
            elif validator is not _NORMALIZE_VALIDATES.get(field.name):
                others.append(validator)
        if others or field.null:
            continue
        choices = frozenset(field.flatchoices and dict(field.flatchoices)) or None
        if isinstance(field, models.CharField | models.TextField):
            limit = min(limits, default=None)
            checks[field.name] = functools.partial(_plain_text, limit, choices, field.blank)
        elif isinstance(field, models.JSONField) and field.name in _NORMALIZE_VALIDATES:
            checks[field.name] = _plain_object
        elif type(field) is models.UUIDField:
            checks[field.name] = functools.partial(_is_type, uuid.UUID)
        elif type(field) is models.DateTimeField:
            checks[field.name] = functools.partial(_is_type, datetime)
        elif isinstance(field, models.PositiveIntegerField) and low is not None:
            checks[field.name] = functools.partial(_plain_integer, low, high)
    return checks


def _plain_text(limit, choices, blank, value) -> bool:
    return (
        type(value) is str
        and (limit is None or len(value) <= limit)
        and (choices is None or value in choices)
        and (blank or value != "")
    )


def _plain_object(value) -> bool:
    # What normalize() accepted, as it is: a flat object of text, numbers and booleans, which
    # JSON holds as it is.
    return type(value) is dict and all(
        type(key) is str and type(item) in (str, int, float, bool) for key, item in value.items()
    )


def _is_type(kind, value) -> bool:
    return type(value) is kind


def _plain_integer(low, high, value) -> bool:
    return type(value) is int and low <= value and (high is None or value <= high)


class CustomerCount(models.Model):
    """How many customers a merchant has of one status and one type.

    Kept exact by the services, in the same transaction as each write, so a list's total (all
    customers, or by status, or by type) is a sum of a few rows instead of a count of the
    merchant's whole table. ``manage.py recount_customers`` rebuilds them from the customers.
    """

    # No index of its own: the unique constraint starts with the merchant.
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=CustomerStatus.choices)
    type = models.CharField(max_length=16, choices=CustomerType.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "status", "type"], name="customer_count_unique"
            )
        ]

    def __str__(self):
        return f"{self.merchant_id} {self.status} {self.type}: {self.count}"


class CustomerEvent(models.Model):
    """One change to a customer: who changed what, when, and through which door. The events
    are the customer's history on the dashboard and the API's event feed.

    ``customer_id`` is a plain column, not a foreign key, so the history outlives a deletion.
    ``number`` counts the merchant's events 1, 2, 3… in the order their changes committed, and
    ``created_at`` never goes back along it (see ``services._record``): the feed follows the
    numbers, so a client polling after the last number it saw never misses or repeats an event,
    and the events after a moment are the numbers from the first of them on.
    """

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("customer event", "Created")
        UPDATED = "updated", pgettext_lazy("customer event", "Updated")
        STATUS_CHANGED = "status_changed", pgettext_lazy("customer event", "Status changed")
        DELETED = "deleted", pgettext_lazy("customer event", "Deleted")

    #: The API's event type of each action.
    TYPES: dict[str, str] = {
        Action.CREATED: "customer.created",
        Action.UPDATED: "customer.updated",
        Action.STATUS_CHANGED: "customer.updated",
        Action.DELETED: "customer.deleted",
    }

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: the numbers' unique constraint starts with the merchant.
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    number = models.BigIntegerField()
    customer_id = models.UUIDField()
    action = models.CharField(max_length=16, choices=Action.choices)
    # {"field": [old, new]} for updates; the full record for creations and deletions.
    changes = models.JSONField(default=dict)
    # {"object": <the customer as the API renders it after the change>, "previous_attributes":
    # {<field>: <its value before>} (updates only)}.
    data = models.JSONField(default=dict)
    actor = models.CharField(max_length=200)
    source = models.CharField(max_length=16, choices=Customer.Source.choices)
    #: Why the change was made, when the person said (a block asks for it).
    reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="customer_event_number")
        ]
        indexes = [
            models.Index(fields=["customer_id", "created_at"], name="customer_event_idx"),
            # The feed's date filters; (merchant, number) is the unique constraint's index.
            models.Index(fields=["merchant", "created_at"], name="customer_event_created_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.customer_id} by {self.actor}"

    @property
    def type(self) -> str:
        return self.TYPES[self.action]

    @classmethod
    def actions_of(cls, types: list[str]) -> list[str]:
        """The actions recorded under the API's event ``types``."""
        return [action for action, type_ in cls.TYPES.items() if type_ in types]


class IdempotencyKey(models.Model):
    """A POST made safe to retry: the first response to a merchant's ``Idempotency-Key``.

    Written in the same transaction as the request's write, so a response is replayed exactly
    when what it reports exists (see ``customers.api.idempotency``).
    """

    #: How long a response is replayed.
    LIFETIME = timedelta(hours=24)
    MAX_LENGTH = 255

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: the keys' unique constraint starts with the merchant.
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=MAX_LENGTH)
    # SHA-256 of the canonical request: the same key with another body is refused.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "key"], name="idempotency_key_unique_per_merchant"
            )
        ]
        indexes = [models.Index(fields=["merchant", "created_at"], name="idempotency_created_idx")]

    def __str__(self):
        return f"{self.key} ({self.merchant_id})"


def import_upload_path(instance: "CustomerImport", filename: str) -> str:
    """``imports/<merchant>/<import>.<ext>``: the stored name never carries what a person typed."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"imports/{instance.merchant_id}/{instance.pk}.{suffix}"


def import_rejects_path(instance: "CustomerImport", filename: str) -> str:
    return f"imports/{instance.merchant_id}/{instance.pk}.rejects.csv"


class ImportStatus(models.TextChoices):
    VALIDATING = "validating", _("Validating")
    VALIDATED = "validated", _("Validated")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CustomerImport(models.Model):
    """One file imported from the dashboard, from its upload to its summary.

    The whole upload is validated first (a dry run: ``validating`` → ``validated``); once the
    person confirms, a background task imports it (``queued`` → ``running`` → ``done``, or
    ``failed`` at any step). The file and the rejects file live in the default storage under
    ``imports/``, never served as they are: they are downloaded through a view that checks who
    asks.
    """

    Status = ImportStatus

    #: The statuses a task is working on or about to: the pages refresh while in them.
    IN_PROGRESS = frozenset({Status.VALIDATING, Status.QUEUED, Status.RUNNING})
    FILE_NAME_MAX_LENGTH = 255

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: the list's index starts with the merchant.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("merchant"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: Who the customers' events name: ``user:<username>`` when it was uploaded.
    actor = models.CharField(max_length=200)
    #: The language its author was reading when they uploaded it: the background task writes
    #: the rejected rows' problems in it.
    language = models.CharField(max_length=16, default=settings.LANGUAGE_CODE)
    file_name = models.CharField(max_length=FILE_NAME_MAX_LENGTH)
    upload = models.FileField(upload_to=import_upload_path, max_length=255, blank=True)
    update_existing = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VALIDATING)
    #: ``[[file column, field], …]`` in the file's order; the field is ``null`` for a column
    #: that is read but not imported (an export's ids and dates).
    columns = models.JSONField(default=list)
    total_rows = models.PositiveIntegerField(default=0)
    #: Rows the running task (the validation, then the import) has gone through.
    rows_done = models.PositiveIntegerField(default=0)
    # The validation (a dry run of the whole file): what the import would do.
    would_create = models.PositiveIntegerField(default=0)
    would_update = models.PositiveIntegerField(default=0)
    would_skip = models.PositiveIntegerField(default=0)
    would_reject = models.PositiveIntegerField(default=0)
    #: The first rejected rows of the validation: ``[[row number, message], …]``.
    dry_run_rejects = models.JSONField(default=list)
    # The import: what it did (kept up to date as batches commit).
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    rejects_file = models.FileField(
        upload_to=import_rejects_path, max_length=255, blank=True, null=True
    )
    error = models.TextField(blank=True)
    #: When the task validating or importing it last showed it was alive: at its claim, then
    #: with each batch. Past ``import_jobs.LEASE``, its worker is taken as stopped and another
    #: task takes the import over, from the last committed batch.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    #: How many times the work was taken over from a worker that stopped.
    takeovers = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    validated_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="customer_import_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImportStatus.values),
                name="customer_import_status_valid",
            )
        ]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def percent(self) -> int:
        return min(100, self.rows_done * 100 // self.total_rows) if self.total_rows else 0
