"""Plans that hold at any size, on PostgreSQL (on SQLite the migration does nothing).

- Search: each trigram index now leads with the merchant (``btree_gin``), so a search reads
  only the merchant's entries, whatever other merchants hold. The indexes are on exactly the
  expression ``icontains`` emits, ``UPPER(col::text)``.
- Email: the unique index on (merchant, lower(email)) is partial, and PostgreSQL keeps no
  statistics for the expression of a partial index; without them it guesses thousands of
  matches and walks the newest-first index through the whole table. Statistics on the
  expression let it see that an email matches one customer.
"""

from django.db import migrations

SEARCH_COLUMNS = ("name", "email", "phone", "reference", "company")
TABLE = "customers_customer"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for column in SEARCH_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_search ON {TABLE} "
            f"USING gin (merchant_id, (UPPER({column}::text)) gin_trgm_ops)"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm")
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS customer_email_lower_stats "
        f"ON (LOWER(email::text)) FROM {TABLE}"
    )
    schema_editor.execute(f"ANALYZE {TABLE}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP STATISTICS IF EXISTS customer_email_lower_stats")
    for column in SEARCH_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm ON {TABLE} "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_search")


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_customer_counts")]

    operations = [migrations.RunPython(forwards, backwards)]
