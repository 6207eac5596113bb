"""What responses tell browsers and caches: customers' data is never stored by a cache, and
pages run only the scripts, styles and images this site serves (Content-Security-Policy)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import make_api_key, make_customer, make_user

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    """The response's Content-Security-Policy, directive by directive."""
    policy = response["Content-Security-Policy"]
    return dict(part.strip().partition(" ")[::2] for part in policy.split(";"))


@pytest.fixture
def customer(merchant):
    return make_customer(merchant, name="Awa Diop", email="awa@example.com")


@pytest.fixture
def manager(merchant):
    client = Client()
    client.force_login(make_user(merchant, group="Manager"))
    return client


@pytest.fixture
def superuser(merchant):
    client = Client()
    client.force_login(make_user(merchant, is_superuser=True))
    return client


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


# --- Cache-Control --------------------------------------------------------------------------


def test_every_api_response_with_customers_or_errors_is_no_store(api, customer):
    responses = [
        api.get("/api/v1/customers"),
        api.get(f"/api/v1/customers/{customer.pk}"),
        api.post("/api/v1/customers", {"name": "Binta Sow", "email": "b@example.com"}, "json"),
        api.patch(f"/api/v1/customers/{customer.pk}", {"name": "Awa N. Diop"}, "json"),
        api.get("/api/v1/customers", {"colour": "red"}),
        APIClient().get("/api/v1/customers"),
        api.get("/api/v1/nowhere"),
        api.delete(f"/api/v1/customers/{customer.pk}"),
    ]

    assert [response.status_code for response in responses] == [
        200, 200, 201, 200, 400, 401, 404, 200,
    ]  # fmt: skip
    assert {response["Cache-Control"] for response in responses} == {"no-store"}


def test_a_not_modified_answer_is_no_store_too(api, customer):
    etag = api.get(f"/api/v1/customers/{customer.pk}")["ETag"]

    response = api.get(f"/api/v1/customers/{customer.pk}", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response["Cache-Control"] == "no-store"


def test_the_public_openapi_document_may_be_cached():
    response = APIClient().get("/api/v1/schema")

    assert response["Cache-Control"] == "public, max-age=300"


@pytest.mark.parametrize(
    "path",
    [
        "/customers/",
        "/customers/?status=active",
        "/customers/{id}/",
        "/customers/new/",
        "/customers/{id}/edit/",
        "/customers/{id}/delete/",
        "/customers/export.csv",
        "/api-keys/",
        "/api-keys/new/",
    ],
)
def test_dashboard_pages_are_no_store(manager, customer, path):
    response = manager.get(path.format(id=customer.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_a_dashboard_form_refused_with_what_was_typed_is_no_store(manager, customer):
    response = manager.post(reverse("customers:create"), {"name": "Awa", "email": "not-an-email"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/customers/customer/",
        "/admin/customers/customer/{id}/change/",
        "/admin/customers/apikey/",
    ],
)
def test_admin_pages_are_no_store(superuser, customer, path):
    response = superuser.get(path.format(id=customer.pk))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_own_caching(client):
    response = client.get("/static/css/dashboard.css")

    assert response.status_code == 200
    assert "no-store" not in response["Cache-Control"]


# --- Content-Security-Policy ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/customers/", "/customers/{id}/", "/customers/{id}/edit/"]
)
def test_dashboard_pages_carry_the_policy(manager, customer, path):
    response = manager.get(path.format(id=customer.pk))

    assert directives(response) == POLICY


@pytest.mark.parametrize("path", ["/admin/", "/admin/customers/customer/{id}/change/"])
def test_admin_pages_carry_the_policy(superuser, customer, path):
    response = superuser.get(path.format(id=customer.pk))

    assert directives(response) == POLICY


def test_the_lockout_and_error_pages_carry_the_policy(manager, settings):
    settings.AXES_FAILURE_LIMIT = 1
    locked = Client().post(reverse("login"), {"username": "vera", "password": "wrong"})
    missing = manager.get("/customers/00000000-0000-0000-0000-000000000000/")

    assert (locked.status_code, missing.status_code) == (429, 404)
    assert directives(locked) == directives(missing) == POLICY


def test_the_browsable_api_allows_inline_styles_but_no_inline_script(superuser, customer):
    response = superuser.get(f"/api/v1/customers/{customer.pk}", HTTP_ACCEPT="text/html")

    assert response["Content-Type"].startswith("text/html")
    assert directives(response) == {**POLICY, "style-src": "'self' 'unsafe-inline'"}
    assert superuser.get("/api/v1/customers")["Content-Type"] == "application/json"
    assert "Content-Security-Policy" in superuser.get("/api/v1/customers")


def test_no_template_has_an_inline_script_style_or_handler():
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:")
    templates = Path(__file__).resolve().parent.parent / "templates"

    offenders = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if inline.search(path.read_text())
    ]

    assert offenders == []


def test_the_api_docs_run_no_inline_script_and_allow_only_data_images_besides(client):
    page = client.get("/api/docs")

    assert page.status_code == 200
    assert directives(page) == {**POLICY, "img-src": "'self' data:"}
    html = page.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style", html)
    (init,) = re.findall(r'<script src="(/api/docs\?[^"]*)"', html)
    script = client.get(init.replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode()
    assert "no-store" in script["Cache-Control"]
