"""Events become the API's feed: each is numbered in its merchant's order (``number``) and
carries the customer as the API renders it (``data``).

Events recorded before keep what they recorded: the fields of the customer they saw (all of
them for a creation or a deletion, the changed ones for an update), rendered as the API renders
them, with the old values of an update as ``previous_attributes``. They are numbered by time.
"""

from django.db import migrations, models

OBJECT_FIELDS = ("address", "metadata")


def _api_value(field, value):
    if field in OBJECT_FIELDS:
        return value or {}
    if field in ("type", "status", "name"):
        return value
    return value or None


def number_and_describe(apps, schema_editor):
    Event = apps.get_model("customers", "CustomerEvent")
    Merchant = apps.get_model("customers", "Merchant")
    last = {}
    events = Event.objects.order_by("merchant_id", "created_at", "id").iterator(chunk_size=2000)
    for event in events:
        number = last.get(event.merchant_id, 0) + 1
        last[event.merchant_id] = number
        identity = {"id": str(event.customer_id), "merchant_id": str(event.merchant_id)}
        if event.action in ("created", "deleted"):
            fields = {f: _api_value(f, v) for f, v in event.changes.items()}
            if "status" in fields:
                fields["is_active"] = fields["status"] == "active"
            data = {"object": {**identity, **fields}}
        else:
            data = {
                "object": {
                    **identity,
                    **{f: _api_value(f, new) for f, (_old, new) in event.changes.items()},
                },
                "previous_attributes": {
                    f: _api_value(f, old) for f, (old, _new) in event.changes.items()
                },
            }
        Event.objects.filter(pk=event.pk).update(number=number, data=data)
    for merchant_id, number in last.items():
        Merchant.objects.filter(pk=merchant_id).update(
            last_event_number=number, last_event_at=Event.objects.get(
                merchant_id=merchant_id, number=number
            ).created_at
        )


class Migration(migrations.Migration):
    dependencies = [("customers", "0013_idempotency_keys_record_finished_responses_only")]

    operations = [
        migrations.AddField(
            model_name="merchant",
            name="last_event_number",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="merchant",
            name="last_event_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="customerevent",
            name="data",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="customerevent",
            name="number",
            field=models.BigIntegerField(null=True),
        ),
        migrations.RunPython(number_and_describe, migrations.RunPython.noop),
    ]
