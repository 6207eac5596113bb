"""The customer as JSON, and the bridge from a request body to the customer services.

Nothing here validates or normalises a customer: the fields only check JSON types, and
``ServiceSerializer`` hands the values to the services, which run the model's rules
(``full_clean``); their refusals come back as this serializer's errors, named as the API names
fields. So the API, the dashboard, the admin and the import cannot disagree.
"""

import difflib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import normalizers
from customers.models import DESCRIPTION_MAX_LENGTH, Customer, CustomerEvent
from customers.representation import customer_json, event_json, rfc3339
from customers.services import actor_label, customer_create, customer_update
from webhooks.models import ALL_EVENTS, EVENT_TYPES, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_update

from .exceptions import api_error_from_model

# --- fields ---------------------------------------------------------------------------------


class TextField(serializers.CharField):
    """A JSON string, never a number or boolean coerced to one. Trimming, lengths and formats
    are the model's."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class OptionalTextField(TextField):
    """Optional text, stored as "" when absent: rendered as null, and null clears it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, "")
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value or None


def choice_text(choices, **kwargs) -> TextField:
    """Text that must be one of ``choices``: the model says so, the schema shows the enum.

    The enum is set on a class of its own: DRF deep-copies the declared field instances, and a
    copy would lose anything set on the instance.
    """
    enum = {"type": "string", "enum": [value for value, _ in choices]}
    field_class = extend_schema_field(enum)(type("ChoiceTextField", (TextField,), {}))
    return field_class(**kwargs)


class ObjectField(serializers.JSONField):
    """A JSON object, rendered as ``{}`` when empty; null clears it. Its keys and values are
    checked by the model, which names a bad one ``<field>.<key>``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:
            return (True, {})
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value or {}


class TimestampField(serializers.DateTimeField):
    """RFC 3339 in UTC with milliseconds: ``2026-06-05T12:00:00.123Z``."""

    def to_representation(self, value):
        return rfc3339(value)


@extend_schema_field(
    {
        "type": "object",
        "description": "Postal address; every key optional. null or {} clears it.",
        "properties": {
            key: {"type": "string", "maxLength": normalizers.ADDRESS_VALUE_MAX_LENGTH}
            for key in normalizers.ADDRESS_KEYS
        },
        "additionalProperties": False,
    }
)
class AddressField(ObjectField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "description": (
            f"Flat key-value pairs: at most {normalizers.METADATA_MAX_KEYS} keys of at most "
            f"{normalizers.METADATA_KEY_MAX_LENGTH} characters [A-Za-z0-9_.-]; each value a "
            f"string (at most {normalizers.METADATA_VALUE_MAX_LENGTH} characters), a number or "
            "a boolean. A PATCH replaces the whole object; null or {} clears it."
        ),
        "maxProperties": normalizers.METADATA_MAX_KEYS,
        "additionalProperties": {
            "oneOf": [
                {"type": "string", "maxLength": normalizers.METADATA_VALUE_MAX_LENGTH},
                {"type": "number"},
                {"type": "boolean"},
            ]
        },
    }
)
class MetadataField(ObjectField):
    pass


# --- base -----------------------------------------------------------------------------------


def _unstorable_text(value, path: str = ""):
    """(name, message) of every key and string in ``value`` that no column should receive (a
    NUL, a lone surrogate), named as the API names nested fields: ``metadata.note``."""
    if isinstance(value, str):
        if problem := normalizers.text_problem(value):
            yield path, problem.message
    elif isinstance(value, Mapping):
        for key, item in value.items():
            shown = normalizers.printable(str(key))
            name = f"{path}.{shown}" if path else shown
            if problem := normalizers.text_problem(str(key)):
                yield name, problem.message
            else:
                yield from _unstorable_text(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_text(item, f"{path}.{index}")


class ServiceSerializer(serializers.Serializer):
    """Strict input for a write service (STYLE point 2).

    A body must be an object whose every key is a writable field: an unknown key (a typo) or a
    read-only one (``merchant_id``) is refused by name, never dropped. No text anywhere may hold
    a NUL character or a lone surrogate, which no database column should receive. Subclasses
    write ``create()`` and ``update()`` as calls to their services; a model refusal raised there
    comes back as a 400 ``validation_error``, or a 409 ``duplicate`` when uniqueness is all that
    failed.
    """

    default_error_messages = {
        "unknown_field": "Unknown field.",
        "read_only_field": "This field is read-only.",
    }

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {**self._foreign_key_errors(data), **self._unstorable_text_errors(data)}
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def _foreign_key_errors(self, data: Mapping) -> dict[str, list[str]]:
        writable = [name for name, field in self.fields.items() if not field.read_only]
        errors = {}
        for key in data:
            field = self.fields.get(key)
            key = normalizers.printable(str(key))
            if field is not None and field.read_only:
                errors[key] = [str(self.error_messages["read_only_field"])]
            elif field is None:
                message = str(self.error_messages["unknown_field"])
                close = difflib.get_close_matches(str(key), writable, n=1)
                errors[key] = [f"{message[:-1]}; did you mean {close[0]}?" if close else message]
        return errors

    def _unstorable_text_errors(self, data: Mapping) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for name, message in _unstorable_text(data):
            errors.setdefault(name, []).append(message)
        return errors

    def save(self, **kwargs):
        try:
            return super().save(**kwargs)
        except DjangoValidationError as error:
            raise api_error_from_model(error) from error


# --- customers ------------------------------------------------------------------------------


class CustomerSerializer(ServiceSerializer):
    """A person or company that pays the merchant. Optional text is null when empty."""

    id = serializers.UUIDField(read_only=True)
    merchant_id = serializers.UUIDField(read_only=True)
    reference = OptionalTextField(help_text="Your own id for this customer; unique when set.")
    type = choice_text(Customer.Type.choices, help_text="Default individual.")
    name = TextField(
        help_text="Required on create, unless first_name is given (then first + last name). "
        "Cannot be cleared.",
    )
    first_name = OptionalTextField()
    last_name = OptionalTextField()
    company = OptionalTextField()
    email = OptionalTextField(
        help_text="Unique per merchant, any case. A customer needs an email, a phone or both.",
    )
    phone = OptionalTextField(
        help_text="Stored in E.164 (+221771234567); without +, read with the customer's country.",
    )
    whatsapp = OptionalTextField(help_text="E.164, like phone.")
    country = OptionalTextField(
        help_text="ISO 3166-1 alpha-2; input may be alpha-2, alpha-3 or the English name.",
    )
    address = AddressField()
    currency = OptionalTextField(help_text="ISO 4217 code.")
    website = OptionalTextField(help_text="http:// or https:// address.")
    description = OptionalTextField(
        help_text=f"Internal notes, at most {DESCRIPTION_MAX_LENGTH} characters."
    )
    status = choice_text(
        Customer.Status.choices, help_text="Default active; blocked is the blacklist."
    )
    is_active = serializers.BooleanField(read_only=True, help_text="status is active.")
    metadata = MetadataField()
    # Named like Field.source, which DRF's metaclass keeps apart from declared fields.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Customer.Source.choices, read_only=True
    )
    created_by = serializers.CharField(
        read_only=True, help_text="user:<username> or api_key:<prefix>."
    )
    created_at = TimestampField(read_only=True)
    updated_at = TimestampField(read_only=True)

    def to_representation(self, customer: Customer) -> dict[str, Any]:
        """The customer as JSON, written out once (``customers.representation``): every
        response renders customers, and asking each declared field in turn (after copying them
        all) costs several times more. ``tests/test_api_customers.py`` holds it equal to what
        the declared fields render."""
        return customer_json(customer)

    def create(self, validated_data: dict) -> Customer:
        # validated_data holds the body's fields and the merchant, actor and source of save().
        return customer_create(**validated_data)

    def update(self, instance: Customer, validated_data: dict) -> Customer:
        context = {key: validated_data.pop(key) for key in ("actor", "source", "expected_version")}
        return customer_update(customer=instance, data=validated_data, **context)


class DeletedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    deleted = serializers.BooleanField()


# --- events ---------------------------------------------------------------------------------


class EventDataSerializer(serializers.Serializer):
    object = CustomerSerializer(
        help_text="The customer as GET rendered it after the change; for a deletion, its "
        "last state."
    )
    previous_attributes = serializers.DictField(
        required=False,
        help_text="Updates only: each changed field with its value before the change.",
    )


class EventSerializer(serializers.Serializer):
    """One change to a customer, as the feed and ``GET /events/{id}`` render it."""

    id = serializers.UUIDField()
    type = serializers.ChoiceField(
        choices=sorted(set(CustomerEvent.TYPES.values())),
        help_text="customer.created, customer.updated (a status change included) or "
        "customer.deleted.",
    )
    created_at = TimestampField()
    customer_id = serializers.UUIDField()
    # Named like Field.source and Serializer.data, which DRF's metaclass keeps apart.
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=Customer.Source.choices, help_text="The door."
    )
    actor = serializers.CharField(help_text="user:<username> or api_key:<prefix>.")
    data = EventDataSerializer()  # type: ignore[assignment]

    def to_representation(self, event: CustomerEvent) -> dict[str, Any]:
        return event_json(event)


# --- webhook endpoints ----------------------------------------------------------------------

#: What an endpoint's ``events`` may list.
SUBSCRIBABLE_EVENTS = [*EVENT_TYPES, ALL_EVENTS]


@extend_schema_field(
    {
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "enum": SUBSCRIBABLE_EVENTS},
        "description": f'The event types to receive, or ["{ALL_EVENTS}"] for every one '
        "(the default).",
    }
)
class EventTypesField(serializers.JSONField):
    """Any JSON here: that it is a list of known types is the service's rule, named events."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "uri"})
