"""Dashboard forms. They reach the model's rules through ``ModelForm`` and write through the
services, so a customer saved here is checked and recorded exactly as one sent to the API."""

import copy
import json
import math
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from .models import ApiKey, Customer, Merchant
from .normalizers import ADDRESS_KEYS, ADDRESS_VALUE_MAX_LENGTH
from .services import (
    EDITABLE_FIELDS,
    PreconditionFailed,
    api_key_create,
    customer_create,
    customer_update,
)

DASHBOARD = Customer.Source.DASHBOARD

ADDRESS_LABELS = {
    "line1": "Address line 1",
    "line2": "Address line 2",
    "city": "City",
    "state": "State or region",
    "postal_code": "Postal code",
}
ADDRESS_AUTOCOMPLETE = {
    "line1": "address-line1",
    "line2": "address-line2",
    "city": "address-level2",
    "state": "address-level1",
    "postal_code": "postal-code",
}


# --- address --------------------------------------------------------------------------------


class AddressWidget(forms.MultiWidget):
    """Five text inputs named ``address_line1`` … ``address_postal_code``."""

    def __init__(self, attrs=None):
        widgets = {
            key: forms.TextInput(attrs={"autocomplete": ADDRESS_AUTOCOMPLETE[key]})
            for key in ADDRESS_KEYS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        value = value if isinstance(value, dict) else {}
        return [value.get(key) or "" for key in ADDRESS_KEYS]


class AddressField(forms.MultiValueField):
    """The address object, typed as five lines; the model still validates the object."""

    widget = AddressWidget

    def __init__(self, **kwargs):
        fields = [
            forms.CharField(required=False, max_length=ADDRESS_VALUE_MAX_LENGTH)
            for _ in ADDRESS_KEYS
        ]
        super().__init__(fields, require_all_fields=False, required=False, **kwargs)

    def compress(self, data_list):
        return dict(zip(ADDRESS_KEYS, data_list or [""] * len(ADDRESS_KEYS), strict=True))


# --- metadata -------------------------------------------------------------------------------

METADATA_TYPES = (("text", "Text"), ("number", "Number"), ("boolean", "True / false"))
METADATA_BLANK_ROWS = 3
METADATA_MAX_ROWS = 200
_NUMBER = re.compile(r"^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$")


def metadata_rows(metadata: dict) -> list[dict]:
    """Rows of the key-value table for a stored metadata object."""
    rows = []
    for key, value in metadata.items():
        if isinstance(value, bool):
            rows.append({"key": key, "type": "boolean", "value": "true" if value else "false"})
        elif isinstance(value, int | float | Decimal):
            rows.append({"key": key, "type": "number", "value": json.dumps(value)})
        else:
            rows.append({"key": key, "type": "text", "value": str(value)})
    return rows


class MetadataWidget(forms.Widget):
    """A key / type / value table, posted as ``metadata-<n>-key``, ``-type`` and ``-value``.

    Its value is the list of rows; the template renders them from ``CustomerForm.metadata_rows``.
    """

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(METADATA_MAX_ROWS):
            prefix = f"{name}-{index}-"
            if f"{prefix}key" not in data:
                break
            rows.append(
                {
                    "key": data.get(f"{prefix}key", ""),
                    "type": data.get(f"{prefix}type", "text"),
                    "value": data.get(f"{prefix}value", ""),
                }
            )
        return rows

    def value_omitted_from_data(self, data, files, name):
        return f"{name}-0-key" not in data


class MetadataField(forms.Field):
    """Turns the rows into the metadata object; the model's metadata rules then apply."""

    widget = MetadataWidget

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return metadata_rows(value)
        return value or []

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        metadata, errors = {}, []
        for row in value or []:
            key, kind, text = row["key"].strip(), row["type"], row["value"].strip()
            if not key and not text:
                continue
            if not key:
                errors.append(
                    ValidationError(
                        "Give a key for the value '%(value)s'.",
                        code="metadata_key_missing",
                        params={"key": "", "value": text},
                    )
                )
            elif key in metadata:
                errors.append(
                    ValidationError(
                        "Key '%(key)s' appears more than once.",
                        code="metadata_key_repeated",
                        params={"key": key},
                    )
                )
            else:
                try:
                    metadata[key] = self._typed(key, kind, text)
                except ValidationError as error:
                    errors.append(error)
        if errors:
            raise ValidationError(errors)
        return metadata

    @staticmethod
    def _typed(key: str, kind: str, text: str):
        if kind == "number":
            number = json.loads(text) if _NUMBER.match(text) else None
            if number is None or not math.isfinite(number):
                raise ValidationError(
                    "The value of '%(key)s' is not a number, e.g. 42 or 9.5.",
                    code="metadata_not_number",
                    params={"key": key},
                )
            return number
        if kind == "boolean":
            if text.lower() not in {"true", "false"}:
                raise ValidationError(
                    "The value of '%(key)s' must be true or false.",
                    code="metadata_not_boolean",
                    params={"key": key},
                )
            return text.lower() == "true"
        return text


# --- customers ------------------------------------------------------------------------------


class MerchantChoiceMixin:
    """The merchant of a new record: asked only of users who work for several."""

    def offer_merchants(self, merchants) -> None:
        """A user of one merchant is not asked; a user of several chooses among them only."""
        merchants = list(merchants if merchants is not None else Merchant.objects.none())
        if len(merchants) == 1:
            self.instance.merchant = merchants[0]
            del self.fields["merchant"]
        else:
            self.fields["merchant"].queryset = Merchant.objects.filter(
                pk__in=[merchant.pk for merchant in merchants]
            )
            self.fields["merchant"].empty_label = "Choose a merchant"


class ServiceErrorsMixin:
    """Puts a service's ``ValidationError`` on the form: by field, or above the form when the
    form does not show that field."""

    def add_service_errors(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)


class CustomerForm(MerchantChoiceMixin, ServiceErrorsMixin, forms.ModelForm):
    """Create or edit a customer; ``save(actor=…)`` writes through the customer services.

    The model normalises and validates; this form only shapes the inputs (a country select,
    the address lines, the metadata table) and puts every error next to its field.
    """

    email = forms.CharField(
        required=False, max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+221 77 123 45 67"}),
        help_text="International form, or national with the country set.",
    )
    whatsapp = forms.CharField(
        label="WhatsApp",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+221 77 123 45 67"}),
    )
    website = forms.CharField(
        required=False,
        max_length=200,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )
    address = AddressField()
    metadata = MetadataField(
        help_text="Up to 50 keys of letters, digits, '_', '.' and '-'. Leave a row empty to "
        "remove it."
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = ["merchant", *EDITABLE_FIELDS]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "name": "Left empty, it is the first and last name.",
        }

    def __init__(self, *args, merchants=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Edit a copy: the services compare the stored customer with the new values.
        self.customer = None if self.instance._state.adding else self.instance
        if self.customer is not None:
            self.instance = copy.copy(self.customer)
            self.fields["version"].initial = self.customer.version
            del self.fields["merchant"]
        else:
            del self.fields["version"]
            self.offer_merchants(merchants)
        self.fields["name"].required = False

    # The template draws these inputs itself, each with its own label.

    def address_inputs(self) -> list[dict]:
        bound = self["address"]
        values = bound.value()
        if isinstance(values, dict) or values is None:
            values = self.fields["address"].widget.decompress(values)
        return [
            {
                "key": key,
                "name": f"{bound.html_name}_{key}",
                "id": f"{bound.auto_id}_{key}",
                "label": ADDRESS_LABELS[key],
                "value": value or "",
                "autocomplete": ADDRESS_AUTOCOMPLETE[key],
            }
            for key, value in zip(ADDRESS_KEYS, values, strict=True)
        ]

    def metadata_rows(self) -> list[dict]:
        bound = self["metadata"]
        errors = self.errors["metadata"].as_data() if "metadata" in self.errors else []
        invalid_keys = {(error.params or {}).get("key") for error in errors}
        rows = [
            row
            for row in self.fields["metadata"].prepare_value(bound.value())
            if any(str(row[part]).strip() for part in ("key", "value"))
        ]
        rows += [{"key": "", "type": "text", "value": ""}] * METADATA_BLANK_ROWS
        return [
            {
                **row,
                "invalid": row["key"].strip() in invalid_keys
                and bool(row["key"].strip() or row["value"].strip()),
                "index": index,
                "prefix": f"{bound.html_name}-{index}",
                "id": f"{bound.auto_id}-{index}",
            }
            for index, row in enumerate(rows)
        ]

    metadata_types = METADATA_TYPES

    # --- saving ---------------------------------------------------------------------------

    def save(self, commit=True, *, actor=None):
        """Create or update through the services; on a refusal the errors land on the form
        and ``ValidationError`` is raised for the view to re-render it."""
        values = {field: getattr(self.instance, field) for field in EDITABLE_FIELDS}
        try:
            if self.customer is None:
                return customer_create(
                    merchant=self.instance.merchant, actor=actor, source=DASHBOARD, **values
                )
            return customer_update(
                customer=self.customer,
                actor=actor,
                source=DASHBOARD,
                data=values,
                expected_version=self.cleaned_data.get("version"),
            )
        except ValidationError as error:
            self.add_service_errors(error)
            raise
        except PreconditionFailed:
            error = ValidationError(
                "Someone else changed this customer while you were editing it. Open it again "
                "to see their changes, then make yours.",
                code="precondition_failed",
            )
            self.add_error(None, error)
            raise error from None
        except Customer.DoesNotExist:
            error = ValidationError("This customer has been deleted.", code="not_found")
            self.add_error(None, error)
            raise error from None


class CustomerStatusForm(forms.Form):
    """The status a Block / Activate button posts."""

    status = forms.ChoiceField(choices=Customer.Status.choices)


# --- API keys -------------------------------------------------------------------------------


class ApiKeyForm(MerchantChoiceMixin, ServiceErrorsMixin, forms.ModelForm):
    """Name a new key and choose its scopes; ``save(created_by=…)`` returns (key, secret)."""

    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[ApiKey.Scope.READ],
    )

    class Meta:
        model = ApiKey
        fields = ["merchant", "name", "scopes"]
        help_texts = {"name": "Where the key is used, e.g. “Checkout back-end”."}

    def __init__(self, *args, merchants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_merchants(merchants)

    def save(self, commit=True, *, created_by=None):
        try:
            return api_key_create(
                merchant=self.instance.merchant,
                name=self.cleaned_data["name"],
                scopes=self.cleaned_data["scopes"],
                created_by=created_by,
            )
        except ValidationError as error:
            self.add_service_errors(error)
            raise
