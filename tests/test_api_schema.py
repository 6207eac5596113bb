"""The OpenAPI document and the docs, and schemathesis: generated requests against every operation
of ``/api/v1/schema``, with an API key, on the test database; no response may be a server error
or break the schema (status, content type, headers, body).

Every check runs, "invalid data is rejected" included, except "valid data is accepted": the
model's rules (an ISO currency, an email or a phone) are more than a schema can say, and a stale
If-Match is rightly a 412 before the body is read (RFC 9110, 13.2.1).
"""

import os
import socket
import zlib

import pytest
import schemathesis
import yaml
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode, checks

from customers.api.schema import SchemaGenerator
from customers.models import ApiKey, CustomerEvent
from tests.factories import make_api_key, make_customer, make_webhook_endpoint

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/schema"

#: Requests generated per operation and mode: a quick walk over the parameters and fields at
#: each run of ``make test``; CI asks for many more (``SCHEMA_EXAMPLES`` in ``.ci/run``), where
#: a few more seconds buy a much wider search.
GENERATED_EXAMPLES = int(os.environ.get("SCHEMA_EXAMPLES", "5"))


# --- the document and the docs --------------------------------------------------------------


def test_schema_is_openapi_3_json_by_default_without_auth():
    response = APIClient().get(SCHEMA_URL)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi+json")
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert sorted(document["paths"]) == [
        "/api/v1/customers",
        "/api/v1/customers/{id}",
        "/api/v1/customers/{id}/events",
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/webhook-endpoints",
        "/api/v1/webhook-endpoints/{id}",
        "/api/v1/webhook-endpoints/{id}/rotate-secret",
    ]


def test_schema_in_yaml_with_format_yaml():
    response = APIClient().get(SCHEMA_URL, {"format": "yaml"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["info"]["title"] == "Customers API"


def test_the_schema_is_made_once_per_language_and_again_when_the_settings_change(settings):
    SchemaGenerator.documents.clear()
    english = APIClient().get(SCHEMA_URL).json()
    assert APIClient().get(SCHEMA_URL).json() == english
    APIClient().get(SCHEMA_URL, {"lang": "fr"})
    # Made-up languages and versions are answered, and not kept.
    assert APIClient().get(SCHEMA_URL, {"lang": "xx-made-up"}).status_code == 200
    assert APIClient().get(SCHEMA_URL, {"version": "made-up"}).status_code == 200
    assert sorted(SchemaGenerator.documents) == [("en", True), ("fr", True)]

    settings.SPECTACULAR_SETTINGS = {**settings.SPECTACULAR_SETTINGS, "TITLE": "Renamed"}
    assert SchemaGenerator.documents == {}


def test_schema_with_trailing_slash_does_not_redirect():
    assert APIClient().get(SCHEMA_URL + "/").status_code == 200


def test_schema_documents_every_filter_and_pagination_parameter():
    document = APIClient().get(SCHEMA_URL).json()

    parameters = {p["name"] for p in document["paths"]["/api/v1/customers"]["get"]["parameters"]}

    assert parameters == {
        "email",
        "phone",
        "type",
        "is_active",
        "status",
        "reference",
        "country",
        "currency",
        "created_after",
        "created_before",
        "search",
        "ordering",
        "limit",
        "page",
        "cursor",
        "X-Request-ID",
    }


def test_schema_lists_every_ordering_with_how_it_sorts():
    document = APIClient().get(SCHEMA_URL).json()
    parameters = document["paths"]["/api/v1/customers"]["get"]["parameters"]

    (ordering,) = [p for p in parameters if p["name"] == "ordering"]

    assert sorted(ordering["schema"]["enum"]) == sorted([
        "created_at", "-created_at", "name", "-name", "updated_at", "-updated_at",
        "status", "-status", "type", "-type", "country", "-country",
    ])  # fmt: skip
    assert ordering["description"].startswith(
        "created_at, name, updated_at, status, type or country; a leading '-' reverses. "
        "Status, type and country sort by their codes (no country first), then by created_at "
        "the same way. Default -created_at."
    )


def test_schema_documents_the_envelope_errors_and_headers():
    document = APIClient().get(SCHEMA_URL).json()
    create = document["paths"]["/api/v1/customers"]["post"]
    patch = document["paths"]["/api/v1/customers/{id}"]["patch"]
    error = {"$ref": "#/components/schemas/ErrorEnvelope"}

    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerEnvelope"
    }
    assert sorted(create["responses"]) == [
        "201", "400", "401", "403", "405", "409", "413", "415", "422", "429", "503",
    ]  # fmt: skip
    assert all(
        response["content"]["application/json"]["schema"] == error
        for code, response in create["responses"].items()
        if code != "201"
    )
    assert sorted(create["responses"]["201"]["headers"]) == [
        "ETag", "Idempotent-Replayed", "Location", "X-Request-ID",
    ]  # fmt: skip
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key", "X-Request-ID"}
    assert {p["name"] for p in patch["parameters"]} == {"id", "If-Match", "X-Request-ID"}
    assert sorted(patch["responses"]["429"]["headers"]) == ["Retry-After", "X-Request-ID"]
    assert document["components"]["schemas"]["PatchedCustomerRequest"]["additionalProperties"] is (
        False
    )
    assert document["components"]["schemas"]["ErrorCodeEnum"]["enum"][:3] == [
        "validation_error",
        "invalid_json",
        "not_authenticated",
    ]


def test_schema_shows_the_webhook_secret_only_where_it_is_returned():
    document = APIClient().get(SCHEMA_URL).json()
    paths, schemas = document["paths"], document["components"]["schemas"]

    def body(operation: dict, status: str) -> str:
        return operation["responses"][status]["content"]["application/json"]["schema"]["$ref"]

    assert body(paths["/api/v1/webhook-endpoints"]["post"], "201").endswith("WithSecretEnvelope")
    assert body(paths["/api/v1/webhook-endpoints/{id}/rotate-secret"]["post"], "200").endswith(
        "WithSecretEnvelope"
    )
    assert body(paths["/api/v1/webhook-endpoints/{id}"]["get"], "200").endswith(
        "/WebhookEndpointEnvelope"
    )
    assert "secret" not in schemas["WebhookEndpoint"]["properties"]
    assert schemas["WebhookEndpointWithSecret"]["required"] == sorted(
        [*schemas["WebhookEndpoint"]["properties"], "secret"]
    )
    assert schemas["WebhookEndpointRequest"]["properties"]["url"]["format"] == "uri"
    assert schemas["WebhookEndpointRequest"]["required"] == ["url"]
    assert "Location" in paths["/api/v1/webhook-endpoints"]["post"]["responses"]["201"]["headers"]


def test_schema_security_is_bearer_or_x_api_key():
    document = APIClient().get(SCHEMA_URL).json()

    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert document["components"]["securitySchemes"]["apiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A merchant's API key, ck_<prefix>_<secret>. Reading customers and "
        "events needs the customers:read scope; writing customers:write; webhook endpoints "
        "webhooks:manage.",
    }
    assert document["paths"]["/api/v1/customers"]["get"]["security"][:2] == [
        {"bearerAuth": []},
        {"apiKeyHeader": []},
    ]


def test_docs_are_served_with_local_assets():
    response = APIClient().get("/api/docs")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert '<script src="/api/docs?script="></script>' in page
    assert "/api/v1/schema" in APIClient().get("/api/docs?script=").content.decode()
    assert "cdn" not in page.lower()


def test_healthz_is_ok_without_auth():
    response = APIClient().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert response["X-Request-ID"]
    assert APIClient().get("/healthz/").status_code == 200


def test_healthz_is_503_when_the_database_is_unreachable(monkeypatch):
    from django.db import OperationalError, connection

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)

    response = APIClient().get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


