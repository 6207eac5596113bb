"""The API's errors and the one handler that renders every one of them in SPEC's envelope:

    {"error": {"code": "<code>", "message": "<sentence>", "fields": {"<field>": ["<message>"]}}}

``fields`` appears only for field errors; nested fields are named ``address.city`` and
``metadata.<key>``.
"""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from customers.exceptions import CustomerNotFound, StaleVersion

logger = logging.getLogger(__name__)

#: Every error code of SPEC, with the status it is sent with and when. A response carries no
#: other code; the OpenAPI document lists these, and describes each status by them.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "validation_error": (400, "a field or parameter is invalid; `fields` names it"),
    "invalid_json": (400, "the body is not valid JSON"),
    "not_authenticated": (401, "no credentials were sent"),
    "authentication_failed": (401, "the API key is invalid or revoked"),
    "permission_denied": (403, "the staff account lacks the permission"),
    "insufficient_scope": (403, "the API key lacks the scope"),
    "not_found": (404, "nothing with this id for this merchant"),
    "method_not_allowed": (405, "the Allow header lists the methods of the path"),
    "duplicate": (409, "the email or reference is taken; `fields` names it"),
    "idempotency_key_in_use": (409, "a request with this Idempotency-Key is still running"),
    "length_required": (411, "a chunked body this server cannot read; send Content-Length"),
    "precondition_failed": (412, "If-Match does not match the customer's ETag"),
    "payload_too_large": (413, "the body is too large"),
    "unsupported_media_type": (415, "the body is not sent as application/json"),
    "idempotency_key_reused": (422, "the Idempotency-Key was used with another body"),
    "throttled": (429, "too many requests; retry after Retry-After seconds"),
    "server_error": (500, "never expected; the error is logged"),
    "service_unavailable": (503, "retry after Retry-After seconds"),
}

#: DRF's own codes that SPEC names otherwise; DRF's other codes are SPEC's already.
DRF_CODES = {"parse_error": "invalid_json", "invalid": "validation_error"}


class SpecError(exceptions.APIException):
    """An error of SPEC's own: its status is the one ``ERROR_CODES`` gives its code."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.status_code = ERROR_CODES[cls.default_code][0]


class Duplicate(SpecError):
    default_code = "duplicate"
    default_detail = "A customer with these details already exists."


class IdempotencyKeyInUse(SpecError):
    default_code = "idempotency_key_in_use"
    default_detail = (
        "A request with this Idempotency-Key is still being processed; retry once it is done."
    )


class IdempotencyKeyReused(SpecError):
    default_code = "idempotency_key_reused"
    default_detail = (
        "This Idempotency-Key was already used with a different request body; "
        "use a new key for a new request."
    )


class PreconditionFailed(SpecError):
    default_code = "precondition_failed"
    default_detail = (
        "The customer has changed since the ETag given in If-Match; "
        "fetch it again and retry with its new ETag."
    )


class PayloadTooLarge(SpecError):
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class LengthRequired(SpecError):
    default_code = "length_required"
    default_detail = (
        "This server cannot read a chunked body; send the body with a Content-Length header."
    )


class ServiceUnavailable(SpecError):
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable; retry in a moment."
    #: Seconds a client is told to wait (``Retry-After``).
    wait = 5


class ServerError(SpecError):
    default_code = "server_error"
    default_detail = "Something went wrong on our side; the error has been logged."


class InsufficientScope(exceptions.PermissionDenied):
    default_code = "insufficient_scope"


def field_errors(error: DjangoValidationError) -> dict[str, list[DjangoValidationError]]:
    """A model's validation errors by API field name: a nested error carries its own name
    (``params["field"]``, e.g. ``address.city``), the rest the model field's."""
    by_field: Mapping[str, Any] = {NON_FIELD_ERRORS: error}
    if hasattr(error, "error_dict"):
        by_field = error.error_dict
    result: dict[str, list[DjangoValidationError]] = {}
    for field, errors in by_field.items():
        for item in errors.error_list if hasattr(errors, "error_list") else errors:
            name = (item.params or {}).get("field", field)
            result.setdefault(name, []).append(item)
    return result


