"""Text no column should receive (NUL, lone surrogates), numbers no JSON reader keeps, and
metadata that is not an object: refused with a message naming the field, by every door."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Customer
from tests.factories import make_api_key, make_customer
from tests.test_admin import address_inputs, amadou_form, change_url, metadata_inputs
from tests.test_dashboard import customer_form_data, logged_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
SURROGATE = "Text must be valid Unicode: lone surrogates (\\ud800 to \\udfff) are not characters."
NUL = "Null characters are not allowed."
OUT_OF_RANGE = (
    "Metadata number of 'n' is out of range: whole numbers go from -9007199254740991 to "
    "9007199254740991; store a larger one as text."
)


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


def post_raw(api, body: str):
    return api.generic("POST", URL, body.encode(), content_type="application/json")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"name": "Awa \\ud800", "email": "awa@example.com"}', "name"),
        ('{"name": "Awa", "email": "awa@example.com", "address": {"city": "\\udfff"}}',
         "address.city"),
        ('{"name": "Awa", "email": "awa@example.com", "metadata": {"note": "x\\ud800"}}',
         "metadata.note"),
        ('{"name": "Awa", "email": "awa@example.com", "metadata": {"k\\ud800": "x"}}',
         "metadata.k\ufffd"),
        ('{"name": "Awa", "email": "awa@example.com", "n\\ud800me": "x"}', "n\ufffdme"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_anywhere_in_the_body_is_400_naming_it(api, body, field):
    response = post_raw(api, body)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["fields"][field] == [SURROGATE]
    assert not Customer.objects.exists()


def test_metadata_as_an_array_is_400_naming_metadata(api):
    response = api.post(
        URL, {"name": "Awa", "email": "awa@example.com", "metadata": []}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "metadata": ["Metadata must be an object of key-value pairs."]
    }


@pytest.mark.parametrize("number", [2**53, -(2**53)])
def test_a_metadata_number_no_json_reader_keeps_exactly_is_400(api, number):
    response = api.post(
        URL, {"name": "Awa", "email": "awa@example.com", "metadata": {"n": number}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"metadata.n": [OUT_OF_RANGE]}


def test_a_metadata_number_at_the_limit_is_kept(api):
    body = {"name": "Awa", "email": "awa@example.com", "metadata": {"n": 2**53 - 1, "f": 1e300}}

    response = api.post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["data"]["metadata"] == {"n": 2**53 - 1, "f": 1e300}


def test_a_5000_digit_number_is_400_not_500(api):
    response = post_raw(api, '{"name": "Awa", "metadata": {"n": ' + "9" * 5000 + "}}")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


# --- the dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("text", "a\x00b", NUL),
        ("number", "9" * 5000, OUT_OF_RANGE),
        ("number", "9" * 500, OUT_OF_RANGE),
        ("number", "1e999", OUT_OF_RANGE),
        ("number", str(2**53), OUT_OF_RANGE),
    ],
)
def test_the_dashboard_refuses_unstorable_metadata_naming_it(client, editor, kind, value, message):
    data = customer_form_data(
        **{"metadata-0-key": "n", "metadata-0-type": kind, "metadata-0-value": value}
    )

    response = logged_in(client, editor).post(reverse("customers:create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["metadata"] == [message]
    assert not Customer.objects.exists()


def test_the_dashboard_refuses_nul_in_a_text_field_naming_it(client, editor):
    data = customer_form_data(company="Acme\x00")

    response = logged_in(client, editor).post(reverse("customers:create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors["company"] == [NUL]


# --- the admin --------------------------------------------------------------------------------


@pytest.fixture
def root_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    return client


@pytest.mark.parametrize(
    ("field", "inputs", "error"),
    [
        ("metadata", metadata_inputs(("note", "text", "a\x00b")), NUL),
        ("metadata", metadata_inputs(("n", "number", "9" * 5000)), OUT_OF_RANGE),
        ("metadata", metadata_inputs(("n", "number", "9007199254740992")), OUT_OF_RANGE),
        ("address", address_inputs(city="\x00"), NUL),
    ],
)
def test_the_admin_refuses_unstorable_input_naming_the_field(
    root_client, merchant, field, inputs, error
):
    customer = make_customer(merchant, name="Amadou Ba", email="amadou@example.com")

    response = root_client.post(change_url(customer), amadou_form(**inputs))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [error]
    customer.refresh_from_db()
    assert customer.version == 1
