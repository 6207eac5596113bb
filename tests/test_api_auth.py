"""Who may call the API and what they may do: keys and scopes, staff sessions and model
permissions, tenancy, and throttling."""

import datetime
import hashlib
import os
import uuid
from collections import Counter

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.api.authentication import ApiKeyUser
from customers.models import ApiKey, Customer
from customers.services import api_key_revoke
from tests.factories import make_api_key, make_customer, make_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
READ = [ApiKey.Scope.READ]


def client_with_key(raw_key: str, header: str = "bearer") -> APIClient:
    client = APIClient()
    if header == "bearer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    else:
        client.credentials(HTTP_X_API_KEY=raw_key)
    return client


@pytest.fixture
def api(merchant):
    return client_with_key(make_api_key(merchant)[1])


@pytest.fixture
def other_api(other_merchant):
    return client_with_key(make_api_key(other_merchant)[1])


# --- API keys -------------------------------------------------------------------------------


def test_no_credentials_is_401_not_authenticated_with_www_authenticate_bearer():
    response = APIClient().get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
        }
    }


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
def test_a_valid_key_in_either_header_is_accepted(merchant, header):
    _, raw_key = make_api_key(merchant)

    response = client_with_key(raw_key, header).get(URL)

    assert response.status_code == 200


def test_the_bearer_scheme_is_case_insensitive(merchant):
    _, raw_key = make_api_key(merchant)

    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"bearer {raw_key}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "raw_key",
    [
        "ck_00000000_wrongsecret",
        "not-a-key",
        "ck_\x00\x00\x00\x00\x00\x00\x00\x00_secret",
        "ck_" + "a" * 8 + "_" + "s" * 500,
    ],
    ids=["unknown", "malformed", "nul-prefix", "too-long"],
)
def test_a_bad_key_is_401_authentication_failed(raw_key):
    response = client_with_key(raw_key).get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "error": {
            "code": "authentication_failed",
            "message": "The API key is invalid or has been revoked.",
        }
    }


def test_a_key_with_a_wrong_secret_is_401(merchant):
    _, raw_key = make_api_key(merchant)

    response = client_with_key(raw_key[:-2] + "xx").get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_revoked_key_is_401_authentication_failed(merchant):
    api_key, raw_key = make_api_key(merchant)
    api_key_revoke(api_key=api_key)

    response = client_with_key(raw_key).get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_empty_bearer_is_401_authentication_failed():
    response = APIClient().get(URL, HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "The Authorization header has no key.",
    }


def test_two_different_keys_in_the_two_headers_are_401(merchant):
    _, first = make_api_key(merchant)
    _, second = make_api_key(merchant)

    response = APIClient().get(URL, HTTP_AUTHORIZATION=f"Bearer {first}", HTTP_X_API_KEY=second)

    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "Authorization and X-API-Key carry different keys; send one."
    )


def test_another_authorization_scheme_is_not_authenticated():
    response = APIClient().get(URL, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_key_in_the_query_string_is_never_accepted(merchant):
    _, raw_key = make_api_key(merchant)

    for name in ("api_key", "key", "access_token"):
        response = APIClient().get(URL, {name: raw_key})

        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_last_used_at_is_written_at_most_once_a_minute(merchant, django_assert_num_queries):
    make_customer(merchant)
    api_key, raw_key = make_api_key(merchant)
    client = client_with_key(raw_key)
    client.get(URL)
    api_key.refresh_from_db()
    first_use = api_key.last_used_at

    # Key lookup and page (one customer: nothing to count): no UPDATE within the minute.
    with django_assert_num_queries(2):
        client.get(URL)

    api_key.refresh_from_db()
    assert first_use is not None and api_key.last_used_at == first_use


def test_last_used_at_is_written_again_after_a_minute(merchant):
    api_key, raw_key = make_api_key(merchant)
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=long_ago)

    client_with_key(raw_key).get(URL)

    api_key.refresh_from_db()
    assert api_key.last_used_at > long_ago


# --- scopes ---------------------------------------------------------------------------------


def test_a_read_only_key_can_list_and_get(merchant):
    customer = make_customer(merchant)
    client = client_with_key(make_api_key(merchant, scopes=READ)[1])

    assert client.get(URL).status_code == 200
    assert client.get(f"{URL}/{customer.pk}").status_code == 200


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_a_read_only_key_gets_403_insufficient_scope_on_every_write(merchant, method):
    customer = make_customer(merchant, company="Before")
    client = client_with_key(make_api_key(merchant, scopes=READ)[1])
    url = URL if method == "post" else f"{URL}/{customer.pk}"

    response = getattr(client, method)(url, {"company": "After"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "insufficient_scope",
            "message": "This API key lacks the customers:write scope.",
        }
    }
    assert list(Customer.objects.values_list("company", flat=True)) == ["Before"]


