"""Forms of the dashboard and the admin. They shape what people type (a country list, address
lines, a metadata table) and save through the services, which run the model's rules once and
whose refusals land next to the fields: a customer saved here is checked and recorded exactly
as one sent to the API."""

import copy
import uuid
from typing import cast

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.forms.models import construct_instance
from django.utils import formats
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from . import normalizers
from .exceptions import CustomerNotFound, StaleVersion
from .import_jobs import customer_import_create
from .imports import FORMATS, ImportRefused
from .models import REASON_MAX_LENGTH, ApiKey, Customer, CustomerImport, Merchant
from .normalizers import ADDRESS_KEYS, ADDRESS_VALUE_MAX_LENGTH
from .services import EDITABLE_FIELDS, api_key_create, customer_create, customer_update

DASHBOARD = Customer.Source.DASHBOARD

ADDRESS_LABELS = {
    "line1": _("Address line 1"),
    "line2": _("Address line 2"),
    "city": _("City"),
    "state": _("State or region"),
    "postal_code": _("Postal code"),
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
    """Five labelled text inputs named ``address_line1`` … ``address_postal_code``."""

    template_name = "customers/widgets/address.html"

    def __init__(self, attrs=None):
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            key: forms.TextInput(
                attrs={
                    "autocomplete": ADDRESS_AUTOCOMPLETE[key],
                    "maxlength": ADDRESS_VALUE_MAX_LENGTH,
                }
            )
            for key in ADDRESS_KEYS
        }
        super().__init__(widgets, attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        for key, subwidget in zip(ADDRESS_KEYS, context["widget"]["subwidgets"], strict=True):
            if attrs and attrs.get("id"):
                subwidget["attrs"]["id"] = f"{attrs['id']}_{key}"
            subwidget.update(key=key, label=ADDRESS_LABELS[key])
        return context

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

METADATA_TYPES = tuple(
    zip(
        normalizers.METADATA_KINDS,
        (_("Text"), _("Number"), _("True / false")),
        strict=True,
    )
)
METADATA_BLANK_ROWS = 3
METADATA_MAX_ROWS = 200


def metadata_rows(metadata: dict) -> list[dict]:
    """Rows of the key-value table for a stored metadata object."""
    return [
        {
            "key": key,
            "type": normalizers.metadata_kind(value),
            "value": normalizers.metadata_text(value),
        }
        for key, value in metadata.items()
    ]


class MetadataWidget(forms.Widget):
    """A key / type / value table, posted as ``metadata-<n>-key``, ``-type`` and ``-value``.

    Its value is the list of rows; a few blank rows follow them to add keys. Rows whose key is
    in ``invalid_keys`` are marked (``MetadataBoundField`` sets them from the field's errors).
    """

    template_name = "customers/widgets/metadata.html"
    invalid_keys: frozenset[str | None] = frozenset()

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"].update(
            rows=self.rows(name, value, context["widget"]["attrs"].get("id", "")),
            types=METADATA_TYPES,
            key_max_length=normalizers.METADATA_KEY_MAX_LENGTH,
            value_max_length=normalizers.METADATA_VALUE_MAX_LENGTH,
        )
        return context

    def rows(self, name: str, value, id_: str) -> list[dict]:
        """The rows as typed (or stored), then the blank ones, each with its input names."""
        filled = [
            row for row in value or [] if any(str(row[part]).strip() for part in ("key", "value"))
        ]
        blank = [{"key": "", "type": "text", "value": ""}] * METADATA_BLANK_ROWS
        return [
            {
                **row,
                "invalid": row["key"].strip() in self.invalid_keys
                and bool(row["key"].strip() or row["value"].strip()),
                "prefix": f"{name}-{index}",
                "id": f"{id_}-{index}",
            }
            for index, row in enumerate(filled + blank)
        ]

    def id_for_label(self, id_):
        return ""  # each input has its own label

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


