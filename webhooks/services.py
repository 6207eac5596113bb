"""Every write to webhook endpoints, whatever the door (API, dashboard), and the recording of
the deliveries an event owes, in the event's own transaction."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import CustomerEvent, Merchant
from customers.normalizers import text_problem

from . import delivery as sending
from .models import ALL_EVENTS, EVENT_TYPES, WebhookDelivery, WebhookEndpoint, new_secret
from .urls_guard import UnsafeURL, resolve

#: Fields a client may write.
EDITABLE_FIELDS = ("url", "events", "description", "status")


def clean_events(value: Any) -> list[str]:
    """A non-empty list of known event types, or ``["*"]``; in a stable order, each once."""
    choices = ", ".join([*EVENT_TYPES, ALL_EVENTS])
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValidationError(
            {"events": _("Give a list of event types among %(choices)s.") % {"choices": choices}}
        )
    unknown = [v for v in value if v != ALL_EVENTS and v not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            {
                "events": _("Unknown event type “%(type)s”. Choose among %(choices)s.")
                % {"type": unknown[0], "choices": choices}
            }
        )
    if ALL_EVENTS in value:
        return [ALL_EVENTS]
    return [t for t in EVENT_TYPES if t in value]


def _clean(endpoint: WebhookEndpoint, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    errors: dict[str, list[str]] = {}
    if "events" in fields:
        try:
            fields["events"] = clean_events(fields["events"])
        except ValidationError as error:
            errors.update(error.message_dict)
    for name in ("url", "description"):
        if name in fields:
            value = fields[name]
            if not isinstance(value, str):
                errors[name] = [_("Give a string.")]
                continue
            fields[name] = value = value.strip()
            problem = text_problem(value)
            if problem:
                errors[name] = problem.messages
    for name, value in fields.items():
        setattr(endpoint, name, value)
    try:
        endpoint.full_clean(exclude=["merchant", *errors])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, messages)
    if "url" in fields and "url" not in errors:
        try:
            resolve(endpoint.url)
        except UnsafeURL as error:
            errors["url"] = [str(error)]
    if errors:
        raise ValidationError(errors)


def endpoint_create(
    *, merchant: Merchant, actor: str, **fields: Any
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; return it with its secret (shown once: it is the only time)."""
    fields.setdefault("events", [ALL_EVENTS])
    endpoint = WebhookEndpoint(merchant=merchant, created_by=actor, secret=new_secret())
    _clean(endpoint, fields)
    endpoint.save(force_insert=True)
    return endpoint, endpoint.secret


def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Change an endpoint. Disabled, it is sent nothing (its deliveries wait); enabled again,
    what it is owed is sent."""
    was_enabled = endpoint.is_enabled
    _clean(endpoint, fields)
    endpoint.updated_at = timezone.now()
    with transaction.atomic():
        endpoint.save(update_fields=[*fields, "updated_at"])
        if endpoint.is_enabled and not was_enabled:
            sending.resume(endpoint.pk)
    return endpoint


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one still signs deliveries (beside the new) for a day."""
    now = timezone.now()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + WebhookEndpoint.PREVIOUS_SECRET_LIFETIME
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    endpoint.save(
        update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"]
    )
    return endpoint.secret


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries; nothing more is sent to it."""
    endpoint.delete()


def deliveries_record(event: CustomerEvent) -> list[WebhookDelivery]:
    """The deliveries ``event`` owes to its merchant's enabled endpoints that want its type,
    recorded and scheduled in the caller's transaction (the event's own)."""
    return deliveries_record_many(event.merchant_id, [event])


def deliveries_record_many(merchant_id, events: list[CustomerEvent]) -> list[WebhookDelivery]:
    """The deliveries a batch of one merchant's ``events`` owes, as ``deliveries_record`` does
    for each: the endpoints are read once and the deliveries inserted together."""
    if not events:
        return []
    endpoints = list(
        WebhookEndpoint.objects.filter(
            merchant_id=merchant_id, status=WebhookEndpoint.Status.ENABLED
        ).only("events")
    )
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, created_at=now, next_attempt_at=now)
        for event in events
        for endpoint in endpoints
        if endpoint.wants(event.type)
    )
    sending.schedule([d.pk for d in deliveries], now)
    return deliveries
