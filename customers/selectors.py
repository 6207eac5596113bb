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


def customers_for_user(user: AbstractBaseUser) -> QuerySet[Customer]:
    if user.is_active and user.is_superuser:
        return Customer.objects.all()
    return Customer.objects.filter(merchant_id__in=merchant_ids_for_user(user))


def api_keys_for_user(user: AbstractBaseUser) -> QuerySet[ApiKey]:
    if user.is_active and user.is_superuser:
        return ApiKey.objects.all()
    return ApiKey.objects.filter(merchant_id__in=merchant_ids_for_user(user))


def customer_history(customer: Customer) -> QuerySet[CustomerEvent]:
    """Newest first. Keyed by id, so it survives the customer's deletion."""
    return CustomerEvent.objects.filter(customer_id=customer.pk).order_by("-created_at", "-id")
