"""Small builders for test data; each goes through the real services and the real database."""

import importlib
import itertools

from django.contrib.auth.models import Group, Permission, User

from customers.models import ApiKey, Customer, Membership, Merchant
from customers.services import api_key_create, customer_create, merchant_create
from webhooks.models import WebhookEndpoint
from webhooks.services import endpoint_create

_sequence = itertools.count(1)

#: Each staff group's permissions, as the data migrations grant them: (app label, codename).
STAFF_GROUPS: dict[str, list[tuple[str, str]]] = {}
for app_label, migration in [
    ("customers", "customers.migrations.0002_staff_groups"),
    ("webhooks", "webhooks.migrations.0002_managers_manage_webhooks"),
]:
    for _name, _codenames in importlib.import_module(migration).GROUPS.items():
        STAFF_GROUPS.setdefault(_name, []).extend((app_label, c) for c in _codenames)


def staff_group(name: str) -> Group:
    """The staff group the data migration makes, made again if a flushed database (a test
    against the live server) has lost it; only what ``post_migrate`` rebuilds survives one."""
    group, created = Group.objects.get_or_create(name=name)
    if created:
        group.permissions.set(
            permission
            for permission in Permission.objects.select_related("content_type").filter(
                codename__in=[codename for _, codename in STAFF_GROUPS[name]]
            )
            if (permission.content_type.app_label, permission.codename) in STAFF_GROUPS[name]
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


def make_webhook_endpoint(merchant: Merchant, **fields) -> WebhookEndpoint:
    """An endpoint on a loopback address (the test settings allow plain HTTP and private
    hosts), so no name is looked up."""
    fields.setdefault("url", f"http://127.0.0.1:9/hooks/{next(_sequence)}")
    endpoint, _secret = endpoint_create(merchant=merchant, actor="user:tests", **fields)
    return endpoint


def unique_checks(queries) -> list[str]:
    """Of captured queries, those that look for another customer with the same email or
    reference."""
    clash = 'SELECT 1 AS "a" FROM "customers_customer" WHERE (NOT ('
    return [q["sql"] for q in queries if q["sql"].startswith(clash)]
