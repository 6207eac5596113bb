"""A merchant's webhook endpoints, and the deliveries of its events to them with every attempt.

A delivery is recorded in the same transaction as its event (``webhooks.services``), so a change
is never committed without the promise to send it; workers then send it, at least once, retried
with backoff (``webhooks.delivery``).
"""

import secrets
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.ids import uuid7
from customers.models import CustomerEvent, Merchant

#: The event types an endpoint may subscribe to, and the wildcard for all of them.
EVENT_TYPES = sorted(set(CustomerEvent.TYPES.values()))
ALL_EVENTS = "*"

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class EndpointStatus(models.TextChoices):
    ENABLED = "enabled", _("Enabled")
    DISABLED = "disabled", _("Disabled")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookEndpoint(models.Model):
    """An HTTPS URL of a merchant that receives the events it subscribed to, signed with its
    secret (and, for a day after a rotation, with the previous one too)."""

    Status = EndpointStatus

    #: How long the previous secret still signs deliveries after a rotation.
    PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)
    URL_MAX_LENGTH = 2048
    DESCRIPTION_MAX_LENGTH = 500

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: the endpoints' index starts with the merchant.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("merchant"),
    )
    url = models.URLField(_("URL"), max_length=URL_MAX_LENGTH)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=EndpointStatus.choices, default=EndpointStatus.ENABLED
    )
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.CharField(max_length=200, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EndpointStatus.values), name="webhook_endpoint_status_valid"
            )
        ]
        indexes = [models.Index(fields=["merchant", "status"], name="webhook_endpoint_idx")]

    def __str__(self):
        return self.url

    @property
    def is_enabled(self) -> bool:
        return self.status == self.Status.ENABLED

    def wants(self, event_type: str) -> bool:
        return ALL_EVENTS in self.events or event_type in self.events

    def live_secrets(self, now=None) -> list[str]:
        """The secrets that sign a delivery now: the current one, and the previous one for a day
        after a rotation."""
        now = now or timezone.now()
        live = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_expires_at
            and (now < self.previous_secret_expires_at)
        ):
            live.append(self.previous_secret)
        return live


class WebhookDelivery(models.Model):
    """One event owed to one endpoint: pending until a 2xx answers it, failed when the retries
    run out."""

    Status = DeliveryStatus

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # No index of its own: the deliveries' index starts with the endpoint.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event = models.ForeignKey(CustomerEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempt_count = models.PositiveIntegerField(default=0)
    #: When the next attempt is due (pending only).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    #: A worker that claimed the attempt owns it until then (``webhooks.delivery.claim``).
    locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            )
        ]
        indexes = [
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_idx"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status=DeliveryStatus.PENDING),
            ),
        ]

    def __str__(self):
        return f"{self.event_id} → {self.endpoint_id}"


class WebhookAttempt(models.Model):
    """One try at a delivery: when, how long, and what came back."""

    RESPONSE_KEPT = 1024

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the attempts' unique constraint starts with the delivery.
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    #: The receiver's HTTP status, or null when none came (refused, timed out, closed).
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    #: The first kilobyte of the response body.
    response_body = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self):
        return f"Attempt {self.number} of {self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
