"""Managers manage webhook endpoints (and see their deliveries), beside the API keys."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Manager": [
        "view_webhookendpoint",
        "add_webhookendpoint",
        "change_webhookendpoint",
        "delete_webhookendpoint",
        "view_webhookdelivery",
        "change_webhookdelivery",
    ],
}


def grant(apps, schema_editor):
    # Permissions are normally created after the last migration; the group needs them now.
    app_config = apps.get_app_config("webhooks")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="webhooks", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="webhooks", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_endpoints_deliveries_attempts"),
        ("customers", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
