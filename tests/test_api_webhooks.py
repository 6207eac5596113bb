"""The webhook endpoints of the API: register, list, get, PATCH, delete and rotate the secret,
with the scope, the permissions, the tenancy and the URL guard they answer to."""

import pytest
from rest_framework.test import APIClient

from customers.models import ApiKey
from tests.factories import make_api_key, make_merchant, make_user, make_webhook_endpoint
from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints"


@pytest.fixture
def api_key(merchant):
    return make_api_key(merchant, scopes=[ApiKey.Scope.WEBHOOKS])


@pytest.fixture
def api(api_key):
    return key_client(api_key[1])


def key_client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def detail(endpoint) -> str:
    return f"{URL}/{endpoint.pk}"


def stored(endpoint: WebhookEndpoint) -> dict:
    """The JSON of ``endpoint`` as the API must render it (never with its secret)."""
    endpoint.refresh_from_db()
    return {
        "id": str(endpoint.pk),
        "merchant_id": str(endpoint.merchant_id),
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description or None,
        "status": endpoint.status,
        "created_at": endpoint.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


def field_error(response, field: str) -> list[str]:
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return error["fields"][field]


# --- create ---------------------------------------------------------------------------------


def test_create_returns_201_the_endpoint_with_its_secret_and_location(api, api_key, merchant):
    response = api.post(
        URL,
        {
            "url": " http://127.0.0.1:8080/hooks ",
            "events": ["customer.updated", "customer.created", "customer.updated"],
            "description": "CRM sync",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert response.json() == {"data": {**stored(endpoint), "secret": endpoint.secret}}
    assert response.json()["data"]["secret"].startswith("whsec_")
    assert response.json()["data"]["url"] == "http://127.0.0.1:8080/hooks"
    assert response.json()["data"]["events"] == ["customer.created", "customer.updated"]
    assert response["Location"] == f"http://testserver{URL}/{endpoint.pk}"
    assert (endpoint.merchant, endpoint.created_by) == (merchant, f"api_key:{api_key[0].prefix}")


def test_create_subscribes_to_every_event_and_enables_by_default(api):
    response = api.post(URL, {"url": "http://127.0.0.1/hooks"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["events"] == ["*"]
    assert response.json()["data"]["status"] == "enabled"
    assert response.json()["data"]["description"] is None


def test_get_and_list_never_show_the_secret(api):
    secret = api.post(URL, {"url": "http://127.0.0.1/hooks"}, format="json").json()["data"]
    endpoint = WebhookEndpoint.objects.get()

    one = api.get(detail(endpoint))
    listed = api.get(URL)

    assert one.json() == {"data": stored(endpoint)}
    assert listed.json()["data"] == [stored(endpoint)]
    assert secret["secret"] not in one.content.decode() + listed.content.decode()


def test_create_without_url_names_url(api):
    assert field_error(api.post(URL, {"events": ["*"]}, format="json"), "url") == [
        "This field is required."
    ]


# --- refusals -------------------------------------------------------------------------------


def test_unknown_field_is_400_naming_it(api):
    response = api.post(URL, {"url": "http://127.0.0.1/", "event": ["*"]}, format="json")

    assert field_error(response, "event") == ["Unknown field; did you mean events?"]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("field", ["id", "merchant_id", "created_at"])
def test_read_only_field_is_400_naming_it(api, field):
    response = api.post(URL, {"url": "http://127.0.0.1/", field: "x"}, format="json")

    assert field_error(response, field) == ["This field is read-only."]


def test_a_secret_cannot_be_chosen(api):
    response = api.post(URL, {"url": "http://127.0.0.1/", "secret": "whsec_mine"}, format="json")

    assert field_error(response, "secret") == ["Unknown field."]


def test_unknown_event_type_is_400_naming_events(api):
    response = api.post(
        URL, {"url": "http://127.0.0.1/", "events": ["customer.created", "customer.merged"]},
        format="json",
    )  # fmt: skip

    assert field_error(response, "events") == [
        "Unknown event type “customer.merged”. Choose among customer.created, "
        "customer.deleted, customer.updated, *."
    ]


@pytest.mark.parametrize("events", [[], "customer.created", [1], None])
def test_events_that_are_not_a_list_of_types_are_400_naming_events(api, events):
    response = api.post(URL, {"url": "http://127.0.0.1/", "events": events}, format="json")

    assert field_error(response, "events")


def test_http_url_is_refused_when_plain_http_is_not_allowed(api, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    response = api.post(URL, {"url": "http://hooks.example.com/"}, format="json")

    assert field_error(response, "url") == ["Enter an https:// URL."]


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://127.0.0.1/", "The host 127.0.0.1 resolves to a loopback address"),
        ("http://10.0.0.1/", "The host 10.0.0.1 resolves to a private address"),
        ("http://localhost/", "The host localhost resolves to a loopback address"),
        ("http://169.254.169.254/", "The host 169.254.169.254 resolves to a link-local address"),
    ],
)
def test_private_and_loopback_hosts_are_refused_when_not_allowed(api, settings, url, refusal):
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    response = api.post(URL, {"url": url}, format="json")

    assert field_error(response, "url") == [f"{refusal}, which cannot receive webhooks."]
    assert not WebhookEndpoint.objects.exists()


def test_cloud_metadata_address_is_refused_even_when_private_hosts_are_allowed(api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = True

    response = api.post(URL, {"url": "http://169.254.169.254/latest/meta-data/"}, format="json")

    assert field_error(response, "url") == [
        "The host 169.254.169.254 resolves to a link-local address, which cannot receive webhooks."
    ]


def test_patch_to_a_refused_url_changes_nothing(api, merchant, settings):
    endpoint = make_webhook_endpoint(merchant)
    before = stored(endpoint)
    settings.WEBHOOKS_ALLOW_PRIVATE = False

    response = api.patch(detail(endpoint), {"url": "http://10.0.0.1/"}, format="json")

    assert field_error(response, "url")
    assert stored(endpoint) == before


# --- list -----------------------------------------------------------------------------------


def test_list_is_the_merchants_endpoints_newest_first(api, merchant, other_merchant):
    older = make_webhook_endpoint(merchant)
    newer = make_webhook_endpoint(merchant, status="disabled")
    make_webhook_endpoint(other_merchant)

    response = api.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "data": [stored(newer), stored(older)],
        "meta": {"limit": 20, "has_more": False, "next_cursor": None},
    }


def test_list_pages_by_cursor_without_skipping_or_repeating(api, merchant):
    endpoints = [make_webhook_endpoint(merchant) for _ in range(5)]
    seen, params = [], {"limit": 2}

    while True:
        page = api.get(URL, params).json()
        seen += [row["id"] for row in page["data"]]
        if not page["meta"]["has_more"]:
            assert page["meta"]["next_cursor"] is None
            break
        params = {"limit": 2, "cursor": page["meta"]["next_cursor"]}

    assert seen == [str(e.pk) for e in reversed(endpoints)]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"cursor": "nonsense"}, "cursor"), ({"page": "2"}, "page")],
)
def test_list_refuses_a_bad_or_unknown_parameter_by_name(api, params, field):
    assert field_error(api.get(URL, params), field)