class MetadataBoundField(forms.BoundField):
    """Shows the table with the rows that the field's errors name marked, whether the form's
    own check or the services found them."""

    def as_widget(self, widget=None, attrs=None, only_initial=False):
        table = cast(MetadataWidget, widget or self.field.widget)
        table.invalid_keys = frozenset(
            (error.params or {}).get("key") for error in self.errors.as_data()
        )
        return super().as_widget(table, attrs, only_initial)


class MetadataField(forms.Field):
    """Turns the rows into the metadata object; the model's metadata rules then apply."""

    widget = MetadataWidget
    bound_field_class = MetadataBoundField

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "help_text",
            format_lazy(
                _(
                    "Up to {count} keys of letters, digits, '_', '.' and '-'. "
                    "Leave a row empty to remove it."
                ),
                count=normalizers.METADATA_MAX_KEYS,
            ),
        )
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
                        _("Give a key for the value '%(value)s'."),
                        code="metadata_key_missing",
                        params={"key": "", "value": text},
                    )
                )
            elif key in metadata:
                errors.append(
                    ValidationError(
                        _("Key '%(key)s' appears more than once."),
                        code="metadata_key_repeated",
                        params={"key": key},
                    )
                )
            else:
                try:
                    metadata[key] = normalizers.metadata_from_text(key, kind, text)
                except ValidationError as error:
                    errors.append(error)
        if errors:
            raise ValidationError(errors)
        return metadata


# --- saving through the services ------------------------------------------------------------


class ServiceModelForm(forms.ModelForm):
    """A ModelForm for a record that a service validates and saves.

    Django's ModelForm runs the model's ``full_clean()`` in ``is_valid()``, and the services run
    it again before they write, uniqueness queries included. Here the model's rules run once per
    submission: by the service when the form's own inputs are fine (its refusal lands on the
    form through ``add_service_errors``), or by the form, as Django's does, when some input is
    already refused, so that every error shows at once.

    An existing record stays as it was read (``stored``); ``instance`` is a copy that receives
    the form's values, so the service compares the two and the page keeps showing the stored
    record while the form is being corrected.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored = None if self.instance._state.adding else self.instance
        if self.stored is not None:
            self.instance = copy.copy(self.stored)

    # ``_post_clean`` and ``_update_errors`` are ModelForm's own hooks (django-stubs omit them).

    def _post_clean(self):
        if self.errors:
            super()._post_clean()  # type: ignore[misc]
            return
        try:
            self.instance = construct_instance(
                self, self.instance, self._meta.fields, self._meta.exclude
            )
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]

    def add_service_errors(self, error: ValidationError) -> None:
        """Each error by its field, or above the form when the form does not show the field."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, errors in error.error_dict.items():
            self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)


class CustomerServiceForm(ServiceModelForm):
    """A customer's form, created or updated through the customer services.

    An edit carries the version it was opened at: if someone changed the customer since, the
    save is refused rather than silently writing back what they changed.
    """

    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    address = AddressField()
    metadata = MetadataField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stored is not None:
            self.fields["version"].initial = self.stored.version
        else:
            del self.fields["version"]

    def save_customer(self, *, actor, source: str):
        """Create or update the customer; on a refusal the errors land on the form and
        ``ValidationError`` is raised."""
        values = {field: getattr(self.instance, field) for field in EDITABLE_FIELDS}
        expected_version = self.cleaned_data.get("version")
        try:
            if self.stored is None:
                return customer_create(
                    merchant=self.instance.merchant, actor=actor, source=source, **values
                )
            return customer_update(
                customer=copy.copy(self.stored),
                actor=actor,
                source=source,
                data=values,
                expected_version=expected_version,
            )
        except ValidationError as error:
            self.add_service_errors(error)
            raise
        except StaleVersion:
            refusal = ValidationError(
                _(
                    "Someone else changed this customer while you were editing it. Open it "
                    "again to see their changes, then make yours."
                ),
                code="precondition_failed",
            )
        except CustomerNotFound:
            refusal = ValidationError(_("This customer has been deleted."), code="not_found")
        self.add_error(None, refusal)
        raise refusal


