"""The dashboard's webhook pages (Managers): endpoints, their recent deliveries with every
attempt, and Resend.

As on the other pages, memberships decide which merchants' endpoints a user sees (another
merchant's endpoint is a 404) and model permissions what they may do (403 otherwise). Every
write goes through ``webhooks.services`` or ``webhooks.delivery``.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, DetailView, ListView, UpdateView, View
from django.views.generic.detail import SingleObjectMixin

from customers.selectors import merchant_ids_for_user, scoped_to_user
from customers.services import actor_label
from customers.views import MerchantColumnMixin, NewForMerchantMixin

from . import delivery as sending
from .forms import EndpointStatusForm, WebhookEndpointEditForm, WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint
from .services import endpoint_delete, endpoint_rotate_secret, endpoint_update

#: How far back the list counts an endpoint's failed deliveries.
HEALTH_WINDOW = timedelta(days=7)
#: How long a rotated-out secret still signs, as the pages say it.
PREVIOUS_SECRET_HOURS = int(WebhookEndpoint.PREVIOUS_SECRET_LIFETIME.total_seconds() // 3600)


def secret_page(view, *, endpoint: WebhookEndpoint, secret: str, rotated: bool):
    """The one response that shows a secret: never kept by a cache."""
    response = view.response_class(
        request=view.request,
        template="webhooks/endpoint_secret.html",
        context=view.get_context_data(
            endpoint=endpoint,
            secret=secret,
            rotated=rotated,
            previous_secret_hours=PREVIOUS_SECRET_HOURS,
        ),
    )
    response["Cache-Control"] = "no-store"
    return response


class EndpointAccessMixin(PermissionRequiredMixin):
    """The endpoints of the user's merchants; anonymous users go to the login page."""

    context_object_name: str | None = "endpoint"
    request: HttpRequest

    def get_queryset(self):
        return scoped_to_user(WebhookEndpoint.objects.all(), self.request.user).select_related(
            "merchant"
        )


class EndpointListView(EndpointAccessMixin, MerchantColumnMixin, ListView):
    """Each endpoint with its health: how its latest delivery went, and how many failed of
    late (each read from the (endpoint, created_at) index)."""

    permission_required = "webhooks.view_webhookendpoint"
    template_name = "webhooks/endpoint_list.html"
    context_object_name = "endpoints"

    def get_queryset(self):
        deliveries = WebhookDelivery.objects.filter(endpoint=OuterRef("pk"))
        latest = deliveries.order_by("-created_at")
        failed = (
            deliveries.filter(
                status=WebhookDelivery.Status.FAILED,
                created_at__gte=timezone.now() - HEALTH_WINDOW,
            )
            .values("endpoint")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return (
            super()
            .get_queryset()
            .annotate(
                last_delivery_status=Subquery(latest.values("status")[:1]),
                last_delivery_at=Subquery(latest.values("created_at")[:1]),
                failed_recently=Coalesce(Subquery(failed, output_field=IntegerField()), 0),
            )
            .order_by("-created_at")
        )

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, health_days=HEALTH_WINDOW.days)


class EndpointCreateView(EndpointAccessMixin, NewForMerchantMixin, CreateView):
    """The secret is shown once, in the response to the POST."""

    permission_required = "webhooks.add_webhookendpoint"
    form_class = WebhookEndpointForm
    template_name = "webhooks/endpoint_form.html"

    def form_valid(self, form):
        try:
            self.object, secret = form.save(actor=actor_label(self.request.user))
        except ValidationError:
            return self.form_invalid(form)
        messages.success(
            self.request, _("Webhook endpoint %(url)s created.") % {"url": self.object.url}
        )
        return secret_page(self, endpoint=self.object, secret=secret, rotated=False)


