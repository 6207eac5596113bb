"""The one filter of the customer list, shared by the REST API and the dashboard.

Every parameter is validated: a malformed value is a form error naming the parameter, never a
silently ignored filter. Values are normalised by the same functions as the stored fields, so
``country=Senegal`` finds what was stored as ``SN``.
"""

import copy
import datetime
import difflib
import functools
from collections.abc import Iterable

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.widgets import BaseCSVWidget

from . import normalizers
from .models import ApiKey, Customer, CustomerCount, CustomerEvent, column_sum
from .selectors import merchant_ids_for_caller

#: The trigram indexes that serve a search need three characters to look anything up.
SEARCH_MIN_LENGTH = 3


def unknown_parameter_message(name: str, known: Iterable[str]) -> str:
    """What the API and the dashboard say of a query parameter they do not know: a typo never
    silently widens a list."""
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return _("Unknown query parameter; did you mean %(name)s?") % {"name": close[0]}
    return _("Unknown query parameter.")


class NormalizedField(forms.CharField):
    """A text field whose value goes through one of the customer normalisers."""

    def __init__(self, *args, normalize, **kwargs):
        self.normalize = normalize
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.normalize(value) if value else value


class DateOrDateTimeField(forms.CharField):
    """ISO 8601 date (``2026-06-05``) or date-time (``2026-06-05T12:00:00Z``); naive is UTC."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            moment = parse_datetime(value)
            if moment is None:
                day = parse_date(value)
                if day is not None:
                    moment = datetime.datetime.combine(day, datetime.time.min)
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError(
                gettext_lazy(
                    "Enter an ISO 8601 date or date-time, e.g. 2026-06-05 or 2026-06-05T12:00:00Z."
                ),
                code="invalid",
            )
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, datetime.UTC)
        try:
            # Stored and compared in UTC; 0001-01-01T00:00+05:00 has no UTC date.
            return moment.astimezone(datetime.UTC)
        except OverflowError:
            raise ValidationError(
                gettext_lazy("Enter a date-time between the years 1 and 9999 in UTC."),
                code="invalid",
            ) from None


class DateOrDateTimeInput(forms.TextInput):
    """A date picker in HTML; a plain text box when the value is a date-time, which a date
    picker would silently drop. Reads the value exactly as a text box does."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        try:
            is_date = not value or parse_date(str(value)) is not None
        except ValueError:
            is_date = False
        context["widget"]["type"] = "date" if is_date else "text"
        return context


class SharedOptions(django_filters.Filter):
    """A filter whose copies share its options.

    django-filter deep-copies every declared filter for each FilterSet it builds, that is for
    every request, and the copying was most of a list request's filtering cost. Options
    (labels, choices, widgets, the form field) never change after declaration; what a FilterSet
    sets on its copy (its parent, its model) is set on the copy itself.
    """

    def __deepcopy__(self, memo):
        copied = object.__new__(type(self))
        copied.__dict__.update(self.__dict__)
        if copied.method is not None:
            copied.method = copied.method  # a method filter calls its own copy's parent
        return copied


class TextFilter(SharedOptions, django_filters.CharFilter):
    pass


class OneOfFilter(SharedOptions, django_filters.ChoiceFilter):
    """One of its choices: any other value is refused naming the values to use."""

    def __init__(self, *args, choices, **kwargs):
        kwargs.setdefault(
            "error_messages", {"invalid_choice": normalizers.not_a_choice_message(choices)}
        )
        super().__init__(*args, choices=choices, **kwargs)


class NormalizedFilter(TextFilter):
    field_class = NormalizedField


class DateOrDateTimeFilter(SharedOptions, django_filters.Filter):
    field_class = DateOrDateTimeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", DateOrDateTimeInput)
        super().__init__(*args, **kwargs)


class ChoiceInFilter(django_filters.BaseInFilter, OneOfFilter):
    """One choice or several, comma-separated: ``status=active,blocked``."""


class CheckboxesInCSV(BaseCSVWidget, forms.CheckboxSelectMultiple):
    """Several choices as checkboxes, read as the API's one comma-separated value: a form's
    ``status=active&status=blocked`` and a shared link's ``status=active,blocked`` are the same
    filter, and both show as the boxes ticked."""

    def value_from_datadict(self, data, files, name):
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        picked = [part for value in values if value for part in value.split(",") if part]
        return picked if name in data else None

    def render(self, name, value, attrs=None, renderer=None):
        return forms.CheckboxSelectMultiple.render(self, name, value, attrs, renderer)

    def format_value(self, value):
        if isinstance(value, str):
            value = value.split(",")
        return super().format_value(value)


