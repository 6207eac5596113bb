"""Request bodies at the edges: too large, chunked, left unread by an early error."""

import io
import json

import pytest
from django.core import signals
from django.db import close_old_connections
from rest_framework.test import APIClient

from config.wsgi import application
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


@pytest.fixture
def key(merchant):
    return make_api_key(merchant)[1]


@pytest.fixture
def api(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def wsgi(method: str, path: str, body: bytes, headers: dict, **environ) -> tuple[int, dict]:
    """A request through the WSGI application gunicorn serves (``config.wsgi``), with the
    environ a server builds; the status and the JSON body."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()},
        **environ,
    }
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])

    # As Django's test client does: the test's transaction outlives the request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, start_response)
        content = b"".join(chunks)
        chunks.close()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return started["status"], json.loads(content)


def test_a_body_over_djangos_own_limit_is_413_not_500(api):
    body = json.dumps({"name": "Awa", "description": "x" * (3 * 1024 * 1024)})

    response = api.generic("POST", URL, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_over_the_limit_is_refused_from_content_length_before_any_check(client, settings):
    settings.API_MAX_BODY_BYTES = 1000

    # Not even authenticated: the length alone decides, before the body is read.
    response = client.generic("POST", URL, "x" * 1001, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": "The request body is larger than 1000 bytes.",
        }
    }


def test_a_chunked_patch_decoded_by_the_server_is_applied(merchant, key):
    customer = make_customer(merchant, name="Awa Ndiaye")

    status, body = wsgi(
        "PATCH",
        f"{URL}/{customer.pk}",
        b'{"name": "Awa Diop"}',
        {"Authorization": f"Bearer {key}", "Transfer-Encoding": "chunked"},
        CONTENT_TYPE="application/json",
        **{"wsgi.input_terminated": True},
    )

    assert (status, body["data"]["name"]) == (200, "Awa Diop")
    customer.refresh_from_db()
    assert customer.name == "Awa Diop"


def test_a_chunked_body_over_the_limit_is_413(merchant, key, settings):
    settings.API_MAX_BODY_BYTES = 1000
    customer = make_customer(merchant, name="Awa Ndiaye")
    body = json.dumps({"description": "x" * 2000}).encode()

    status, answer = wsgi(
        "PATCH",
        f"{URL}/{customer.pk}",
        body,
        {"Authorization": f"Bearer {key}", "Transfer-Encoding": "chunked"},
        CONTENT_TYPE="application/json",
        **{"wsgi.input_terminated": True},
    )

    assert (status, answer["error"]["code"]) == (413, "payload_too_large")


def test_a_chunked_body_the_server_did_not_decode_is_411_never_dropped(merchant, key):
    customer = make_customer(merchant, name="Awa Ndiaye")

    status, answer = wsgi(
        "PATCH",
        f"{URL}/{customer.pk}",
        b"14\r\n" + b'{"name": "Awa Diop"}' + b"\r\n0\r\n\r\n",
        {"Authorization": f"Bearer {key}", "Transfer-Encoding": "chunked"},
        CONTENT_TYPE="application/json",
    )

    assert status == 411
    assert answer == {
        "error": {
            "code": "length_required",
            "message": "This server cannot read a chunked body; "
            "send the body with a Content-Length header.",
        }
    }
    customer.refresh_from_db()
    assert customer.name == "Awa Ndiaye"


@pytest.mark.parametrize(
    ("size", "status", "code"),
    [(200_000, 401, "authentication_failed"), (1_000_000, 413, "payload_too_large")],
)
def test_an_early_error_reads_the_body_it_refused_so_the_connection_stays_usable(
    merchant, size, status, code
):
    body = io.BytesIO(b"x" * size)

    answer = wsgi(
        "POST",
        URL,
        b"",
        {"Authorization": "Bearer ck_wrong_key"},
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": body},
    )

    assert (answer[0], answer[1]["error"]["code"]) == (status, code)
    assert body.tell() == size