class EndpointDetailView(EndpointAccessMixin, DetailView):
    """The endpoint and its latest deliveries, each with its attempts."""

    permission_required = "webhooks.view_webhookendpoint"
    template_name = "webhooks/endpoint_detail.html"
    deliveries_shown = 50

    def get_context_data(self, **kwargs):
        deliveries: list[WebhookDelivery] = []
        if self.request.user.has_perm("webhooks.view_webhookdelivery"):
            deliveries = list(
                self.object.deliveries.select_related("event")
                .defer("event__changes")
                .prefetch_related(Prefetch("attempts", to_attr="attempt_list"))
                .order_by("-created_at")[: self.deliveries_shown + 1]
            )
        return super().get_context_data(
            **kwargs,
            previous_secret_live=len(self.object.live_secrets()) > 1,
            deliveries=deliveries[: self.deliveries_shown],
            deliveries_truncated=len(deliveries) > self.deliveries_shown,
            deliveries_shown=self.deliveries_shown,
        )


class EndpointUpdateView(EndpointAccessMixin, UpdateView):
    permission_required = "webhooks.change_webhookendpoint"
    form_class = WebhookEndpointEditForm
    template_name = "webhooks/endpoint_form.html"

    def form_valid(self, form):
        try:
            self.object = form.save()
        except ValidationError:
            return self.form_invalid(form)
        messages.success(
            self.request, _("Webhook endpoint %(url)s saved.") % {"url": self.object.url}
        )
        return HttpResponseRedirect(reverse("webhooks:endpoint_detail", args=[self.object.pk]))


class EndpointStatusView(EndpointAccessMixin, SingleObjectMixin, View):
    """Enable or disable an endpoint (POST only): a disabled one is owed no new deliveries."""

    permission_required = "webhooks.change_webhookendpoint"
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        endpoint = self.get_object()
        form = EndpointStatusForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest(_("Unknown status."))
        endpoint = endpoint_update(endpoint=endpoint, status=form.cleaned_data["status"])
        if endpoint.is_enabled:
            done = _("Webhook endpoint %(url)s enabled.")
        else:
            done = _("Webhook endpoint %(url)s disabled.")
        messages.success(request, done % {"url": endpoint.url})
        return HttpResponseRedirect(reverse("webhooks:endpoint_detail", args=[endpoint.pk]))


class EndpointRotateSecretView(EndpointAccessMixin, DetailView):
    """Confirm, then show the new secret once; the old one keeps signing for a while."""

    permission_required = "webhooks.change_webhookendpoint"
    template_name = "webhooks/endpoint_confirm_rotate.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **{"previous_secret_hours": PREVIOUS_SECRET_HOURS, **kwargs}
        )

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        secret = endpoint_rotate_secret(endpoint=self.object)
        messages.success(
            request, _("The secret of %(url)s was rotated.") % {"url": self.object.url}
        )
        return secret_page(self, endpoint=self.object, secret=secret, rotated=True)


class EndpointDeleteView(EndpointAccessMixin, DeleteView):
    permission_required = "webhooks.delete_webhookendpoint"
    template_name = "webhooks/endpoint_confirm_delete.html"
    success_url = reverse_lazy("webhooks:endpoint_list")

    def form_valid(self, form):
        endpoint_delete(endpoint=self.object)
        messages.success(
            self.request, _("Webhook endpoint %(url)s deleted.") % {"url": self.object.url}
        )
        return HttpResponseRedirect(self.get_success_url())


class DeliveryResendView(PermissionRequiredMixin, SingleObjectMixin, View):
    """Send a delivery again now (POST only), whatever became of it."""

    permission_required = "webhooks.change_webhookdelivery"
    http_method_names = ["post"]

    def get_queryset(self):
        return WebhookDelivery.objects.filter(
            endpoint__merchant_id__in=merchant_ids_for_user(self.request.user)
        ).select_related("event", "endpoint")

    def post(self, request, *args, **kwargs):
        delivery = self.get_object()
        try:
            sending.resend(delivery)
        except sending.EndpointDisabled:
            messages.error(request, _("This endpoint is disabled: enable it to send it events."))
        else:
            messages.success(
                request,
                _("The %(type)s event will be sent again to this endpoint.")
                % {"type": delivery.event.type},
            )
        return HttpResponseRedirect(
            reverse("webhooks:endpoint_detail", args=[delivery.endpoint_id])
        )
