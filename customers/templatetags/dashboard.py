"""Presentation helpers for the dashboard templates: sortable headers, readable values and the
lines of a customer's history."""

import datetime

import phonenumbers
from django import template
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from customers import normalizers
from customers.filtersets import CustomerFilterSet
from customers.models import Customer, CustomerEvent
from customers.normalizers import ADDRESS_KEYS, metadata_kind, metadata_text
from webhooks.models import DeliveryStatus

register = template.Library()

EMPTY = "—"

#: How the dashboard writes a date or a moment, by style, in each language (Django's date
#: format syntax, whose month and day names are translated): "30 Nov 2026, 14:05" in English,
#: "30 novembre 2026, 14:05" in French.
DATE_STYLES = {
    "en": {
        "date": "j M Y",
        "datetime": "j M Y, H:i",
        "seconds": "j M Y, H:i:s",
        "day_time": "j M, H:i",
        "day": "j M",
        "weekday": "D j M Y",
    },
    "fr": {
        "date": "j F Y",
        "datetime": "j F Y, H:i",
        "seconds": "j F Y, H:i:s",
        "day_time": "j F, H:i",
        "day": "j F",
        "weekday": "l j F Y",
    },
}


def date_format(style: str) -> str:
    """The format of ``style`` in the page's language."""
    language = (get_language() or "en").split("-")[0]
    return DATE_STYLES.get(language, DATE_STYLES["en"])[style]


@register.filter
def day(value: datetime.date | datetime.datetime | None, style: str = "date") -> str:
    """A date (or a moment's date, in the merchant's time zone) in the page's language."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
    return dateformat.format(value, date_format(style))


@register.filter
def in_utc(value: datetime.datetime | None, style: str = "datetime") -> str:
    """A moment in UTC, for a hover: "30 Nov 2026, 13:05 UTC"."""
    if value is None:
        return ""
    return f"{dateformat.format(value.astimezone(datetime.UTC), date_format(style))} UTC"


@register.simple_tag
def moment(value: datetime.datetime | None, style: str = "datetime"):
    """A moment in the merchant's time zone, named, with UTC on hover and in ``datetime``;
    ``style`` is one of ``DATE_STYLES``."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{} {}</time>',
        value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        in_utc(value, style),
        dateformat.format(local, date_format(style)),
        local.tzname(),
    )


@register.inclusion_tag("customers/includes/sort_header.html", takes_context=True)
def sort_header(context, field: str, label: str, classes: str = ""):
    """A column header (``<th>`` with ``classes``) that sorts by ``field``; a second click
    reverses the order."""
    request = context["request"]
    current = context["filter"].ordering_value
    ascending = current == field
    descending = current == f"-{field}"
    if ascending:
        target = f"-{field}"
    elif descending:
        target = field
    else:
        # Dates read newest first; names, statuses, types and countries A to Z.
        target = f"-{field}" if field.endswith("_at") else field
    query = [(key, value) for key, value in request.GET.items() if key not in {"ordering", "page"}]
    if target != CustomerFilterSet.DEFAULT_ORDERING:
        query.append(("ordering", target))
    return {
        "label": label,
        "classes": classes,
        "url": f"?{urlencode(query)}" if query else request.path,
        "sort": "ascending" if ascending else "descending" if descending else "none",
    }


@register.filter
def phone_display(value: str) -> str:
    """``+221771234567`` as ``+221 77 123 45 67``."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def delivery_status(value: str):
    """A webhook delivery's status as people read it ("Succeeded"), in the page's language."""
    return DeliveryStatus(value).label if value in DeliveryStatus.values else value


country_name = register.filter("country_name", normalizers.country_name)
currency_name = register.filter("currency_name", normalizers.currency_name)


@register.filter
def address_lines(address) -> list[str]:
    """The address as the lines of an envelope."""
    if not isinstance(address, dict):
        return []
    city_line = " ".join(part for part in (address.get("postal_code"), address.get("city")) if part)
    lines = [address.get("line1"), address.get("line2"), city_line, address.get("state")]
    return [line for line in lines if line]


register.filter("metadata_value", metadata_text)
register.filter("metadata_type", metadata_kind)


@register.filter
def actor_display(actor: str) -> dict:
    """``user:ada`` → ``{"kind": "user", "name": "ada"}``; ``api_key:1a2b3c4d`` → API key."""
    kind, __, name = actor.partition(":")
    kinds = {"user": _("user"), "api_key": _("API key")}
    if not name or kind not in kinds:
        return {"kind": "", "name": actor}
    return {"kind": kinds[kind], "name": name}


#: The customer's fields by name, as people read them: "WhatsApp", "Phone"…
FIELD_LABELS = {field.name: capfirst(field.verbose_name) for field in Customer._meta.fields}


def _field_label(field: str):
    # A field the customer no longer has may still be named in older history.
    return FIELD_LABELS.get(field) or str(capfirst(field.replace("_", " ")))


def _readable(field: str, value):
    if value in (None, "", {}, []):
        return EMPTY
    if field == "address" and isinstance(value, dict):
        return ", ".join(str(value[key]) for key in ADDRESS_KEYS if value.get(key))
    if field == "metadata" and isinstance(value, dict):
        return ", ".join(f"{key}={metadata_text(item)}" for key, item in value.items())
    if field in ("phone", "whatsapp"):
        return phone_display(value)
    if field == "status":
        return dict(Customer.Status.choices).get(value, value)
    if field == "type":
        return dict(Customer.Type.choices).get(value, value)
    return str(value)


@register.filter
def event_changes(event: CustomerEvent) -> list[dict]:
    """The lines of one history entry: old → new for a change, the values for a snapshot."""
    changes = event.changes or {}
    if event.action in (CustomerEvent.Action.UPDATED, CustomerEvent.Action.STATUS_CHANGED):
        return [
            {
                "field": _field_label(field),
                "old": _readable(field, pair[0]),
                "new": _readable(field, pair[1]),
            }
            for field, pair in changes.items()
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]
    return [
        {"field": _field_label(field), "value": _readable(field, value)}
        for field, value in changes.items()
        if value not in (None, "", {}, [])
    ]
