"""The customer endpoints: create, get, PATCH, delete, the envelope and the rules they reach."""

import json
import uuid

import pytest
from rest_framework.test import APIClient

from customers.api.serializers import CustomerSerializer
from customers.models import Customer, CustomerEvent
from customers.services import EDITABLE_FIELDS
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


@pytest.fixture
def api_key(merchant):
    return make_api_key(merchant)


@pytest.fixture
def api(api_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client


def detail(customer) -> str:
    return f"{URL}/{customer.pk}"


def stored(customer: Customer) -> dict:
    """The JSON of ``customer`` as the API must render it."""
    customer.refresh_from_db()
    return {
        "id": str(customer.pk),
        "merchant_id": str(customer.merchant_id),
        "reference": customer.reference or None,
        "type": customer.type,
        "name": customer.name,
        "first_name": customer.first_name or None,
        "last_name": customer.last_name or None,
        "company": customer.company or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "whatsapp": customer.whatsapp or None,
        "country": customer.country or None,
        "address": customer.address,
        "currency": customer.currency or None,
        "website": customer.website or None,
        "description": customer.description or None,
        "status": customer.status,
        "is_active": customer.is_active,
        "metadata": customer.metadata,
        "source": customer.source,
        "created_by": customer.created_by,
        "created_at": customer.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "updated_at": customer.updated_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }


# --- create ---------------------------------------------------------------------------------


def test_create_returns_201_the_normalised_customer_and_its_location(api, api_key, merchant):
    response = api.post(
        URL,
        {
            "name": "  Awa Diop ",
            "email": " Awa@Example.COM ",
            "phone": "+221 77 123 45 67",
            "whatsapp": "77 765 43 21",
            "country": "Senegal",
            "currency": "xof",
            "address": {"line1": " 12 Rue Carnot ", "city": "Dakar"},
            "metadata": {"crm_id": "A-17", "vip": True, "score": 4.5},
            "reference": "CUS-1",
            "type": "business",
            "company": "Diop SARL",
            "website": "https://diop.example",
            "status": "pending_kyc",
        },
        format="json",
    )

    assert response.status_code == 201
    customer = Customer.objects.get()
    body = response.json()
    assert body == {"data": stored(customer)}
    assert body["data"] | {"id": None, "created_at": None, "updated_at": None} == {
        "id": None,
        "merchant_id": str(merchant.pk),
        "reference": "CUS-1",
        "type": "business",
        "name": "Awa Diop",
        "first_name": None,
        "last_name": None,
        "company": "Diop SARL",
        "email": "Awa@example.com",
        "phone": "+221771234567",
        "whatsapp": "+221777654321",
        "country": "SN",
        "address": {"line1": "12 Rue Carnot", "city": "Dakar"},
        "currency": "XOF",
        "website": "https://diop.example",
        "description": None,
        "status": "pending_kyc",
        "is_active": False,
        "metadata": {"crm_id": "A-17", "vip": True, "score": 4.5},
        "source": "api",
        "created_by": f"api_key:{api_key[0].prefix}",
        "created_at": None,
        "updated_at": None,
    }
    assert response["Location"] == f"http://testserver{URL}/{customer.pk}"
    assert response["ETag"] == '"1"'


def test_create_timestamps_are_rfc3339_utc_with_milliseconds(api):
    body = api.post(URL, {"name": "Awa", "email": "awa@example.com"}, format="json").json()

    assert body["data"]["created_at"][-1] == "Z"
    assert len(body["data"]["created_at"]) == len("2026-06-05T12:00:00.123Z")


def test_create_with_first_name_only_derives_the_name(api):
    response = api.post(
        URL,
        {"first_name": "Chidi", "last_name": "Okafor", "phone": "+2348031234567"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["data"]["name"] == "Chidi Okafor"


def test_create_with_trailing_slash_is_the_same_endpoint(api):
    response = api.post(URL + "/", {"name": "Awa", "email": "awa@example.com"}, format="json")

    assert response.status_code == 201


def test_create_records_the_history_with_the_key_as_actor(api, api_key):
    customer_id = api.post(URL, {"name": "Awa", "email": "a@example.com"}, format="json").json()[
        "data"
    ]["id"]

    event = CustomerEvent.objects.get(customer_id=customer_id)
    assert (event.action, event.actor, event.source) == (
        "created",
        f"api_key:{api_key[0].prefix}",
        "api",
    )


def test_create_without_email_or_phone_is_400_naming_email(api):
    response = api.post(URL, {"name": "Awa"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "email: Give an email address or a phone number (or both).",
            "fields": {"email": ["Give an email address or a phone number (or both)."]},
        }
    }


def test_create_without_name_is_400_naming_name(api):
    response = api.post(URL, {"email": "awa@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "name: This field cannot be blank.",
            "fields": {"name": ["This field cannot be blank."]},
        }
    }


def test_create_reports_every_invalid_field_at_once(api):
    response = api.post(
        URL,
        {
            "name": "Awa",
            "email": "not-an-email",
            "phone": "771234567",
            "country": "Atlantis",
            "currency": "ABC",
            "website": "ftp://example.com",
            "type": "person",
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Invalid fields: email, country, currency, phone, type, website.",
            "fields": {
                "email": ["Enter a valid email address."],
                "country": [
                    "Country 'Atlantis' is not an ISO 3166 country; use a code such as SN or "
                    "SEN, or a name in English or French such as Senegal or Sénégal."
                ],
                "currency": [
                    "Currency 'ABC' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."
                ],
                "phone": [
                    "Add the country code to the phone number (e.g. +221771234567), or set the "
                    "customer's country."
                ],
                "type": ["Value 'person' is not a valid choice; use individual or business."],
                "website": ["Enter a website address that starts with http:// or https://."],
            },
        }
    }
    assert not Customer.objects.exists()


def test_create_names_nested_address_and_metadata_fields(api):
    response = api.post(
        URL,
        {
            "name": "Awa",
            "email": "awa@example.com",
            "address": {"city": 12, "planet": "Mars"},
            "metadata": {"ok": "yes", "nested": {"a": 1}, "bad key": "x"},
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Invalid fields: address.city, address.planet, metadata.nested, "
            "metadata.bad key.",
            "fields": {
                "address.city": ["Address field 'city' must be a string."],
                "address.planet": [
                    "Unknown address field 'planet'; use line1, line2, city, state or postal_code."
                ],
                "metadata.nested": [
                    "Metadata value of 'nested' must be a string, a number or a boolean; "
                    "nested objects, lists and null are not allowed."
                ],
                "metadata.bad key": [
                    "Metadata key 'bad key' may only contain letters, digits, '_', '.' and '-'."
                ],
            },
        }
    }


def test_create_rejects_unknown_fields_by_name(api):
    response = api.post(URL, {"name": "Awa", "emial": "awa@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "emial: Unknown field; did you mean email?",
            "fields": {"emial": ["Unknown field; did you mean email?"]},
        }
    }
    assert not Customer.objects.exists()


def test_create_rejects_read_only_fields_by_name(api, other_merchant):
    response = api.post(
        URL,
        {
            "name": "Awa",
            "email": "awa@example.com",
            "merchant_id": str(other_merchant.pk),
            "id": str(uuid.uuid4()),
            "is_active": True,
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Invalid fields: merchant_id, id, is_active.",
            "fields": {
                "merchant_id": ["This field is read-only."],
                "id": ["This field is read-only."],
                "is_active": ["This field is read-only."],
            },
        }
    }
    assert not Customer.objects.exists()


def test_create_rejects_a_number_where_text_is_expected(api):
    response = api.post(URL, {"name": 12, "phone": 221771234567}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["Must be a string."],
        "phone": ["Must be a string."],
    }


def test_create_with_a_body_that_is_not_an_object_is_400(api):
    response = api.post(URL, [{"name": "Awa"}], format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "Invalid data. Expected a dictionary, but got list.",
        }
    }


def test_create_with_null_optional_fields_stores_them_empty(api):
    response = api.post(
        URL,
        {"name": "Awa", "email": "awa@example.com", "phone": None, "metadata": None},
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["data"]["phone"], response.json()["data"]["metadata"]) == (None, {})
    assert Customer.objects.values_list("phone", "metadata").get() == ("", {})


def test_duplicate_email_in_same_merchant_is_409_naming_email(api, merchant):
    make_customer(merchant, email="awa@example.com")

    response = api.post(URL, {"name": "Awa", "email": "AWA@Example.com"}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "duplicate",
            "message": "A customer with this email already exists.",
            "fields": {"email": ["A customer with this email already exists."]},
        }
    }


def test_duplicate_email_with_accented_letters_in_another_case_is_409(api, merchant):
    make_customer(merchant, email="awa@éxample.com")

    response = api.post(URL, {"name": "Awa", "email": "AWA@ÉXAMPLE.COM"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {
        "email": ["A customer with this email already exists."]
    }


def test_duplicate_reference_in_same_merchant_is_409_naming_reference(api, merchant):
    make_customer(merchant, reference="CUS-1")

    response = api.post(
        URL, {"name": "Awa", "email": "awa@example.com", "reference": "CUS-1"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "duplicate",
        "message": "A customer with this reference already exists.",
        "fields": {"reference": ["A customer with this reference already exists."]},
    }


def test_same_email_in_another_merchant_is_no_duplicate(api, other_merchant):
    make_customer(other_merchant, email="awa@example.com")

    response = api.post(URL, {"name": "Awa", "email": "awa@example.com"}, format="json")

    assert response.status_code == 201


def test_duplicate_with_another_invalid_field_is_400_listing_both(api, merchant):
    make_customer(merchant, email="awa@example.com")

    response = api.post(
        URL, {"name": "Awa", "email": "awa@example.com", "currency": "ZZZ"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "currency": ["Currency 'ZZZ' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."],
        "email": ["A customer with this email already exists."],
    }


# --- get ------------------------------------------------------------------------------------


def test_get_returns_the_customer_in_the_envelope_with_its_etag(api, merchant):
    customer = make_customer(merchant, email="awa@example.com", metadata={"a": 1})

    response = api.get(detail(customer))

    assert response.status_code == 200
    assert response.json() == {"data": stored(customer)}
    assert response["ETag"] == '"1"'


def test_get_with_trailing_slash_does_not_redirect(api, merchant):
    customer = make_customer(merchant)

    response = api.get(detail(customer) + "/")

    assert response.status_code == 200


def test_get_with_current_if_none_match_is_304_without_body(api, merchant):
    customer = make_customer(merchant)

    response = api.get(detail(customer), HTTP_IF_NONE_MATCH='"1"')

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == '"1"'


def test_get_with_stale_if_none_match_is_200(api, merchant):
    customer = make_customer(merchant)

    response = api.get(detail(customer), HTTP_IF_NONE_MATCH='"0", W/"7"')

    assert response.status_code == 200


def test_get_of_a_missing_customer_is_404(api):
    response = api.get(f"{URL}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No customer matches the given id."}
    }


def test_get_with_an_id_that_is_not_a_uuid_is_404(api):
    response = api.get(f"{URL}/not-a-uuid")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_head_of_a_customer_has_headers_and_no_body(api, merchant):
    customer = make_customer(merchant)

    response = api.head(detail(customer))

    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == '"1"'


# --- PATCH ----------------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, merchant):
    customer = make_customer(merchant, email="awa@example.com", phone="+221771234567")

    response = api.patch(detail(customer), {"country": "sen", "company": "Diop"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"data": stored(customer)}
    customer.refresh_from_db()
    assert (customer.country, customer.company, customer.email, customer.phone) == (
        "SN",
        "Diop",
        "awa@example.com",
        "+221771234567",
    )
    assert response["ETag"] == '"2"'


def test_patch_with_null_clears_an_optional_field(api, merchant):
    customer = make_customer(merchant, email="awa@example.com", phone="+221771234567")

    response = api.patch(detail(customer), {"phone": None, "address": None}, format="json")

    assert response.status_code == 200
    assert (response.json()["data"]["phone"], response.json()["data"]["address"]) == (None, {})
    customer.refresh_from_db()
    assert customer.phone == ""


def test_patch_cannot_clear_the_name(api, merchant):
    customer = make_customer(merchant, name="Awa")

    response = api.patch(detail(customer), {"name": None}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field may not be null."]}


def test_patch_with_blank_name_is_400(api, merchant):
    customer = make_customer(merchant, name="Awa")

    response = api.patch(detail(customer), {"name": "   "}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"name": ["This field cannot be blank."]}


def test_patch_that_would_leave_neither_email_nor_phone_is_400(api, merchant):
    customer = make_customer(merchant, email="awa@example.com")

    response = api.patch(detail(customer), {"email": None}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "email": ["Give an email address or a phone number (or both)."]
    }
    customer.refresh_from_db()
    assert customer.email == "awa@example.com"


def test_patch_replaces_the_whole_metadata(api, merchant):
    customer = make_customer(merchant, metadata={"a": "1", "b": "2"})

    response = api.patch(detail(customer), {"metadata": {"c": 3}}, format="json")

    assert response.json()["data"]["metadata"] == {"c": 3}


def test_patch_rejects_merchant_id_and_never_moves_the_customer(api, merchant, other_merchant):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"merchant_id": str(other_merchant.pk)}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"merchant_id": ["This field is read-only."]}
    customer.refresh_from_db()
    assert customer.merchant_id == merchant.pk


def test_patch_to_a_duplicate_email_is_409(api, merchant):
    make_customer(merchant, email="taken@example.com")
    customer = make_customer(merchant, email="awa@example.com")

    response = api.patch(detail(customer), {"email": "Taken@example.com"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["fields"] == {
        "email": ["A customer with this email already exists."]
    }


def test_patch_with_matching_if_match_succeeds(api, merchant):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "X"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'


def test_patch_with_stale_if_match_is_412_and_changes_nothing(api, merchant):
    customer = make_customer(merchant, company="Before")
    api.patch(detail(customer), {"company": "Now"}, format="json")

    response = api.patch(detail(customer), {"company": "Lost"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response.json() == {
        "error": {
            "code": "precondition_failed",
            "message": "The customer has changed since the ETag given in If-Match; fetch it "
            "again and retry with its new ETag.",
        }
    }
    customer.refresh_from_db()
    assert (customer.company, customer.version) == ("Now", 2)


def test_patch_with_weak_if_match_is_412(api, merchant):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "X"}, format="json", HTTP_IF_MATCH='W/"1"')

    assert response.status_code == 412


def test_patch_with_if_match_star_succeeds(api, merchant):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "X"}, format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("if_match", "status"),
    [('"a,b"', 412), ('"1,2"', 412), ('"9", "1"', 200), ('"9","1"', 200), ('W/"1", "1"', 200)],
)
def test_if_match_reads_a_list_of_entity_tags_whose_tags_may_hold_commas(
    api, merchant, if_match, status
):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "X"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == status


def test_patch_with_malformed_if_match_is_400_naming_the_header(api, merchant):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "X"}, format="json", HTTP_IF_MATCH="1")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "If-Match": ['Send entity tags as given in ETag, e.g. "3" (with the quotes).']
    }


def test_patch_with_nothing_changed_keeps_the_version(api, merchant):
    customer = make_customer(merchant, company="Same")

    response = api.patch(detail(customer), {"company": "Same"}, format="json")

    assert response.status_code == 200
    assert response["ETag"] == '"1"'


def test_put_is_405_with_allow(api, merchant):
    customer = make_customer(merchant)

    response = api.put(detail(customer), {"name": "X"}, format="json")

    assert response.status_code == 405
    assert response["Allow"] == "GET, PATCH, DELETE, HEAD"
    assert response.json() == {
        "error": {
            "code": "method_not_allowed",
            "message": 'Method "PUT" not allowed; the allowed methods are in the Allow header.',
        }
    }


def test_options_is_405_with_allow(api):
    response = api.options(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_delete_on_the_list_is_405_with_allow(api):
    response = api.delete(URL)

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD"


# --- delete ---------------------------------------------------------------------------------


def test_delete_returns_the_id_and_deleted_and_a_second_delete_is_404(api, merchant):
    customer = make_customer(merchant)

    first = api.delete(detail(customer))
    second = api.delete(detail(customer))

    assert first.status_code == 200
    assert first.json() == {"data": {"id": str(customer.pk), "deleted": True}}
    assert second.status_code == 404
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_delete_with_stale_if_match_is_412_and_deletes_nothing(api, merchant):
    customer = make_customer(merchant)
    api.patch(detail(customer), {"company": "Now"}, format="json")

    response = api.delete(detail(customer), HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_delete_with_current_if_match_deletes(api, merchant):
    customer = make_customer(merchant)

    response = api.delete(detail(customer), HTTP_IF_MATCH='"1"')

    assert response.status_code == 200


# --- bodies ---------------------------------------------------------------------------------


def test_invalid_json_is_400_invalid_json(api):
    response = api.generic("POST", URL, '{"name": "Awa",', content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_json",
            "message": "The body is not valid JSON: Expecting property name enclosed in double "
            "quotes: line 1 column 16 (char 15).",
        }
    }


@pytest.mark.parametrize(
    "body",
    [
        '{"name": NaN}',
        '{"name": "a", "name": "b"}',
        '{"metadata": {"n": 1e400}}',
        b'{"name": "\xff"}',
    ],
    ids=["nan", "duplicate-key", "infinite-number", "not-utf8"],
)
def test_json_that_cannot_be_stored_faithfully_is_invalid_json(api, body):
    response = api.generic("POST", URL, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_other_content_types_are_415(api):
    form = "application/x-www-form-urlencoded"

    response = api.generic("POST", URL, "name=Awa", content_type=form)

    assert response.status_code == 415
    assert response.json() == {
        "error": {
            "code": "unsupported_media_type",
            "message": 'Unsupported media type "application/x-www-form-urlencoded" in request; '
            "send JSON with Content-Type: application/json.",
        }
    }


def test_oversized_body_is_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "Awa", "description": "x" * 2000})

    response = api.generic("POST", URL, body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "payload_too_large",
            "message": "The request body is larger than 1000 bytes.",
        }
    }