class MerchantChoiceMixin(ServiceModelForm):
    """The merchant of a new record: asked only of users who work for several."""

    def offer_merchants(self, merchant: Merchant | None, merchants: QuerySet[Merchant]) -> None:
        """``merchant`` when new records go there without asking (see
        ``selectors.only_merchant_of``); otherwise a choice among ``merchants``."""
        if merchant is not None:
            self.instance.merchant = merchant
            del self.fields["merchant"]
        else:
            field = cast(forms.ModelChoiceField, self.fields["merchant"])
            field.queryset = merchants
            field.empty_label = _("Choose a merchant")


# --- customers ------------------------------------------------------------------------------

PHONE_INPUT = forms.TextInput(attrs={"type": "tel", "placeholder": "+221 77 123 45 67"})


class CustomerForm(MerchantChoiceMixin, CustomerServiceForm):
    """Create or edit a customer in the dashboard; ``save(actor=…)`` writes through the services.

    Lengths, labels and choices are the model's; the form adds the inputs people need (a
    country select, the address lines, the metadata table) and puts every error by its field.
    """

    class Meta:
        model = Customer
        fields = ["merchant", *EDITABLE_FIELDS]
        # Plain text: the model normalises an email or a website before it judges it.
        field_classes = {"email": forms.CharField, "website": forms.CharField}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "phone": PHONE_INPUT,
            "whatsapp": PHONE_INPUT,
            "website": forms.URLInput(attrs={"placeholder": "https://"}),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "name": _("Left empty, it is the first and last name."),
            "phone": _("International form, or national with the country set."),
        }

    def __init__(self, *args, merchant=None, merchants=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stored is not None:
            del self.fields["merchant"]
        else:
            self.offer_merchants(merchant, merchants)
        self.fields["name"].required = False

    def save(self, commit=True, *, actor=None):
        """Create or update through the services; on a refusal the errors land on the form
        and ``ValidationError`` is raised for the view to re-render it."""
        return self.save_customer(actor=actor, source=DASHBOARD)


class CustomerStatusForm(forms.Form):
    """The status a Block / Activate button posts; blocking says why (kept in the history)."""

    BLOCK_NEEDS_A_REASON = _("Say why this customer is blocked: the reason stays in its history.")

    status = forms.ChoiceField(choices=Customer.Status.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: chargebacks, suspected fraud, asked by compliance."),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if problem := normalizers.text_problem(reason):
            raise problem
        return reason

    def clean(self):
        cleaned = super().clean() or {}
        blocking = cleaned.get("status") == Customer.Status.BLOCKED
        if blocking and not cleaned.get("reason") and "reason" not in self.errors:
            self.add_error("reason", self.BLOCK_NEEDS_A_REASON)
        return cleaned


# --- bulk actions ---------------------------------------------------------------------------

#: The most customers one bulk action takes: as many as the list's longest page shows.
SELECTION_MAX = 100

BULK_ACTIVATE, BULK_BLOCK, BULK_EXPORT, BULK_DELETE = "activate", "block", "export", "delete"


class CustomerSelectionField(forms.Field):
    """The ids of the customers ticked on the list, each once, in the list's order.

    What is not an id is dropped here, as an id the user may not see is dropped when the
    customers are read: a selection never tells whether a customer exists elsewhere."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Select at least one customer."),
        "too_many": _("Select at most %(limit)s customers at a time."),
    }

    def __init__(self, *, limit: int = SELECTION_MAX, **kwargs):
        self.limit = limit
        super().__init__(**kwargs)

    def to_python(self, value) -> list[uuid.UUID]:
        ids: dict[uuid.UUID, None] = {}
        for raw in value or ():
            try:
                ids[uuid.UUID(str(raw))] = None
            except ValueError:
                continue
        return list(ids)

    def validate(self, value):
        super().validate(value)
        if len(value) > self.limit:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.limit}
            )


class CustomerBulkForm(forms.Form):
    """What the list's bulk bar posts: an action and the ticked customers; then, from the
    review page, ``confirmed``. ``query`` is the list's query string, to go back to it."""

    action = forms.ChoiceField(
        choices=[
            (BULK_ACTIVATE, _("Activate")),
            (BULK_BLOCK, _("Block")),
            (BULK_EXPORT, _("Export")),
            (BULK_DELETE, _("Delete")),
        ]
    )
    ids = CustomerSelectionField()
    query = forms.CharField(required=False, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


# --- API keys -------------------------------------------------------------------------------


class ApiKeyForm(MerchantChoiceMixin, ServiceModelForm):
    """Name a new key and choose its scopes; ``save(created_by=…)`` returns (key, secret)."""

    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=[ApiKey.Scope.READ],
    )

    class Meta:
        model = ApiKey
        fields = ["merchant", "name", "scopes"]
        help_texts = {"name": _("Where the key is used, e.g. “Checkout back-end”.")}

    def __init__(self, *args, merchant=None, merchants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.offer_merchants(merchant, merchants)

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


# --- imports --------------------------------------------------------------------------------


def megabytes(size: int) -> str:
    """``52428800`` as "50 MB" ("50 Mo"), "0.5 MB" ("0,5 Mo")."""
    number = f"{size / 1024 / 1024:g}".replace(".", formats.get_format("DECIMAL_SEPARATOR"))
    return _("%(size)s MB") % {"size": number}


class CustomerImportForm(forms.Form):
    """The Import page's upload: a file, and whether rows that match a customer update them.

    The file is read in full and its columns mapped on submit; a file that cannot be imported
    (its format, its encoding, an unknown column) is refused here, next to the input.
    """

    merchant = forms.ModelChoiceField(label=_("Merchant"), queryset=Merchant.objects.none())
    file = forms.FileField(
        label=_("File"),
        required=False,
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ",".join(sorted(FORMATS))}),
    )
    update_existing = forms.BooleanField(
        required=False,
        label=_("Update existing customers"),
        help_text=_(
            "A row whose reference (else email, else phone) is already a customer's "
            "updates that customer; unticked, such a row is skipped."
        ),
    )

    def __init__(self, *args, merchant=None, merchants=None, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.only_merchant = merchant
        self.too_large = too_large
        if merchant is not None:
            del self.fields["merchant"]
        else:
            field = cast(forms.ModelChoiceField, self.fields["merchant"])
            field.queryset = merchants
            field.empty_label = _("Choose a merchant")
        self.fields["file"].help_text = _(
            "CSV (UTF-8, “,” or “;”), JSON Lines (.jsonl) or XLSX, up to %(size)s, with the "
            "API's column names or your payment provider's."
        ) % {"size": megabytes(settings.IMPORT_MAX_UPLOAD_BYTES)}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if self.too_large or (upload and upload.size > limit):
            raise ValidationError(
                _("The file is larger than %(size)s; split it into smaller files.")
                % {"size": megabytes(limit)},
                code="too_large",
            )
        if not upload:
            raise ValidationError(_("Choose a file to import."), code="required")
        return upload

    def save(self, *, user) -> CustomerImport:
        """Store the file and queue its dry run; a file that cannot be imported puts why on
        the form and raises ``ValidationError``."""
        try:
            return customer_import_create(
                merchant=self.only_merchant or self.cleaned_data["merchant"],
                user=user,
                upload=self.cleaned_data["file"],
                update_existing=self.cleaned_data["update_existing"],
            )
        except ImportRefused as refused:
            error = ValidationError(
                [line.strip() for line in str(refused).splitlines() if line.strip()],
                code="refused",
            )
            self.add_error("file", error)
            raise error from None
