"""When Redis (the shared cache and throttle counter) does not answer, every door keeps serving
and says so in the log; the health check reports it. When PostgreSQL stalls, a request fails
fast; when it ends a kept connection, the next request gets a new one."""

import logging
import os

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from customers.api import throttling
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

#: Nothing listens on port 1.
DEAD_REDIS = "redis://127.0.0.1:1/0"


def redis_at(url: str):
    return override_settings(
        REDIS_URL=url,
        CACHES={
            "default": {
                "BACKEND": "customers.cache.ForgivingRedisCache",
                "LOCATION": url,
                "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
            }
        },
    )


@pytest.fixture
def dead_redis():
    throttling._redis.cache_clear()
    throttling._outage_logged_at = 0.0
    with redis_at(DEAD_REDIS):
        yield
    throttling._redis.cache_clear()


@pytest.fixture
def _fresh_cache():
    """No cache to empty around these tests (the autouse one would reach the dead Redis)."""


def test_the_api_keeps_serving_unthrottled_while_redis_is_down(merchant, dead_redis, caplog):
    customer = make_customer(merchant, name="Awa Ndiaye")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")

    with caplog.at_level(logging.ERROR, logger="customers.api.throttling"):
        listed = api.get("/api/v1/customers")
        fetched = api.get(f"/api/v1/customers/{customer.pk}")
        wrong_key = APIClient().get("/api/v1/customers", HTTP_AUTHORIZATION="Bearer ck_wrong")

    assert (listed.status_code, fetched.status_code, wrong_key.status_code) == (200, 200, 401)
    outage = [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]
    assert len(outage) == 1  # loudly, but once every few seconds, not once a request
    assert outage[0].startswith("Redis (REDIS_URL) does not answer: API requests are not throttled")


def test_the_admin_keeps_serving_while_redis_is_down(admin_client, merchant, dead_redis):
    make_customer(merchant, name="Awa Ndiaye", country="SN")

    response = admin_client.get("/admin/customers/customer/")

    assert response.status_code == 200


def test_the_health_check_reports_redis_down_as_degraded(client, dead_redis):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unreachable"}


def test_the_health_check_reports_a_live_redis(client):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    throttling._redis.cache_clear()
    try:
        with redis_at(url):
            response = client.get("/healthz")
    finally:
        throttling._redis.cache_clear()

    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_statement_held_past_the_limit_is_503_not_a_hang(merchant):
    """A database that stops answering (here: the table locked by another session) holds the
    request no longer than the statement limit, then the client is told to retry."""
    from django.db import connection, connections

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    api.get("/api/v1/customers")  # the key is looked up once, before the table is locked
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE customers_customer IN ACCESS EXCLUSIVE MODE")
            with connection.cursor() as ours:
                ours.execute("SET statement_timeout = '300ms'")
            response = api.get("/api/v1/customers")
    finally:
        other.close()
        with connection.cursor() as ours:
            ours.execute("RESET statement_timeout")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "service_unavailable"


def server_ends(connection) -> None:
    """What a database restart does to a kept connection: the server ends its backend (here by
    ``pg_terminate_backend``, from another session) and says so on the socket."""
    import select

    import psycopg

    backend = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    assert poller.poll(5_000), "the server said nothing on the ended connection"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it(merchant):
    from django.db import connection

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    assert api.get("/api/v1/customers").status_code == 200
    ended = connection.connection.info.backend_pid
    server_ends(connection)

    connection.close_if_unusable_or_obsolete()  # what the end of the last request does
    response = api.get("/api/v1/customers")

    assert response.status_code == 200
    assert connection.connection.info.backend_pid != ended


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_is_checked_without_a_round_trip_to_the_server():
    import tempfile

    from django.db import DatabaseError, connection

    connection.ensure_connection()
    with tempfile.TemporaryFile() as trace:
        connection.connection.pgconn.trace(trace.fileno())
        try:
            usable = connection.is_usable()
        finally:
            connection.connection.pgconn.untrace()
        trace.seek(0)
        sent = trace.read()

    assert usable
    assert sent == b""  # nothing said to the server: no SELECT 1
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        with pytest.raises(DatabaseError):
            cursor.execute("SELECT 1 / 0")
        assert not connection.is_usable()  # a failed transaction is open: as with SELECT 1
        cursor.execute("ROLLBACK")
    assert connection.is_usable()
    server_ends(connection)
    assert not connection.is_usable()
    connection.close()  # as the health check does with it


def test_the_cache_turns_a_redis_outage_into_misses_and_dropped_writes(dead_redis, caplog):
    from django.core.cache import cache

    with caplog.at_level(logging.ERROR, logger="customers.cache"):
        results = (
            cache.set("k", 1),
            cache.add("k", 1),
            cache.get("k", "missing"),
            cache.delete("k"),
        )

    assert results == (None, False, "missing", False)
    assert len(caplog.records) == 4