def test_a_database_outage_during_a_request_is_503_service_unavailable(monkeypatch, merchant):
    from django.db import OperationalError, connection

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)

    response = client.get("/api/v1/customers")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "error": {
            "code": "service_unavailable",
            "message": "The service is temporarily unavailable; retry in a moment.",
        }
    }


# --- schemathesis ---------------------------------------------------------------------------

OPERATIONS = [
    "GET /api/v1/customers",
    "POST /api/v1/customers",
    "GET /api/v1/customers/{id}",
    "PATCH /api/v1/customers/{id}",
    "DELETE /api/v1/customers/{id}",
    "GET /api/v1/customers/{id}/events",
    "GET /api/v1/events",
    "GET /api/v1/events/{id}",
    "GET /api/v1/webhook-endpoints",
    "POST /api/v1/webhook-endpoints",
    "GET /api/v1/webhook-endpoints/{id}",
    "PATCH /api/v1/webhook-endpoints/{id}",
    "DELETE /api/v1/webhook-endpoints/{id}",
    "POST /api/v1/webhook-endpoints/{id}/rotate-secret",
]


@pytest.fixture(scope="module")
def loaded_schema() -> dict:
    """The schema as schemathesis loads it, once for the module. Each test changes settings,
    after which the app makes the document again; with schemathesis parsing it, loading it
    anew cost as much as the test's generated requests."""
    return {}


