"""Webhook endpoints and their deliveries in the admin: to look at, never to change.

Endpoints are managed where their secret can be shown once and every rule applies (the dashboard
and the API); the secrets themselves never appear here. Staff who are not superusers see only
their merchants' endpoints and deliveries.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from customers import selectors
from customers.admin import MerchantListFilter, TenantScopedAdmin

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnlyAdminMixin:
    """Listed and shown, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    list_display = ("url", "merchant", "status", "events", "description", "created_at")
    list_filter = ("status", ("merchant", MerchantListFilter))
    list_select_related = ("merchant",)
    search_fields = ("url",)
    search_help_text = "Part of the URL."
    ordering = ("-created_at",)
    # Never ``secret`` nor ``previous_secret``.
    fields = (
        "id",
        "merchant",
        "url",
        "events",
        "description",
        "status",
        "previous_secret_expires_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "status_code", "duration_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Attempts are part of their delivery: whoever may see it sees them.
        return request.user.has_perm("webhooks.view_webhookdelivery")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "event_type",
        "endpoint",
        "status",
        "attempt_count",
        "created_at",
        "next_attempt_at",
        "finished_at",
    )
    list_filter = ("status",)
    list_select_related = ("endpoint", "event")
    search_fields = ("endpoint__url",)
    search_help_text = "Part of the endpoint's URL."
    ordering = ("-created_at",)
    fields = (
        "id",
        "endpoint",
        "event",
        "event_type",
        "status",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (WebhookAttemptInline,)
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(endpoint__merchant_id__in=selectors.merchant_ids_for_user(request.user))
        )

    @admin.display(description=gettext_lazy("event"))
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.type