def api_error_from_model(error: DjangoValidationError) -> exceptions.APIException:
    """The API error for a model's refusal: 409 ``duplicate`` when uniqueness was all that
    failed, 400 ``validation_error`` otherwise (duplicates included among the fields)."""
    errors = field_errors(error)
    detail = {
        (api_settings.NON_FIELD_ERRORS_KEY if name == NON_FIELD_ERRORS else name): [
            exceptions.ErrorDetail(item.messages[0], code=item.code or "invalid") for item in items
        ]
        for name, items in errors.items()
    }
    codes = {item.code for items in errors.values() for item in items}
    if codes == {"duplicate"}:
        return Duplicate(detail)
    return exceptions.ValidationError(detail)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"address.city": ["..."]}``."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, dict) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            flat.update(_flatten(item, f"{prefix}.{index}"))
        return flat
    items = detail if isinstance(detail, list) else [detail]
    return {prefix: [str(item) for item in items]}


def _summary(fields: dict[str, list[str]]) -> str:
    if len(fields) == 1:
        ((name, messages),) = fields.items()
        if len(messages) == 1:
            return f"{name}: {messages[0]}"
    return f"Invalid fields: {', '.join(fields)}."


def error_body(exc: exceptions.APIException) -> dict:
    """``{"code", "message"[, "fields"]}`` for an API exception."""
    if isinstance(exc, exceptions.ValidationError | Duplicate) and isinstance(exc.detail, dict):
        fields = _flatten(exc.detail)
        general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, [])
        code = "duplicate" if isinstance(exc, Duplicate) else "validation_error"
        if isinstance(exc, Duplicate):
            message = next(iter(fields.values()))[0]
        elif general:
            message = " ".join(general)
        else:
            message = _summary(fields)
        body: dict[str, Any] = {"code": code, "message": message}
        if fields:
            body["fields"] = fields
        return body
    if isinstance(exc, exceptions.ValidationError):
        messages = exc.detail if isinstance(exc.detail, list) else [exc.detail]
        return {"code": "validation_error", "message": " ".join(str(m) for m in messages)}
    drf_code: str = getattr(exc.detail, "code", None) or exc.default_code
    return {"code": DRF_CODES.get(drf_code, drf_code), "message": _message(exc)}


def _message(exc: exceptions.APIException) -> str:
    if isinstance(exc, exceptions.ParseError):
        return f"The body is not valid JSON: {exc.detail}"
    if isinstance(exc, exceptions.MethodNotAllowed):
        return f"{str(exc.detail).rstrip('.')}; the allowed methods are in the Allow header."
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return f"{str(exc.detail).rstrip('.')}; send JSON with Content-Type: application/json."
    if isinstance(exc, exceptions.Throttled):
        reason = getattr(exc, "reason", "Too many requests")
        return f"{reason}; retry after the number of seconds in Retry-After."
    return str(exc.detail)


def as_api_exception(exc: Exception, context: dict) -> exceptions.APIException:
    """The API error for ``exc``: a service's refusal by its meaning; anything unexpected is a
    logged ``server_error`` (or ``service_unavailable`` when the database does not answer)."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404 | CustomerNotFound):
        return exceptions.NotFound("No customer matches the given id.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, StaleVersion):
        return PreconditionFailed()
    if isinstance(exc, DjangoValidationError):
        return api_error_from_model(exc)
    request = context.get("request")
    request_id = getattr(getattr(request, "_request", None), "id", "")
    if isinstance(exc, OperationalError | InterfaceError):
        logger.exception("Database unavailable (request %s)", request_id)
        return ServiceUnavailable()
    if isinstance(exc, DatabaseError):
        logger.exception("Database error (request %s)", request_id)
    else:
        logger.exception("Unexpected error (request %s)", request_id)
    return ServerError()


def error_response(exc: exceptions.APIException) -> JsonResponse:
    """The envelope of ``exc`` outside a view, from middleware that answers before DRF."""
    return JsonResponse(
        {"error": error_body(exc)},
        status=exc.status_code,
        json_dumps_params={"separators": (",", ":"), "ensure_ascii": False},
    )


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """Every error of the API as SPEC's envelope. DRF's own handler does the rest: the status,
    ``WWW-Authenticate`` and ``Retry-After``, and rolling the request's transaction back."""
    # Imported here: rest_framework.views reads the settings that name this function.
    from rest_framework.views import exception_handler

    api_exception = as_api_exception(exc, context)
    response = exception_handler(api_exception, context)
    if response is None:  # DRF's handler answers every APIException
        raise TypeError(f"No response for {api_exception!r}")
    response.data = {"error": error_body(api_exception)}
    return response
