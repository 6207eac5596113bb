"""What the OpenAPI document says beyond what drf-spectacular infers: the API-key schemes, the
envelope, each error response, and the headers (``X-Request-ID`` on every response, ``ETag``,
``Location``, ``Idempotent-Replayed``, ``Retry-After``, ``WWW-Authenticate``, ``Allow``)."""

from django.conf import settings
from django.core.signals import setting_changed
from django.db import models
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular import generators
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from customers.filtersets import SEARCH_MIN_LENGTH
from customers.models import CodeField, Customer, IdempotencyKey
from webhooks.models import WebhookEndpoint

from .exceptions import ERROR_CODES
from .serializers import (
    CustomerSerializer,
    DeletedSerializer,
    EventSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWithSecretSerializer,
)


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """A key goes in ``Authorization: Bearer`` or in ``X-API-Key``; either one will do."""

    target_class = "customers.api.authentication.ApiKeyAuthentication"
    name = ["bearerAuth", "apiKeyHeader"]

    def get_security_requirement(self, auto_schema):
        return [{"bearerAuth": []}, {"apiKeyHeader": []}]

    def get_security_definition(self, auto_schema):
        description = (
            "A merchant's API key, ck_<prefix>_<secret>. Reading customers and events needs "
            "the customers:read scope; writing customers:write; webhook endpoints "
            "webhooks:manage."
        )
        return [
            {"type": "http", "scheme": "bearer", "description": description},
            {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": description},
        ]


CustomerEnvelope = inline_serializer("CustomerEnvelope", {"data": CustomerSerializer()})
DeletedEnvelope = inline_serializer("DeletedEnvelope", {"data": DeletedSerializer()})
EventEnvelope = inline_serializer("EventEnvelope", {"data": EventSerializer()})
WebhookEndpointEnvelope = inline_serializer(
    "WebhookEndpointEnvelope", {"data": WebhookEndpointSerializer()}
)
WebhookEndpointWithSecretEnvelope = inline_serializer(
    "WebhookEndpointWithSecretEnvelope", {"data": WebhookEndpointWithSecretSerializer()}
)
ErrorEnvelope = inline_serializer(
    "ErrorEnvelope",
    {
        "error": inline_serializer(
            "Error",
            {
                "code": serializers.ChoiceField(choices=list(ERROR_CODES)),
                "message": serializers.CharField(help_text="A sentence for people."),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField()),
                    required=False,
                    help_text="Field errors by field or parameter name; nested fields as "
                    "address.city or metadata.<key>.",
                ),
            },
        )
    },
)


def describe_status(status: int) -> str:
    """The error codes sent with ``status``, each with when: ``"not_found (no such …)."``"""
    return (
        "; ".join(
            f"{code} ({when})"
            for code, (code_status, when) in ERROR_CODES.items()
            if code_status == status
        )
        + "."
    )


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """The error envelope under each status, for an operation that can return it."""
    common = (400, 401, 403, 405, 429, 503)
    return {
        code: OpenApiResponse(ErrorEnvelope, description=describe_status(code))
        for code in sorted({*common, *statuses})
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": IdempotencyKey.MAX_LENGTH,
        "pattern": "^[\\x20-\\x7e]+$",
    },
    OpenApiParameter.HEADER,
    description=f"At most {IdempotencyKey.MAX_LENGTH} characters. The same key and body within "
    "24 hours replays the first response (header Idempotent-Replayed: true) and creates nothing.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='The ETag of the customer as last read, e.g. "3": the write happens only if '
    "it is still current, else 412 and nothing changes.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    OpenApiParameter.HEADER,
    description="An ETag held by the client: 304 without a body if it is still current.",
)

_HEADERS = {
    "X-Request-ID": "The request's id: the client's own X-Request-ID (at most 128 safe "
    "characters) echoed, or one generated.",
    "ETag": "The customer's version; send it back in If-Match.",
    "Location": "URL of the new resource.",
    "Idempotent-Replayed": "true when this is the stored response to an earlier request "
    "with the same Idempotency-Key.",
    "Retry-After": "Seconds to wait before retrying.",
    "WWW-Authenticate": "Bearer",
    "Allow": "The methods of this path.",
}


def _header(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


#: Filters that take a date or a date-time.
DATE_OR_DATE_TIME = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}


#: Query parameters that need more than one character.
MIN_LENGTHS = {"search": SEARCH_MIN_LENGTH}


