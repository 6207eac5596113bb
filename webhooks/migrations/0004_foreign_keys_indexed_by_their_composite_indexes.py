"""As customers' 0023: the foreign keys that lead a composite index or unique constraint lose
their own index (a delivery for each event and endpoint, an attempt for each try, were writing
both); only the indexes are dropped, the foreign keys stay as they are."""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, the index dropped)
DROPPED = [
    ("webhooks_webhookattempt", "delivery_id", "webhooks_webhookattempt_delivery_id_c57db657"),
    ("webhooks_webhookdelivery", "endpoint_id", "webhooks_webhookdelivery_endpoint_id_d5bfb5c8"),
    ("webhooks_webhookendpoint", "merchant_id", "webhooks_webhookendpoint_merchant_id_f9ef291a"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0003_names_translated'),
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
                    model_name='webhookattempt',
                    name='delivery',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='webhooks.webhookdelivery'),
                ),
                migrations.AlterField(
                    model_name='webhookdelivery',
                    name='endpoint',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookendpoint'),
                ),
                migrations.AlterField(
                    model_name='webhookendpoint',
                    name='merchant',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='customers.merchant', verbose_name='merchant'),
                ),
            ],
        ),
    ]
