"""Reads scoped to what a staff user may see: a superuser sees every merchant, anyone else only
the merchants they are a member of. The dashboard, the admin and the browsable API all start
here, so tenancy is decided in one place."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from .models import ApiKey, Customer, CustomerEvent, Merchant


def merchants_for_user(user: AbstractBaseUser) -> QuerySet[Merchant]:
    if not user.is_active:
        return Merchant.objects.none()
    if user.is_superuser:
        return Merchant.objects.all()
    return Merchant.objects.filter(memberships__user=user)


def merchant_ids_for_user(user: AbstractBaseUser) -> list:
    """The ids themselves, not a subquery: with ``merchant_id = <id>`` (or a short list) the
    planner walks the (merchant, …) indexes in order; ``IN (SELECT …)`` makes it sort."""
    return list(merchants_for_user(user).values_list("pk", flat=True))


def scoped_to_user(queryset: QuerySet, user: AbstractBaseUser) -> QuerySet:
    """The rows of ``queryset`` (a model with a ``merchant``) that ``user`` may see."""
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(merchant_id__in=merchant_ids_for_user(user))


def customers_for_user(user: AbstractBaseUser) -> QuerySet[Customer]:
    return scoped_to_user(Customer.objects.all(), user)


def api_keys_for_user(user: AbstractBaseUser) -> QuerySet[ApiKey]:
    return scoped_to_user(ApiKey.objects.all(), user)


def customer_history(customer: Customer) -> QuerySet[CustomerEvent]:
    """Newest first. Keyed by id, so it survives the customer's deletion."""
    return CustomerEvent.objects.filter(customer_id=customer.pk).order_by("-created_at", "-id")
