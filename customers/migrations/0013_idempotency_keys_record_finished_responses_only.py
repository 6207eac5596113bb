"""An idempotency record is a finished response: the key is held by a lock of the request's
transaction, never by an unfinished row, so such rows (left by requests that died) go."""

from django.db import migrations, models


def forget_unfinished(apps, schema_editor):
    apps.get_model("customers", "IdempotencyKey").objects.filter(status_code=None).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0012_search_statistics_from_a_larger_sample")]

    operations = [
        migrations.RunPython(forget_unfinished, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencykey",
            name="status_code",
            field=models.PositiveSmallIntegerField(),
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_body",
            field=models.JSONField(),
        ),
    ]