def test_nul_characters_in_the_body_are_400_naming_the_field(api):
    body = {
        "name": "A\x00wa",
        "email": "awa@example.com",
        "address": {"city": "Da\x00kar"},
        "metadata": {"note": "x\x00", "k\x00": "v"},
    }

    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["Null characters are not allowed."],
        "address.city": ["Null characters are not allowed."],
        "metadata.note": ["Null characters are not allowed."],
        "metadata.k\x00": ["Null characters are not allowed."],
    }
    assert not Customer.objects.exists()


def test_nul_character_in_the_query_is_400_naming_the_parameter(api):
    response = api.get(URL, {"search": "a\x00b"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"search": ["Null characters are not allowed."]}


def test_nul_character_in_the_path_is_400(api):
    response = api.get(f"{URL}/abc%00def")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"id": ["Null characters are not allowed."]}


def test_nul_character_in_an_unknown_api_path_is_400(api):
    response = api.get("/api/v1/cust%00omers")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"path": ["Null characters are not allowed."]}


# --- envelope and headers -------------------------------------------------------------------


def test_unknown_api_path_is_404_in_the_envelope(api):
    response = api.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": "not_found",
            "message": "There is no such API endpoint; see /api/v1/schema.",
        }
    }


def test_every_response_carries_a_generated_request_id(api):
    ok = api.get(URL)
    error = api.get(f"{URL}/{uuid.uuid4()}")

    assert uuid.UUID(ok["X-Request-ID"]) != uuid.UUID(error["X-Request-ID"])


