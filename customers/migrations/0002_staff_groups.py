"""The staff groups: Viewer (view), Editor (view, add, change), Manager (all, plus API keys)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Viewer": ["view_customer"],
    "Editor": ["view_customer", "add_customer", "change_customer"],
    "Manager": [
        "view_customer",
        "add_customer",
        "change_customer",
        "delete_customer",
        "view_apikey",
        "add_apikey",
        "change_apikey",
        "delete_apikey",
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after the last migration; these groups need them now.
    app_config = apps.get_app_config("customers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="customers", codename__in=codenames)
        )


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