#: The components of each model's fields, whose text limits the model gives.
MODEL_COMPONENTS: dict[type[models.Model], tuple[str, ...]] = {
    Customer: ("Customer", "CustomerRequest", "PatchedCustomerRequest"),
    WebhookEndpoint: (
        "WebhookEndpoint",
        "WebhookEndpointWithSecret",
        "WebhookEndpointRequest",
        "PatchedWebhookEndpointRequest",
    ),
}

#: The resources with versions (``ETag``, ``If-Match``) and ``Idempotency-Key`` on create.
VERSIONED_PATHS = ("/api/v1/customers", "/api/v1/customers/{id}")


def text_limits(model: type[models.Model], *, request_body: bool) -> dict[str, int]:
    """The most characters of each text field, from the model. A request may spell a country
    or currency at length (``Senegal``): only the stored code is short."""
    return {
        field.name: field.max_length
        for field in model._meta.get_fields()
        if isinstance(field, models.CharField | models.TextField)
        and field.max_length
        and not field.choices
        and not (request_body and isinstance(field, CodeField))
    }


def postprocess_api_schema(result, generator, request, public):
    """Paths as SPEC writes them (no trailing slash), headers on every response, date or
    date-time filters, and request bodies that admit no unknown key."""
    result["paths"] = {path.rstrip("/"): item for path, item in result.get("paths", {}).items()}
    components = result.setdefault("components", {})
    components["headers"] = {
        name: {"description": description, "schema": {"type": "string"}}
        for name, description in _HEADERS.items()
    }
    for path, path_item in result["paths"].items():
        for method, operation in path_item.items():
            parameters = operation.setdefault("parameters", [])
            for parameter in parameters:
                if parameter["name"] in ("created_after", "created_before"):
                    parameter["schema"] = DATE_OR_DATE_TIME
                elif parameter["in"] == "query" and parameter["schema"].get("type") == "string":
                    # A parameter sent empty is refused: give a value or leave it out.
                    parameter["schema"].setdefault(
                        "minLength", MIN_LENGTHS.get(parameter["name"], 1)
                    )
            parameters.append(
                {
                    "name": "X-Request-ID",
                    "in": "header",
                    "required": False,
                    "description": _HEADERS["X-Request-ID"],
                    "schema": {"type": "string"},
                }
            )
            versioned = path in VERSIONED_PATHS
            for code, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers["X-Request-ID"] = _header("X-Request-ID")
                if versioned and code in ("200", "304") and method == "get" and "{id}" in path:
                    headers["ETag"] = _header("ETag")
                if versioned and code == "200" and method == "patch":
                    headers["ETag"] = _header("ETag")
                if code == "201":
                    headers["Location"] = _header("Location")
                if versioned and code == "201":
                    headers["ETag"] = _header("ETag")
                    headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
                if code in ("429", "503"):
                    headers["Retry-After"] = _header("Retry-After")
                if code == "401":
                    headers["WWW-Authenticate"] = _header("WWW-Authenticate")
                if code == "405":
                    headers["Allow"] = _header("Allow")
    schemas = components.get("schemas", {})
    for model, names in MODEL_COMPONENTS.items():
        for name in names:
            request_body = name.endswith("Request")
            properties = schemas.get(name, {}).get("properties", {})
            for field, limit in text_limits(model, request_body=request_body).items():
                if field in properties:
                    properties[field]["maxLength"] = limit
            if properties and not request_body:
                # A response always carries every field.
                schemas[name]["required"] = sorted(properties)
    for name, component in schemas.items():
        if name.endswith("Request") and component.get("type") == "object":
            component["additionalProperties"] = False
    return result


class SchemaGenerator(generators.SchemaGenerator):
    """drf-spectacular's generator, whose document is made once per process and language: it
    depends only on the code and the settings, and takes tens of milliseconds to make. A
    language other than the site's, or a version asked in the query string, is made each time
    (nobody fills the memory with made-up ones)."""

    documents: dict[tuple[str, bool], dict] = {}

    def get_schema(self, request=None, public=False):
        language = translation.get_language()
        if self.api_version is not None or language not in dict(settings.LANGUAGES):
            return super().get_schema(request=request, public=public)
        key = (language, public)
        if key not in self.documents:
            self.documents[key] = super().get_schema(request=request, public=public)
        return self.documents[key]


@receiver(setting_changed)
def _forget_documents(**kwargs):
    SchemaGenerator.documents.clear()