@pytest.fixture
def api_schema(settings, loaded_schema):
    # schemathesis' WSGI client sends Host: localhost.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    # Hundreds of generated requests with one key, and with wrong ones (ignored_auth), from one
    # address: the rate limits are not under test here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100000/minute"},
    }
    settings.API_AUTH_FAILURE_RATE = "100000/minute"
    # As Django's test client does: the WSGI handler's end-of-request hook would otherwise
    # close the connection that holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        if "schema" not in loaded_schema:
            loaded_schema["schema"] = schemathesis.openapi.from_wsgi(
                SCHEMA_URL, get_wsgi_application()
            )
        yield loaded_schema["schema"]
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def registry(merchant):
    """Customers and webhook endpoints for generated ids to land on, and the key to reach them
    (with every scope)."""
    customers = [
        make_customer(merchant, name="Awa Diop", email="awa@example.com", metadata={"a": 1}),
        make_customer(merchant, name="Chidi Okafor", phone="+2348031234567", country="NG"),
        make_customer(merchant, name="Kofi Mensah", email="kofi@example.com", status="blocked"),
    ]
    endpoints = [
        make_webhook_endpoint(merchant),
        make_webhook_endpoint(merchant, events=["customer.created"], description="CRM"),
        make_webhook_endpoint(merchant, status="disabled"),
    ]
    _, raw_key = make_api_key(merchant, scopes=ApiKey.Scope.values)
    return {
        "ids": {
            "customers": [str(c.pk) for c in customers],
            "events": [str(pk) for pk in CustomerEvent.objects.values_list("pk", flat=True)],
            "webhook-endpoints": [str(e.pk) for e in endpoints],
        },
        "key": raw_key,
    }


@pytest.fixture
def offline_dns(monkeypatch):
    """Generated webhook URLs name random hosts. They are not looked up on the network (slow,
    and not the test's business): any name resolves to a documentation address (TEST-NET-1,
    allowed by the test settings), and an address given as such stays itself."""
    lookup = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        try:
            return lookup(host, port, family, type, proto, flags | socket.AI_NUMERICHOST)
        except socket.gaierror:
            return lookup("192.0.2.1", port, family, type, proto, socket.AI_NUMERICHOST)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_schemathesis_covers_every_operation(api_schema):
    labels = [result.ok().label for result in api_schema.get_all_operations()]

    assert sorted(labels) == sorted(OPERATIONS)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.allow_header_conformance,
    checks.unsupported_method,
    checks.ignored_auth,
    checks.negative_data_rejection,
    checks.missing_required_header,
    checks.use_after_free,
]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("label", OPERATIONS)
def test_generated_requests_get_no_server_error_and_conform_to_the_schema(
    api_schema, registry, offline_dns, label, mode
):
    operation = api_schema.find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(
        max_examples=GENERATED_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case):
        path_parameters = case.path_parameters or {}
        if mode.is_positive and "id" in path_parameters:
            # Half the generated ids become a real row's, deterministically, so GET, PATCH and
            # DELETE reach real rows as well as missing ones.
            ids = registry["ids"][label.split("/")[3]]
            pick = zlib.crc32(str(path_parameters["id"]).encode())
            if pick % 2:
                path_parameters["id"] = ids[pick % len(ids)]
        case.call_and_validate(
            headers={"Authorization": f"Bearer {registry['key']}"}, checks=CHECKS
        )

    conforms()


@pytest.mark.parametrize(
    ("field", "choices"),
    [
        ("type", ["individual", "business"]),
        ("status", ["pending_kyc", "active", "inactive", "blocked"]),
    ],
)
def test_schema_lists_the_choices_of_type_and_status(field, choices):
    schemas = APIClient().get(SCHEMA_URL).json()["components"]["schemas"]
    for component in ("Customer", "CustomerRequest", "PatchedCustomerRequest"):
        (reference,) = schemas[component]["properties"][field]["allOf"]
        assert schemas[reference["$ref"].rsplit("/", 1)[-1]]["enum"] == choices, component


def test_schema_gives_the_length_limits_of_every_text_field():
    schemas = APIClient().get(SCHEMA_URL).json()["components"]["schemas"]
    request = schemas["CustomerRequest"]["properties"]
    response = schemas["Customer"]["properties"]

    assert {name: request[name].get("maxLength") for name in ("name", "email", "description")} == {
        "name": 200,
        "email": 254,
        "description": 1000,
    }
    # A request may name a country or currency at length; the stored code is short.
    assert ("maxLength" in request["country"], response["country"]["maxLength"]) == (False, 2)


def test_schema_says_query_parameters_are_never_empty():
    parameters = APIClient().get(SCHEMA_URL).json()["paths"]["/api/v1/customers"]["get"]
    lengths = {
        parameter["name"]: parameter["schema"].get("minLength")
        for parameter in parameters["parameters"]
        if parameter["in"] == "query" and parameter["schema"].get("type") == "string"
    }

    assert lengths["search"] == 3
    assert set(lengths.values()) <= {1, 3}


def test_the_schema_generates_without_a_warning(tmp_path):
    # An ambiguous enum name, say, would be a warning here and a failed deploy check in CI.
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "WebhookEndpointStatusEnum" in (tmp_path / "schema.yaml").read_text()
