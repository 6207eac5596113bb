"""Foreign keys whose column leads a composite index or unique constraint of their table lose
the single-column index Django gave them: the composite index serves the same lookups and
cascades, and every insert (an event for each change of a customer) was writing both.

Only the indexes are dropped, where they are still there (``tests/test_schema.py`` checks that
none is left): altering the fields in the database would also drop and add back their foreign
keys, which PostgreSQL then checks row by row under a lock that holds off writes.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (table, column, the index dropped)
DROPPED = [
    ("customers_customerevent", "merchant_id", "customers_customerevent_merchant_id_a6683b86"),
    ("customers_customerimport", "merchant_id", "customers_customerimport_merchant_id_7c9d25bb"),
    ("customers_idempotencykey", "merchant_id", "customers_idempotencykey_merchant_id_73dfb9d3"),
    ("customers_membership", "user_id", "customers_membership_user_id_1557442f"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0022_import_language'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
                )
                for table, column, index in DROPPED
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='customerevent',
                    name='merchant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.merchant'),
                ),
                migrations.AlterField(
                    model_name='customerimport',
                    name='merchant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.merchant', verbose_name='merchant'),
                ),
                migrations.AlterField(
                    model_name='idempotencykey',
                    name='merchant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.merchant'),
                ),
                migrations.AlterField(
                    model_name='membership',
                    name='user',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
    ]
