"""Trigram indexes for the list's substring search, on PostgreSQL only.

Django's ``icontains`` on PostgreSQL emits ``UPPER(col::text) LIKE UPPER('%…%')``; these GIN
indexes are on exactly that expression, so the search is an index scan instead of a full scan.
SQLite has no trigram index; there the migration does nothing.
"""

from django.db import migrations

SEARCH_COLUMNS = ("name", "email", "phone", "reference", "company")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCH_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm ON customers_customer "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCH_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_staff_groups")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