def test_a_write_only_key_gets_403_insufficient_scope_on_reads(merchant):
    client = client_with_key(make_api_key(merchant, scopes=[ApiKey.Scope.WRITE])[1])

    response = client.get(URL)

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "insufficient_scope",
        "message": "This API key lacks the customers:read scope.",
    }


# --- tenancy --------------------------------------------------------------------------------


def test_another_merchants_customer_is_404_on_get_patch_and_delete(merchant, other_api):
    customer = make_customer(merchant, company="Mine")
    url = f"{URL}/{customer.pk}"
    missing = {"error": {"code": "not_found", "message": "No customer matches the given id."}}

    responses = [
        other_api.get(url),
        other_api.patch(url, {"company": "Theirs"}, format="json"),
        other_api.delete(url),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(404, missing)] * 3
    customer.refresh_from_db()
    assert customer.company == "Mine"


def test_another_merchants_customer_is_404_even_with_if_match(merchant, other_api):
    customer = make_customer(merchant)

    response = other_api.delete(f"{URL}/{customer.pk}", HTTP_IF_MATCH='"1"')

    assert response.status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"email": "awa@example.com"},
        {"phone": "+221771234567"},
        {"reference": "CUS-1"},
        {"search": "Awa"},
        {"search": "example.com"},
        {"country": "SN"},
        {"currency": "XOF"},
        {"status": "active"},
        {"type": "individual"},
        {"is_active": "true"},
        {"created_after": "2000-01-01"},
    ],
)
def test_no_filter_or_search_finds_another_merchants_customers(merchant, other_api, params):
    make_customer(
        merchant,
        name="Awa Diop",
        email="awa@example.com",
        phone="+221771234567",
        reference="CUS-1",
        country="SN",
        currency="XOF",
    )

    response = other_api.get(URL, params)

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["total"] == 0


def test_a_key_creates_in_its_own_merchant(other_merchant, other_api):
    response = other_api.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json")

    assert Customer.objects.get().merchant == other_merchant
    assert response.json()["data"]["merchant_id"] == str(other_merchant.pk)


# --- staff sessions -------------------------------------------------------------------------


def session_client(user, csrf_checks: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf_checks)
    client.force_login(user)
    return client


def test_a_viewer_session_lists_its_merchants_customers(merchant, other_merchant):
    mine = make_customer(merchant)
    make_customer(other_merchant)
    client = session_client(make_user(merchant, group="Viewer"))

    response = client.get(URL)

    assert [row["id"] for row in response.json()["data"]] == [str(mine.pk)]


def test_a_session_without_view_permission_is_403_permission_denied(merchant):
    client = session_client(make_user(merchant))

    response = client.get(URL)

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "Your account does not have permission to do this.",
        }
    }


def test_a_viewer_session_cannot_create(merchant):
    client = session_client(make_user(merchant, group="Viewer"))

    response = client.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_editor_session_creates_with_the_user_as_actor(merchant):
    user = make_user(merchant, group="Editor", username="fatou")
    client = session_client(user)

    response = client.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["created_by"] == "user:fatou"
    assert response.json()["data"]["merchant_id"] == str(merchant.pk)


def test_an_editor_session_cannot_delete(merchant):
    customer = make_customer(merchant)
    client = session_client(make_user(merchant, group="Editor"))

    response = client.delete(f"{URL}/{customer.pk}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_session_of_several_merchants_cannot_create_without_choosing(merchant, other_merchant):
    client = session_client(make_user(merchant, other_merchant, group="Editor"))

    response = client.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "Your account works for several merchants (or none); create customers "
        "with the merchant's API key or from the dashboard.",
    }


def test_a_session_sees_another_merchants_customer_as_404(merchant, other_merchant):
    theirs = make_customer(other_merchant)
    client = session_client(make_user(merchant, group="Manager"))

    assert client.get(f"{URL}/{theirs.pk}").status_code == 404
    assert client.delete(f"{URL}/{theirs.pk}").status_code == 404


def test_a_session_write_without_csrf_token_is_403(merchant):
    client = session_client(make_user(merchant, group="Editor"), csrf_checks=True)

    response = client.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "CSRF Failed: CSRF cookie not set.",
        }
    }
    assert not Customer.objects.exists()


