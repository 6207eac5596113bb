"""Forms of the dashboard's webhook pages. They shape what people type (the events as boxes to
tick) and save through ``webhooks.services``, whose rules (the URL's scheme and host, the known
event types) decide and whose refusals land next to the fields."""

import copy

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers.forms import MerchantChoiceMixin, ServiceModelForm

from .models import ALL_EVENTS, EVENT_TYPES, WebhookEndpoint
from .services import endpoint_create, endpoint_update

EVENT_CHOICES = [(ALL_EVENTS, _("All events")), *[(event, event) for event in EVENT_TYPES]]


class EndpointFieldsMixin(ServiceModelForm):
    """What both forms ask: where to send, which events, and a note."""

    events = forms.MultipleChoiceField(
        choices=EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        # The services say what a valid choice of events is, an empty one included.
        required=False,
        initial=[ALL_EVENTS],
        label=_("Events"),
        help_text=_("“All events” includes the types added later."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "events", "description"]
        # Plain text: the services judge the URL (scheme, host, addresses), not the browser.
        field_classes = {"url": forms.CharField}
        widgets = {
            "url": forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "url": _("Where the events are POSTed, signed with the endpoint's secret."),
            "description": _("What receives the events, e.g. “Order back-end”."),
        }

    def written_fields(self, names) -> dict:
        return {name: self.cleaned_data[name] for name in names}


class WebhookEndpointForm(MerchantChoiceMixin, EndpointFieldsMixin):
    """Register an endpoint; ``save(actor=…)`` returns (endpoint, secret)."""

    class Meta(EndpointFieldsMixin.Meta):
        fields = ["merchant", "url", "events", "description"]

    def __init__(self, *args, merchant=None, merchants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_merchants(merchant, merchants)

    def save(self, commit=True, *, actor=None) -> tuple[WebhookEndpoint, str]:
        try:
            return endpoint_create(
                merchant=self.instance.merchant,
                actor=actor,
                **self.written_fields(["url", "events", "description"]),
            )
        except ValidationError as error:
            self.add_service_errors(error)
            raise


class WebhookEndpointEditForm(EndpointFieldsMixin):
    """Change an endpoint's URL, events, note or status; only what changed is written (an
    unchanged URL is not looked up again)."""

    class Meta(EndpointFieldsMixin.Meta):
        fields = ["url", "events", "description", "status"]

    def save(self, commit=True) -> WebhookEndpoint:
        assert self.stored is not None
        try:
            return endpoint_update(
                endpoint=copy.copy(self.stored), **self.written_fields(self.changed_data)
            )
        except ValidationError as error:
            self.add_service_errors(error)
            raise


class EndpointStatusForm(forms.Form):
    """The status an Enable / Disable button posts."""

    status = forms.ChoiceField(choices=WebhookEndpoint.Status.choices)
