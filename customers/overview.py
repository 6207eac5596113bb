"""The dashboard's overview: a merchant's customers by status, type and country, new customers
per day, recent changes and webhook health, read from counters and indexes.

Status and type come from the counts kept with every write (exact, a few rows). Countries and
days are aggregates over an index (``(merchant, country)``, ``(merchant, created_at)``), which
at a million customers take a moment: they are cached briefly, per set of merchants, so a page
view never pays for them twice in a row.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from webhooks.models import DeliveryStatus, EndpointStatus, WebhookDelivery, WebhookEndpoint

from .models import Customer, CustomerCount, CustomerEvent

T = TypeVar("T")

#: How long the aggregates over the customers are reused.
CACHE_SECONDS = 60
#: The days of the new-customers chart, today included.
DAYS = 90
#: Countries shown by name; the rest are summed as "Other countries".
TOP_COUNTRIES = 8
RECENT_EVENTS = 8
#: How far back the webhook health counts failed deliveries.
WEBHOOK_WINDOW = timedelta(days=7)


@dataclass
class Bar:
    label: str
    count: int
    share: float  # of the largest bar, 0..1
    value: str = ""  # the filter value, when the bar links to the list


def bars(rows: list[tuple[str, str, int]]) -> list[Bar]:
    """(label, filter value, count) rows as bars scaled to the largest."""
    largest = max((count for _, _, count in rows), default=0) or 1
    return [Bar(label, count, count / largest, value) for label, value, count in rows]


def counts_by(merchant_ids: list, field: str, choices) -> list[Bar]:
    """Customers by status or type, from the kept counts: exact, and a handful of rows."""
    totals = dict(
        CustomerCount.objects.filter(merchant_id__in=merchant_ids)
        .values_list(field)
        .annotate(total=Sum("count"))
        .values_list(field, "total")
    )
    return bars([(label, value, int(totals.get(value) or 0)) for value, label in choices])


def _cached(name: str, merchant_ids: list, compute: Callable[[], T]) -> T:
    """``compute()``, reused for ``CACHE_SECONDS`` by every view of the same merchants."""
    digest = hashlib.sha256(",".join(sorted(map(str, merchant_ids))).encode()).hexdigest()[:32]
    key = f"overview:{name}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def by_country(merchant_ids: list) -> list[tuple[str, int]]:
    """(country code, customers) for every country, most first; "" for customers without one."""

    def compute() -> list[tuple[str, int]]:
        rows = (
            Customer.objects.filter(merchant_id__in=merchant_ids)
            .order_by()
            .values_list("country")
            .annotate(total=Count("*"))
            .values_list("country", "total")
        )
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    return _cached("countries", merchant_ids, compute)


def new_per_day(merchant_ids: list, today: date) -> list[tuple[date, int]]:
    """New customers on each of the last ``DAYS`` days (UTC), oldest first, zeros included."""
    first = today - timedelta(days=DAYS - 1)
    since = datetime.combine(first, time.min, tzinfo=UTC)  # a range the index serves

    def compute() -> dict[date, int]:
        rows = (
            Customer.objects.filter(merchant_id__in=merchant_ids, created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .order_by()
            .values_list("day")
            .annotate(total=Count("*"))
            .values_list("day", "total")
        )
        return dict(rows)

    counted = _cached(f"days:{today}", merchant_ids, compute)
    days = [first + timedelta(days=n) for n in range(DAYS)]
    return [(day, counted.get(day, 0)) for day in days]


def recent_events(merchant_ids: list) -> list[CustomerEvent]:
    return list(
        CustomerEvent.objects.filter(merchant_id__in=merchant_ids)
        .select_related("merchant")
        .defer("changes")
        .order_by("-created_at", "-id")[:RECENT_EVENTS]
    )


@dataclass
class WebhookHealth:
    enabled: int
    disabled: int
    pending: int
    failed_recently: int
    days: int


def webhook_health(merchant_ids: list) -> WebhookHealth:
    endpoints = dict(
        WebhookEndpoint.objects.filter(merchant_id__in=merchant_ids)
        .order_by()
        .values_list("status")
        .annotate(total=Count("*"))
        .values_list("status", "total")
    )
    deliveries = WebhookDelivery.objects.filter(endpoint__merchant_id__in=merchant_ids)
    since = timezone.now() - WEBHOOK_WINDOW
    counted = deliveries.aggregate(
        pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED, created_at__gte=since)),
    )
    return WebhookHealth(
        enabled=endpoints.get(EndpointStatus.ENABLED, 0),
        disabled=endpoints.get(EndpointStatus.DISABLED, 0),
        pending=counted["pending"],
        failed_recently=counted["failed"],
        days=WEBHOOK_WINDOW.days,
    )