class URLTextField(TextField):
    """Text the schema calls a URI; which URLs may receive webhooks is the service's rule."""


class WebhookEndpointSerializer(ServiceSerializer):
    """A URL of the merchant's that receives its events, signed with the endpoint's secret.
    The secret itself is shown only by ``WebhookEndpointWithSecretSerializer``."""

    id = serializers.UUIDField(read_only=True)
    merchant_id = serializers.UUIDField(read_only=True)
    url = URLTextField(
        required=True,
        allow_blank=False,
        help_text="https:// address (http:// only where the server allows it) whose host "
        "resolves to public addresses only.",
    )
    events = EventTypesField()
    description = OptionalTextField(
        help_text=f"At most {WebhookEndpoint.DESCRIPTION_MAX_LENGTH} characters."
    )
    status = choice_text(
        WebhookEndpoint.Status.choices,
        help_text="Default enabled; a disabled endpoint receives nothing.",
    )
    created_at = TimestampField(read_only=True)

    def create(self, validated_data: dict) -> WebhookEndpoint:
        # validated_data holds the body's fields and the merchant and actor of save().
        actor = actor_label(validated_data.pop("actor"))
        endpoint, _secret = endpoint_create(actor=actor, **validated_data)
        return endpoint

    def update(self, instance: WebhookEndpoint, validated_data: dict) -> WebhookEndpoint:
        return endpoint_update(endpoint=instance, **validated_data)


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    """The endpoint as just created or given a new secret: the one time the secret is shown."""

    secret = serializers.CharField(
        read_only=True,
        help_text="whsec_…: verify Customers-Signature with it. Shown only now; after a "
        "rotation the previous secret signs too, for 24 hours.",
    )