def test_a_safe_client_request_id_is_echoed(api):
    response = api.get(URL, HTTP_X_REQUEST_ID="req-42.a:b")

    assert response["X-Request-ID"] == "req-42.a:b"


@pytest.mark.parametrize("sent", ["x" * 129, "a b", "<script>", ""])
def test_an_unsafe_client_request_id_is_replaced(api, sent):
    response = api.get(URL, HTTP_X_REQUEST_ID=sent)

    assert uuid.UUID(response["X-Request-ID"])


def test_unauthenticated_errors_carry_a_request_id_too():
    response = APIClient().get(URL, HTTP_X_REQUEST_ID="abc")

    assert response["X-Request-ID"] == "abc"


def test_unknown_format_is_400_naming_format(api):
    response = api.get(URL, {"format": "xml"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"format": ["Choose one of: json, api."]}


def test_unacceptable_accept_header_still_gets_json(api):
    response = api.get(URL, HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


# --- concurrent writes ----------------------------------------------------------------------


@pytest.fixture
def concurrent_write_once(monkeypatch):
    """The first PATCH loses a race: another write lands between its read and its update."""
    from django.db.models import F

    from customers.api import serializers

    real_update = serializers.customer_update
    raced = []

    def update_after_a_concurrent_write(*, customer, **kwargs):
        if not raced:
            raced.append(customer.pk)
            Customer.objects.filter(pk=customer.pk).update(
                description="Concurrent", version=F("version") + 1
            )
        return real_update(customer=customer, **kwargs)

    monkeypatch.setattr(serializers, "customer_update", update_after_a_concurrent_write)
    return raced


def test_patch_without_if_match_is_validated_again_after_losing_a_race(
    api, merchant, concurrent_write_once
):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "Mine"}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.company, customer.description, customer.version) == (
        "Mine",
        "Concurrent",
        3,
    )
    assert response["ETag"] == '"3"'