def test_the_browsable_api_renders_for_a_staff_session(merchant):
    make_customer(merchant, name="Awa Diop")
    client = session_client(make_user(merchant, group="Editor"))

    response = client.get(URL, HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Awa Diop" in response.content.decode()


# --- throttling -----------------------------------------------------------------------------


class StoppedClock:
    """What the throttle reads as the time: 30 seconds into a minute, all test long, so the
    requests cannot straddle two windows."""

    @staticmethod
    def time() -> float:
        return 1_800_000_030.0


@pytest.fixture
def key_rate(settings, monkeypatch):
    """``key_rate("3/minute")`` sets the rate of each API key, on a clock stopped 30 seconds
    into a minute (``StoppedClock``)."""
    monkeypatch.setattr("customers.api.throttling.time", StoppedClock)

    def set_rate(rate: str):
        rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": rate}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}

    return set_rate


def test_requests_past_the_rate_are_429_throttled_with_retry_after(merchant, key_rate):
    key_rate("3/minute")
    client = client_with_key(make_api_key(merchant)[1])
    other = client_with_key(make_api_key(merchant)[1])

    statuses = [client.get(URL).status_code for _ in range(4)]
    limited = client.get(URL)
    another_key = other.get(URL)

    assert statuses == [200, 200, 200, 429]
    assert limited.json() == {
        "error": {
            "code": "throttled",
            "message": "Too many requests; retry after the number of seconds in Retry-After.",
        }
    }
    assert limited["Retry-After"] == "30"
    assert another_key.status_code == 200


def test_a_key_authenticated_another_way_is_still_throttled(merchant, key_rate):
    key_rate("2/minute")
    api_key, _ = make_api_key(merchant)
    client = APIClient()
    client.force_authenticate(user=ApiKeyUser(api_key), token=api_key)

    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_a_missing_customer_is_the_same_404_as_another_merchants(api, merchant, other_api):
    customer = make_customer(merchant)

    theirs = other_api.get(f"{URL}/{customer.pk}")
    missing = other_api.get(f"{URL}/{uuid.uuid4()}")

    assert theirs.json() == missing.json()


#: The tests that count in the real Redis empty its database first: they run one after the
#: other, on one worker, or one would empty it under another's count.
ONE_REDIS_AT_A_TIME = pytest.mark.xdist_group("redis")


@pytest.fixture
def redis_throttle(settings):
    """The throttle counting in the real Redis of REDIS_URL (CI has one), in a database of its
    own; without a Redis to talk to, the test is skipped locally and fails in CI. Tests using it
    are marked ``ONE_REDIS_AT_A_TIME``."""
    import redis

    from customers.api import throttling

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {url}: {error}", pytrace=False)
        pytest.skip(f"Redis does not answer at {url}")
    settings.REDIS_URL = url
    throttling._redis.cache_clear()
    redis.Redis.from_url(url).flushdb()
    yield redis.Redis.from_url(url)
    throttling._redis.cache_clear()


@ONE_REDIS_AT_A_TIME
def test_with_redis_a_window_is_counted_in_one_round_trip_and_expires(
    merchant, key_rate, redis_throttle
):
    key_rate("2/minute")
    api_key, raw_key = make_api_key(merchant)
    client = client_with_key(raw_key)

    statuses = [client.get(URL).status_code for _ in range(2)]
    asked = redis_commands(redis_throttle)
    statuses.append(client.get(URL).status_code)
    asked = redis_commands(redis_throttle) - asked

    assert statuses == [200, 200, 429]
    # One round trip: a script that reads the address's failures and counts the key's hit.
    assert asked == Counter({"evalsha": 1, "get": 1, "incr": 1})
    (key,) = redis_throttle.keys("*throttle:api_key*")
    digest = hashlib.sha256(raw_key.encode()).hexdigest()[:32]
    assert key.decode().endswith(f"throttle:api_key:key:{digest}:{1_800_000_030 // 60}")
    assert str(api_key.pk) not in key.decode() and raw_key not in key.decode()
    assert int(redis_throttle.get(key)) == 3
    assert 0 < redis_throttle.ttl(key) <= 61


def redis_commands(client) -> Counter:
    """The commands Redis has run so far, by name, those of scripts included (the INFO that
    asks left out)."""
    stats = client.info("commandstats")
    return Counter(
        {
            name.removeprefix("cmdstat_"): stat["calls"]
            for name, stat in stats.items()
            if name != "cmdstat_info"
        }
    )


@ONE_REDIS_AT_A_TIME
def test_with_redis_a_wrong_key_never_spends_the_rate_of_the_key_it_imitates(
    merchant, key_rate, redis_throttle
):
    key_rate("2/minute")
    api_key, raw_key = make_api_key(merchant)
    imitation = f"ck_{api_key.prefix}_not-the-secret"

    wrong = [client_with_key(imitation).get(URL).status_code for _ in range(3)]
    right = [client_with_key(raw_key).get(URL).status_code for _ in range(3)]

    assert wrong == [401, 401, 401]
    assert right == [200, 200, 429]


# --- failed authentications per client address ------------------------------------------------


class Clock:
    """What the throttles read as the time, moved by the test."""

    def __init__(self, now: float = 1_800_000_030.0):
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("customers.api.throttling.time", clock)
    return clock


@pytest.fixture
def three_failures_a_minute(settings):
    settings.API_AUTH_FAILURE_RATE = "3/minute"


def guess(address: str = "203.0.113.7", key: str = "ck_ABCDEFGH_guess", **headers):
    return APIClient(REMOTE_ADDR=address, **headers).get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")


THROTTLED_AUTHENTICATION = {
    "error": {
        "code": "throttled",
        "message": "Too many failed authentications from your address; "
        "retry after the number of seconds in Retry-After.",
    }
}


def test_failed_keys_past_the_rate_are_429_then_even_a_right_key_is_not_looked_up(
    merchant, clock, three_failures_a_minute, django_assert_num_queries
):
    _, raw_key = make_api_key(merchant)

    failures = [guess(key=f"ck_GUESS00{n}_secret").status_code for n in range(3)]
    with django_assert_num_queries(0):
        refused = guess(key=raw_key)

    assert failures == [401, 401, 401]
    assert refused.status_code == 429
    assert refused.json() == THROTTLED_AUTHENTICATION
    assert refused["Retry-After"] == "30"
    assert "WWW-Authenticate" not in refused


def test_a_right_key_from_another_address_is_still_served(merchant, clock, three_failures_a_minute):
    _, raw_key = make_api_key(merchant)
    for _ in range(4):
        guess()

    assert guess(address="198.51.100.20", key=raw_key).status_code == 200


def test_an_address_may_try_again_in_the_next_window(merchant, clock, three_failures_a_minute):
    _, raw_key = make_api_key(merchant)
    for _ in range(4):
        guess()

    clock.now += 30
    assert guess(key=raw_key).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Bearer "},
        {"HTTP_X_API_KEY": " "},
        {"HTTP_AUTHORIZATION": "Bearer ck_AAAAAAAA_one", "HTTP_X_API_KEY": "ck_BBBBBBBB_two"},
    ],
    ids=["empty-bearer", "empty-x-api-key", "two-keys"],
)
def test_a_malformed_key_counts_as_a_failure_too(clock, three_failures_a_minute, headers):
    client = APIClient(REMOTE_ADDR="203.0.113.7", **headers)

    statuses = [client.get(URL).status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]