def test_list_costs_the_same_few_queries_for_many_endpoints(
    api, merchant, django_assert_max_num_queries
):
    for _ in range(30):
        make_webhook_endpoint(merchant)
    api.get(URL)  # the key's last_used_at is written on first use

    with django_assert_max_num_queries(2):  # the key, the page
        response = api.get(URL, {"limit": 25})

    assert len(response.json()["data"]) == 25


# --- get, PATCH, delete ---------------------------------------------------------------------


def test_get_of_a_missing_or_malformed_id_is_404(api):
    missing = api.get(f"{URL}/01a229f4-3f73-7b05-9052-1b0f777d7d92")
    malformed = api.get(f"{URL}/nope")

    assert missing.status_code == malformed.status_code == 404
    assert missing.json() == {
        "error": {"code": "not_found", "message": "No webhook endpoint matches the given id."}
    }


def test_patch_changes_only_the_fields_sent(api, merchant):
    endpoint = make_webhook_endpoint(merchant, description="CRM", events=["customer.created"])

    response = api.patch(
        detail(endpoint), {"status": "disabled", "description": None}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"data": stored(endpoint)}
    assert (endpoint.status, endpoint.description, endpoint.events) == (
        "disabled", "", ["customer.created"],
    )  # fmt: skip


def test_patch_refuses_an_unknown_field_and_changes_nothing(api, merchant):
    endpoint = make_webhook_endpoint(merchant)
    before = stored(endpoint)

    response = api.patch(detail(endpoint), {"status": "disabled", "stauts": "x"}, format="json")

    assert field_error(response, "stauts") == ["Unknown field; did you mean status?"]
    assert stored(endpoint) == before


def test_delete_removes_the_endpoint_and_a_second_delete_is_404(api, merchant):
    endpoint = make_webhook_endpoint(merchant)

    response = api.delete(detail(endpoint))

    assert response.status_code == 200
    assert response.json() == {"data": {"id": str(endpoint.pk), "deleted": True}}
    assert not WebhookEndpoint.objects.exists()
    assert api.delete(detail(endpoint)).status_code == 404


