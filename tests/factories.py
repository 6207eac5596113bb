"""Small builders for test data; each goes through the real services and the real database."""

import importlib
import itertools

from django.contrib.auth.models import Group, Permission, User

from customers.models import ApiKey, Customer, Membership, Merchant
from customers.services import api_key_create, customer_create, merchant_create

_sequence = itertools.count(1)

STAFF_GROUPS = importlib.import_module("customers.migrations.0002_staff_groups").GROUPS


def staff_group(name: str) -> Group:
    """The staff group the data migration makes, made again if a flushed database (a test
    against the live server) has lost it; only what ``post_migrate`` rebuilds survives one."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="customers", codename__in=STAFF_GROUPS[name]
            )
        )
    return group


def make_merchant(name: str | None = None, **kwargs) -> Merchant:
    n = next(_sequence)
    return merchant_create(name=name or f"Merchant {n}", slug=kwargs.get("slug", f"merchant-{n}"))


def make_user(
    *merchants: Merchant, group: str | None = None, username: str | None = None, **kwargs
) -> User:
    """A staff user, member of ``merchants``, in the staff group ``group`` (Viewer, Editor,
    Manager) if given. The password is ``password``."""
    user = User.objects.create_user(
        username=username or f"user{next(_sequence)}",
        password=kwargs.pop("password", "password"),
        is_staff=kwargs.pop("is_staff", True),
        **kwargs,
    )
    for merchant in merchants:
        Membership.objects.create(user=user, merchant=merchant)
    if group:
        user.groups.add(staff_group(group))
    return user


def make_customer(merchant: Merchant, **fields) -> Customer:
    n = next(_sequence)
    fields.setdefault("name", f"Customer {n}")
    if "email" not in fields and "phone" not in fields:
        fields["email"] = f"customer{n}@example.com"
    return customer_create(merchant=merchant, actor="user:tests", source="admin", **fields)


def make_api_key(merchant: Merchant, scopes: list[str] | None = None) -> tuple[ApiKey, str]:
    return api_key_create(merchant=merchant, name="Test key", scopes=scopes)