def test_a_revoked_key_counts_as_a_failure(merchant, clock, three_failures_a_minute):
    api_key, raw_key = make_api_key(merchant)
    api_key_revoke(api_key=api_key)

    assert [guess(key=raw_key).status_code for _ in range(4)] == [401, 401, 401, 429]


def test_requests_without_credentials_and_with_a_right_key_are_not_failures(
    merchant, clock, three_failures_a_minute
):
    _, raw_key = make_api_key(merchant)
    anonymous = APIClient(REMOTE_ADDR="203.0.113.7")

    statuses = [anonymous.get(URL).status_code for _ in range(4)]
    statuses += [guess(key=raw_key).status_code for _ in range(4)]

    assert statuses == [401] * 4 + [200] * 4


def test_a_forwarded_for_header_does_not_change_the_address_by_default(
    merchant, clock, three_failures_a_minute
):
    _, raw_key = make_api_key(merchant)
    for n in range(3):
        guess(HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert guess(key=raw_key, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_apart(
    merchant, settings, clock, three_failures_a_minute
):
    settings.TRUSTED_PROXY_COUNT = 1
    _, raw_key = make_api_key(merchant)
    for n in range(3):
        guess(address="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.7")

    attacker = guess("10.0.0.2", raw_key, HTTP_X_FORWARDED_FOR="203.0.113.7")
    other_client = guess("10.0.0.2", raw_key, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert (attacker.status_code, other_client.status_code) == (429, 200)


def test_the_default_is_twenty_failures_a_minute(settings):
    assert settings.API_AUTH_FAILURE_RATE == "20/minute"


@ONE_REDIS_AT_A_TIME
def test_with_redis_failures_are_counted_per_address_in_one_round_trip(
    clock, three_failures_a_minute, redis_throttle
):
    statuses = [guess().status_code for _ in range(4)]

    assert statuses == [401, 401, 401, 429]
    (key,) = redis_throttle.keys("*throttle:auth_failures*")
    assert key.decode().endswith(f"throttle:auth_failures:203.0.113.7:{1_800_000_030 // 60}")
    assert int(redis_throttle.get(key)) == 3
    assert 0 < redis_throttle.ttl(key) <= 61
