"""The unique index on (merchant, lower(email)) rebuilt on SQLite, whose ``lower()`` now folds
every letter as PostgreSQL's does (``customers/sqlite.py``): entries written with SQLite's
ASCII-only ``lower()`` are keyed again the way every later lookup computes them. If two stored
emails now prove to be one, the rebuild fails naming the index, rather than leaving a duplicate
unseen. PostgreSQL's index is unchanged; there the migration does nothing.
"""

from django.db import migrations

INDEX = "customer_unique_email_per_merchant"


def rebuild(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute(f"REINDEX {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_indexes_for_each_equality_filter")]

    operations = [migrations.RunPython(rebuild, migrations.RunPython.noop)]
