"""Reads scoped to what a caller may see, so tenancy is decided in one place.

A superuser sees every merchant; any other staff user only the merchants they are a member of;
an API key only its own merchant. The dashboard, the admin and the API all start here.
"""

import functools
import uuid
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, connections, models, router
from django.db.models import QuerySet

from .models import ApiKey, Customer, CustomerCount, CustomerEvent, Merchant, WholeRows

#: Whoever a request is from; an anonymous or inactive user sees nothing.
StaffUser = User | AnonymousUser
M = TypeVar("M", bound=models.Model)


def merchants_for_user(user: StaffUser) -> QuerySet[Merchant]:
    if not user.is_active:
        return Merchant.objects.none()
    if user.is_superuser:
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user_id=user.pk)


def merchant_ids_for_user(user: StaffUser) -> list[uuid.UUID]:
    """The ids themselves, not a subquery: with ``merchant_id = <id>`` (or a short list) the
    planner walks the (merchant, …) indexes in order; ``IN (SELECT …)`` makes it sort.

    Kept on the user object, which lives as long as its request: the tenancy of one page is
    asked for several times (its rows, its counts, its merchant column)."""
    return [pk for pk, _ in _merchants_of(user)]


def _merchants_of(user: StaffUser) -> list[tuple[uuid.UUID, str]]:
    """The user's merchants' (id, time zone), asked once per request."""
    found = getattr(user, "_merchants", None)
    if found is None:
        found = list(merchants_for_user(user).values_list("pk", "time_zone"))
        user._merchants = found  # type: ignore[union-attr]
    return found


def time_zone_for_user(user: StaffUser) -> str:
    """The zone the dashboard shows ``user`` times in: their merchants' own, if they share one;
    UTC otherwise (or for a user of none)."""
    zones = {zone for _, zone in _merchants_of(user)}
    return zones.pop() if len(zones) == 1 else "UTC"


def scoped_to_user(queryset: QuerySet, user: StaffUser) -> QuerySet:
    """The rows of ``queryset`` (a model with a ``merchant``) that ``user`` may see.

    A superuser's too are filtered by merchant ids (all of them): with them the planner can use
    the indexes that lead with the merchant."""
    return queryset.filter(merchant_id__in=merchant_ids_for_user(user))


def only_merchant_of(user: StaffUser) -> Merchant | None:
    """The merchant a user's new records belong to without asking: their only one. ``None``
    when they work for several (they choose) or for none."""
    merchants = list(merchants_for_user(user)[:2])
    return merchants[0] if len(merchants) == 1 else None


def works_for_several_merchants(user: StaffUser) -> bool:
    """Whether lists should say which merchant each row belongs to."""
    return len(merchant_ids_for_user(user)) > 1


def customers_for_user(user: StaffUser) -> QuerySet[Customer]:
    return scoped_to_user(Customer.objects.all(), user)


def scoped_to_caller(queryset: QuerySet, user: StaffUser, api_key: ApiKey | None) -> QuerySet:
    """The rows of ``queryset`` an API request may touch: its key's merchant's, else the
    staff user's."""
    if api_key is not None:
        return queryset.filter(merchant_id=api_key.merchant_id)
    return scoped_to_user(queryset, user)


def merchant_ids_for_caller(user: StaffUser, api_key: ApiKey | None) -> list[uuid.UUID]:
    """The merchants an API request may touch: its key's, else the staff user's."""
    return [api_key.merchant_id] if api_key is not None else merchant_ids_for_user(user)


def customers_for_caller(user: StaffUser, api_key: ApiKey | None) -> QuerySet[Customer]:
    if api_key is not None:
        return of_merchant(Customer, api_key.merchant_id)
    return scoped_to_user(Customer.objects.all(), user)


def customer_of_caller(
    user: StaffUser, api_key: ApiKey | None, customer_id: uuid.UUID
) -> Customer | None:
    """The caller's customer of id ``customer_id``, if any. Every GET, PATCH and DELETE of one
    customer asks it: for an API key, by one statement on its merchant and the id."""
    if api_key is None:
        return customers_for_user(user).filter(pk=customer_id).first()
    connection = connections[router.db_for_read(Customer)]
    found = WholeRows.on(Customer, connection).matching(
        merchant_id=api_key.merchant_id, id=customer_id
    )
    return found[0] if found else None


def customer_counts_for_caller(
    user: StaffUser, api_key: ApiKey | None = None
) -> QuerySet[CustomerCount]:
    """The kept counts of the merchants a caller sees, to total their lists."""
    if api_key is not None:
        return of_merchant(CustomerCount, api_key.merchant_id)
    return scoped_to_user(CustomerCount.objects.all(), user)


def of_merchant(model: type[M], merchant_id: uuid.UUID) -> QuerySet[M]:
    """``model``'s rows of one merchant (an API key's): a queryset built once per merchant, and
    copied for each use. Building the filter on ``merchant_id`` (a foreign key, joined and then
    trimmed) took as many calls as the rest of an API read's own queryset."""
    return _of_merchant(model, merchant_id).all()


@functools.lru_cache(maxsize=4096)
def _of_merchant(model: type[M], merchant_id: uuid.UUID) -> QuerySet[M]:
    # Never evaluated: each use gets a copy (.all()), and its results are its own.
    return model._default_manager.filter(merchant_id=merchant_id)


def api_keys_for_user(user: StaffUser) -> QuerySet[ApiKey]:
    return scoped_to_user(ApiKey.objects.all(), user)


def customer_countries(merchant_ids: list[uuid.UUID]) -> list[str]:
    """The countries the merchants' customers live in, sorted.

    On PostgreSQL, one probe of the (merchant, country, …) index per country found (a "loose
    index scan"), instead of a pass over every customer; elsewhere a plain DISTINCT.
    """
    if connection.vendor != "postgresql":
        rows = Customer.objects.filter(merchant_id__in=merchant_ids).exclude(country="")
        return list(rows.order_by("country").values_list("country", flat=True).distinct())
    table = Customer._meta.db_table
    countries: set[str] = set()
    with connection.cursor() as cursor:
        for merchant_id in merchant_ids:
            cursor.execute(
                f"""
                WITH RECURSIVE found (country) AS (
                    SELECT min(country) FROM {table} WHERE merchant_id = %(m)s AND country > ''
                  UNION ALL
                    SELECT (SELECT min(country) FROM {table}
                            WHERE merchant_id = %(m)s AND country > found.country)
                    FROM found WHERE found.country IS NOT NULL
                )
                SELECT country FROM found WHERE country IS NOT NULL
                """,
                {"m": merchant_id},
            )
            countries.update(country for (country,) in cursor.fetchall())
    return sorted(countries)


def customer_history(customer: Customer) -> QuerySet[CustomerEvent]:
    """Newest first. Keyed by id, so it survives the customer's deletion."""
    return CustomerEvent.objects.filter(customer_id=customer.pk).order_by("-created_at", "-id")
