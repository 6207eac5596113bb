"""Every event has its number, unique in its merchant (kept apart from 0014's data update:
PostgreSQL alters no table with row updates still pending in the same transaction)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("customers", "0014_events_numbered_with_their_data")]

    operations = [
        migrations.AlterField(
            model_name="customerevent",
            name="number",
            field=models.BigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="customerevent",
            constraint=models.UniqueConstraint(
                fields=("merchant", "number"), name="customer_event_number"
            ),
        ),
    ]