def test_patch_with_if_match_that_loses_a_race_is_412(api, merchant, concurrent_write_once):
    customer = make_customer(merchant)

    response = api.patch(detail(customer), {"company": "Mine"}, format="json", HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    customer.refresh_from_db()
    assert (customer.company, customer.version) == ("", 2)


def test_the_api_writes_exactly_the_fields_every_door_writes():
    # A field writable through the API and not through the services (or the reverse) would be
    # a rule one door enforces and another does not.
    fields = CustomerSerializer().fields
    writable = [name for name, field in fields.items() if not field.read_only]
    assert writable == list(EDITABLE_FIELDS)


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "Plain", "phone": "+221771234567"},
        {
            "name": "Kofi Mensah", "first_name": "Kofi", "last_name": "Mensah",
            "company": "Mensah Ltd", "reference": "CUS-9", "email": "kofi@example.com",
            "phone": "+233241234567", "whatsapp": "+233241234567", "country": "GH",
            "currency": "GHS", "website": "https://mensah.example.com", "description": "VIP",
            "type": "business", "status": "blocked", "address": {"city": "Accra"},
            "metadata": {"tier": "gold", "score": 9.5, "kyc": True},
        },
    ],
)  # fmt: skip
def test_the_written_out_rendering_equals_what_the_declared_fields_render(merchant, fields):
    customer = Customer.objects.get(pk=make_customer(merchant, **fields).pk)
    serializer = CustomerSerializer(customer)
    by_fields = super(CustomerSerializer, serializer).to_representation(customer)
    assert json.dumps(serializer.to_representation(customer)) == json.dumps(by_fields)


def test_a_name_made_of_first_and_last_name_follows_them(api, merchant):
    created = api.post(
        URL,
        {"first_name": "Kwame", "last_name": "Mensah", "email": "kwame@example.com"},
        format="json",
    ).json()["data"]
    assert created["name"] == "Kwame Mensah"

    renamed = api.patch(f"{URL}/{created['id']}", {"last_name": "Asante"}, format="json")

    assert renamed.json()["data"]["name"] == "Kwame Asante"
    assert Customer.objects.get().name == "Kwame Asante"


def test_a_chosen_name_stays_when_first_or_last_name_change(api, merchant):
    customer = make_customer(merchant, name="KM Trading", first_name="Kwame", last_name="Mensah")

    response = api.patch(detail(customer), {"last_name": "Asante"}, format="json")

    assert response.json()["data"]["name"] == "KM Trading"


def test_a_name_sent_with_the_first_and_last_name_is_the_name_kept(api, merchant):
    customer = make_customer(merchant, name="", first_name="Kwame", last_name="Mensah")

    response = api.patch(
        detail(customer), {"last_name": "Asante", "name": "Kwame A."}, format="json"
    )

    assert response.json()["data"]["name"] == "Kwame A."
