"""Customers and their events as the API shows them: one rendering, which the API's responses,
the events' ``data`` and the webhooks to come all share, so what a client reads in an event is
exactly what ``GET`` returned at that moment."""

import datetime
from typing import Any

from .models import Customer, CustomerEvent


def rfc3339(moment: datetime.datetime) -> str:
    """RFC 3339 in UTC with milliseconds: ``2026-06-05T12:00:00.123Z``."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def customer_json(customer: Customer) -> dict[str, Any]:
    """The customer as ``GET /api/v1/customers/{id}`` renders it. Optional text is null when
    empty; ``address`` and ``metadata`` are ``{}``."""
    return {
        "id": str(customer.id),
        "merchant_id": str(customer.merchant_id),
        "reference": customer.reference or None,
        "type": customer.type,
        "name": customer.name,
        "first_name": customer.first_name or None,
        "last_name": customer.last_name or None,
        "company": customer.company or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "whatsapp": customer.whatsapp or None,
        "country": customer.country or None,
        "address": customer.address or {},
        "currency": customer.currency or None,
        "website": customer.website or None,
        "description": customer.description or None,
        "status": customer.status,
        "is_active": customer.is_active,
        "metadata": customer.metadata or {},
        "source": customer.source,
        "created_by": customer.created_by,
        "created_at": rfc3339(customer.created_at),
        "updated_at": rfc3339(customer.updated_at),
    }


def event_json(event: CustomerEvent) -> dict[str, Any]:
    """An event as ``GET /api/v1/events/{id}`` renders it."""
    return {
        "id": str(event.id),
        "type": event.type,
        "created_at": rfc3339(event.created_at),
        "customer_id": str(event.customer_id),
        "source": event.source,
        "actor": event.actor,
        "data": event.data,
    }