def test_put_is_405(api, merchant):
    endpoint = make_webhook_endpoint(merchant)

    response = api.put(detail(endpoint), {"url": "http://127.0.0.1/"}, format="json")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# --- rotate-secret --------------------------------------------------------------------------


def test_rotate_secret_returns_a_new_secret_and_keeps_the_old_one_signing(api, merchant):
    endpoint = make_webhook_endpoint(merchant)
    old = endpoint.secret

    response = api.post(f"{detail(endpoint)}/rotate-secret")

    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert response.json() == {"data": {**stored(endpoint), "secret": endpoint.secret}}
    assert endpoint.secret.startswith("whsec_") and endpoint.secret != old
    assert endpoint.live_secrets() == [endpoint.secret, old]
    assert old not in api.get(detail(endpoint)).content.decode()


def test_rotate_secret_refuses_a_body(api, merchant):
    endpoint = make_webhook_endpoint(merchant)
    old = endpoint.secret

    response = api.post(f"{detail(endpoint)}/rotate-secret", {"secret": "mine"}, format="json")

    assert field_error(response, "secret") == ["Unknown field; this request takes no body."]
    endpoint.refresh_from_db()
    assert endpoint.secret == old


# --- scopes, permissions, tenancy -----------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_key_without_the_webhooks_scope_is_403_insufficient_scope(merchant, method):
    client = key_client(make_api_key(merchant)[1])  # customers:read and customers:write

    response = getattr(client, method)(URL, {"url": "http://127.0.0.1/"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "insufficient_scope",
            "message": "This API key lacks the webhooks:manage scope.",
        }
    }
    assert not WebhookEndpoint.objects.exists()


def test_a_key_without_the_webhooks_scope_cannot_rotate_a_secret(merchant):
    endpoint = make_webhook_endpoint(merchant)
    client = key_client(make_api_key(merchant, scopes=[ApiKey.Scope.WRITE])[1])

    response = client.post(f"{detail(endpoint)}/rotate-secret")

    assert response.json()["error"]["code"] == "insufficient_scope"


def test_a_webhooks_key_cannot_read_customers(api):
    response = api.get("/api/v1/customers")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_scope"


def test_another_merchants_endpoint_is_404(api, other_merchant):
    theirs = make_webhook_endpoint(other_merchant)

    for response in [
        api.get(detail(theirs)),
        api.patch(detail(theirs), {"status": "disabled"}, format="json"),
        api.post(f"{detail(theirs)}/rotate-secret"),
        api.delete(detail(theirs)),
    ]:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert stored(theirs)["status"] == "enabled"


def test_a_manager_session_manages_endpoints_as_itself(merchant):
    client = session_client(make_user(merchant, group="Manager", username="awa"))

    created = client.post(URL, {"url": "http://127.0.0.1/"}, format="json")
    endpoint = WebhookEndpoint.objects.get()

    assert created.status_code == 201
    assert endpoint.created_by == "user:awa"
    assert client.get(URL).json()["data"] == [stored(endpoint)]
    assert client.post(f"{detail(endpoint)}/rotate-secret").status_code == 200
    assert client.delete(detail(endpoint)).status_code == 200


@pytest.mark.parametrize("group", [None, "Viewer", "Editor"])
def test_a_session_without_the_webhook_permissions_is_403_permission_denied(merchant, group):
    endpoint = make_webhook_endpoint(merchant)
    client = session_client(make_user(merchant, group=group))

    for response in [
        client.get(URL),
        client.post(URL, {"url": "http://127.0.0.1/"}, format="json"),
        client.post(f"{detail(endpoint)}/rotate-secret"),
    ]:
        assert response.status_code == 403
        assert response.json() == {
            "error": {
                "code": "permission_denied",
                "message": "Your account does not have permission to do this.",
            }
        }


def test_a_session_of_several_merchants_cannot_create_without_choosing(merchant, other_merchant):
    client = session_client(make_user(merchant, other_merchant, group="Manager"))

    response = client.post(URL, {"url": "http://127.0.0.1/"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "Your account works for several merchants (or none); create webhook "
        "endpoints with the merchant's API key or from the dashboard.",
    }


def test_a_session_sees_the_endpoints_of_its_merchants_only(merchant, other_merchant):
    mine = make_webhook_endpoint(merchant)
    theirs = make_webhook_endpoint(make_merchant())
    client = session_client(make_user(merchant, other_merchant, group="Manager"))

    assert [row["id"] for row in client.get(URL).json()["data"]] == [str(mine.pk)]
    assert client.get(detail(theirs)).status_code == 404