FormClass = type[forms.Form]


class SharedFields(dict):
    """The fields of a filter form, shared by all its instances.

    A Django form deep-copies its class's fields for each instance, so that one form may change
    its own (a label, a queryset) without touching the others: for a filter form, on every list
    request, and the copying was the largest part of validating a query string. The filter
    forms never change a field once declared, so each form holds the same field objects; its
    data, errors and cleaned values are its own as ever.
    """

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


class SharedFilters(dict):
    """The filters of a FilterSet class, copied for each of its FilterSets (each binds its copies
    to itself) by a shallow copy of each (see ``SharedOptions``), not by ``copy.deepcopy``'s
    walk of the dictionary."""

    def __deepcopy__(self, memo) -> dict:
        return {
            name: filter_.__deepcopy__(memo)
            if isinstance(filter_, SharedOptions)
            else copy.deepcopy(filter_, memo)
            for name, filter_ in self.items()
        }


class FilterForm(forms.Form):
    """A filter form cleans the parameters given, and only them.

    A parameter left out filters nothing, and cleaning each left-out field anyway (for the
    customer list, eleven of twelve on most requests) was most of validating a query string.
    A left-out parameter has no cleaned value (``cleaned_data`` holds the given ones); the form
    still shows every field."""

    def full_clean(self):
        every_field = self.fields
        self.fields = {
            name: field
            for name, field in every_field.items()
            if not field.widget.value_omitted_from_data(
                self.data, self.files, self.add_prefix(name)
            )
        }
        try:
            super().full_clean()
        finally:
            self.fields = every_field


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose filters and form class are built once: its filters copied cheaply for
    each request (``SharedFilters``), its form's fields shared by all its forms
    (``SharedFields``), and a form that cleans only the parameters given (``FilterForm``)."""

    @classmethod
    def get_filters(cls):
        return SharedFilters(super().get_filters())

    @classmethod
    @functools.cache
    def form_class(cls) -> FormClass:
        """The form of the filters, built once: its fields are the same for every request, and
        every form shares them (see ``SharedFields``)."""
        fields = {name: filter_.field for name, filter_ in cls.base_filters.items()}
        bases = (FilterForm, cls._meta.form)
        form_class: FormClass = type(f"{cls.__name__}Form", bases, fields)
        form_class.base_fields = SharedFields(form_class.base_fields)
        return form_class

    def get_form_class(self):
        return self.form_class()


class CustomerFilterSet(FilterSet):
    """Filters, search and ordering of SPEC's customer list; all of them combine with AND."""

    #: ``ordering`` value → ORDER BY; the id breaks ties so keyset pagination is exact. Each is
    #: the column order of one (merchant, …, id) index, every column the same way: the index
    #: serves it read forwards or backwards. Status, type and country keep equal values newest
    #: last (or first, reversed), as their indexes hold them.
    ORDERINGS = {
        "created_at": ("created_at", "id"),
        "-created_at": ("-created_at", "-id"),
        "name": ("name", "id"),
        "-name": ("-name", "-id"),
        "updated_at": ("updated_at", "id"),
        "-updated_at": ("-updated_at", "-id"),
        "status": ("status", "created_at", "id"),
        "-status": ("-status", "-created_at", "-id"),
        "type": ("type", "created_at", "id"),
        "-type": ("-type", "-created_at", "-id"),
        "country": ("country", "created_at", "id"),
        "-country": ("-country", "-created_at", "-id"),
    }
    DEFAULT_ORDERING = "-created_at"
    #: Filters whose matches the kept counts can total (``CustomerCount``); ordering counts none.
    COUNTED = frozenset({"status", "type", "is_active", "ordering"})

    email = TextFilter(
        method="filter_email",
        label=gettext_lazy("Email"),
        help_text=gettext_lazy("Exact address, any case."),
    )
    phone = NormalizedFilter(
        field_name="phone",
        normalize=normalizers.normalize_phone,
        label=gettext_lazy("Phone"),
        help_text=gettext_lazy("Exact number in international form, e.g. +221 77 123 45 67."),
    )
    type = OneOfFilter(
        choices=Customer.Type.choices, label=gettext_lazy("Type"), empty_label=gettext_lazy("Any")
    )
    is_active = OneOfFilter(
        choices=[("true", gettext_lazy("Active")), ("false", gettext_lazy("Not active"))],
        method="filter_is_active",
        label=gettext_lazy("Active"),
        empty_label=gettext_lazy("Any"),
        help_text=gettext_lazy("true or false."),
    )
    status = ChoiceInFilter(
        field_name="status",
        choices=Customer.Status.choices,
        empty_label=None,  # a box per status; none ticked is any status
        label=gettext_lazy("Status"),
        widget=CheckboxesInCSV,
        help_text=gettext_lazy("One status, or several comma-separated."),
    )
    reference = TextFilter(
        label=gettext_lazy("Reference"), help_text=gettext_lazy("Exact reference.")
    )
    country = NormalizedFilter(
        field_name="country",
        normalize=normalizers.normalize_country,
        label=gettext_lazy("Country"),
        help_text=gettext_lazy(
            "ISO code, or name in English or French: SN, SEN, Senegal or Sénégal."
        ),
    )
    currency = NormalizedFilter(
        field_name="currency",
        normalize=normalizers.normalize_currency,
        label=gettext_lazy("Currency"),
        help_text=gettext_lazy("ISO 4217 code, e.g. XOF."),
    )
    created_after = DateOrDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label=gettext_lazy("Created from"),
        help_text=gettext_lazy("ISO 8601 date or date-time (inclusive)."),
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        label=gettext_lazy("Created before"),
        help_text=gettext_lazy("ISO 8601 date or date-time (exclusive)."),
    )
    search = TextFilter(
        method="filter_search",
        label=gettext_lazy("Search"),
        help_text=format_lazy(
            gettext_lazy(
                "At least {count} characters of the name, email, phone, reference or company, "
                "any case."
            ),
            count=SEARCH_MIN_LENGTH,
        ),
        min_length=SEARCH_MIN_LENGTH,
        error_messages={
            "min_length": gettext_lazy(
                "Search for at least %(limit_value)d characters (this is %(show_value)d)."
            )
        },
    )
    ordering = OneOfFilter(
        choices=[(value, value) for value in ORDERINGS],
        method="filter_ordering",
        label=gettext_lazy("Order by"),
        empty_label=None,
        help_text=gettext_lazy(
            "created_at, name, updated_at, status, type or country; a leading '-' reverses. "
            "Status, type and country sort by their codes (no country first), then by "
            "created_at the same way. Default -created_at."
        ),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_email(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Exactly the expression of the unique index (merchant, lower(email)) WHERE email <> ''.
        return queryset.filter(~Q(email=""), Exact(Lower("email"), value.lower()))

    def filter_is_active(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return self.active_or_not(queryset, value == "true")

    @staticmethod
    def active_or_not(queryset: QuerySet, active: bool) -> QuerySet:
        """Customers whose status is active, or any other; the admin's filter too."""
        # Statuses by name rather than "not active", so the status index can find them.
        statuses = [
            status
            for status in Customer.Status.values
            if (status == Customer.Status.ACTIVE) == active
        ]
        return queryset.filter(status__in=statuses)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The form field has trimmed the value, and an empty one never reaches a filter method.
        return self.search_customers(queryset, value)

    @staticmethod
    def search_customers(queryset: QuerySet, value: str) -> QuerySet:
        """Customers with ``value`` in their name, email, phone, reference or company, any
        case: ``UPPER(col) LIKE``, the expression of the trigram indexes.

        A phone-like value is looked for in the phones by its digits, so a number is found as
        the dashboard shows it (``+221 77 123 45 67``) or as dialled at home (``077 123 45 67``);
        the other columns are searched for the value as typed (a reference ``2024-001``)."""
        phone = normalizers.phone_search_digits(value, min_digits=SEARCH_MIN_LENGTH) or value
        return queryset.filter(
            Q(name__icontains=value)
            | Q(email__icontains=value)
            | Q(phone__icontains=phone)
            | Q(reference__icontains=value)
            | Q(company__icontains=value)
        )

    def filter_ordering(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset

    @property
    def ordering_value(self) -> str:
        """The ordering in force (the default when none or an invalid one was asked for)."""
        cleaned = getattr(self.form, "cleaned_data", {})
        return cleaned.get("ordering") or self.DEFAULT_ORDERING

    def counted_total(self, counts: QuerySet[CustomerCount]) -> int | None:
        """How many customers match, summed from ``counts`` (the caller's merchants' kept
        counts); ``None`` when a filter in force is one the counts cannot answer."""
        in_force = {name: value for name, value in self.form.cleaned_data.items() if value}
        if not set(in_force) <= self.COUNTED:
            return None
        if "status" in in_force:
            counts = counts.filter(status__in=in_force["status"])
        if "type" in in_force:
            counts = counts.filter(type=in_force["type"])
        if "is_active" in in_force:
            active = Q(status=Customer.Status.ACTIVE)
            counts = counts.filter(active if in_force["is_active"] == "true" else ~active)
        return column_sum(counts, "count")

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*self.ORDERINGS[self.ordering_value])


class EventFilterSet(FilterSet):
    """The filters of the event feed and of the dashboard's Activity; all combine with AND."""

    type = ChoiceInFilter(
        choices=[(type_, type_) for type_ in sorted(set(CustomerEvent.TYPES.values()))],
        method="filter_type",
        label=gettext_lazy("Type"),
        empty_label=gettext_lazy("Any"),
        # A select in HTML for one type; several (a shared link) show as the CSV text.
        widget=forms.Select,
        help_text=gettext_lazy("One event type, or several comma-separated."),
    )
    source = OneOfFilter(
        choices=Customer.Source.choices,
        label=gettext_lazy("Door"),
        empty_label=gettext_lazy("Any"),
        help_text=gettext_lazy("Where the change came from: api, dashboard, admin or import."),
    )
    actor = TextFilter(
        label=gettext_lazy("Who"),
        help_text=gettext_lazy("user:<username> or api_key:<prefix>, exactly as shown."),
    )
    customer = django_filters.UUIDFilter(
        field_name="customer_id",
        label=gettext_lazy("Customer"),
        help_text=gettext_lazy("A customer's id."),
    )
    created_after = DateOrDateTimeFilter(
        field_name="created_at",
        method="filter_created_after",
        label=gettext_lazy("Created from"),
        help_text=gettext_lazy("ISO 8601 date or date-time (inclusive)."),
    )
    created_before = DateOrDateTimeFilter(
        field_name="created_at",
        method="filter_created_before",
        label=gettext_lazy("Created before"),
        help_text=gettext_lazy("ISO 8601 date or date-time (exclusive)."),
    )

    class Meta:
        model = CustomerEvent
        fields: list[str] = []

    def filter_type(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(action__in=CustomerEvent.actions_of(value))

    # A merchant's events never go back in time along their numbers, so the events from a
    # moment on are the numbers from the first of them on (and those before a moment, the
    # numbers up to the last of them): a range of the (merchant, number) index, found by one
    # probe of the (merchant, created_at) index, instead of a walk of the numbers that filters
    # on a time the planner cannot tell follows them.

    def filter_created_after(self, queryset: QuerySet, name: str, moment) -> QuerySet:
        return self._numbers_on_one_side(queryset, moment, after=True)

    def filter_created_before(self, queryset: QuerySet, name: str, moment) -> QuerySet:
        return self._numbers_on_one_side(queryset, moment, after=False)

    def _numbers_on_one_side(self, queryset: QuerySet, moment, *, after: bool) -> QuerySet:
        side = {"created_at__gte": moment} if after else {"created_at__lt": moment}
        nearest = ("created_at", "number") if after else ("-created_at", "-number")
        in_range = Q()
        for merchant_id in self.merchant_ids():
            edge = (
                CustomerEvent.objects.filter(merchant_id=merchant_id, **side)
                .order_by(*nearest)
                .values_list("number", flat=True)
                .first()
            )
            if edge is not None:
                bound = {"number__gte": edge} if after else {"number__lte": edge}
                in_range |= Q(merchant_id=merchant_id, **bound)
        if not in_range:
            return queryset.none()
        return queryset.filter(in_range, **side)

    def merchant_ids(self) -> list:
        auth = getattr(self.request, "auth", None)
        api_key = auth if isinstance(auth, ApiKey) else None
        return merchant_ids_for_caller(self.request.user, api_key)
