import pytest
from django.core.exceptions import ValidationError

from customers.normalizers import (
    normalize_address,
    normalize_country,
    normalize_currency,
    normalize_email,
    normalize_phone,
    phone_search_digits,
    validate_address,
    validate_metadata,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+221771234567", "+221771234567"),
        ("+221 77 123 45 67", "+221771234567"),
        ("+234 (801) 234-5678", "+2348012345678"),
        ("00254712345678", "+254712345678"),
        ("  +233249998888  ", "+233249998888"),
    ],
)
def test_international_phone_is_stored_in_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("77 123 45 67", "SN", "+221771234567"),
        ("08012345678", "NG", "+2348012345678"),
        ("0712 345 678", "KE", "+254712345678"),
        ("024 999 8888", "GH", "+233249998888"),
    ],
)
def test_national_phone_is_read_with_the_country(raw, country, expected):
    assert normalize_phone(raw, country) == expected


def test_national_phone_without_country_asks_for_the_country_code():
    with pytest.raises(ValidationError) as error:
        normalize_phone("771234567")
    assert error.value.messages == [
        "Add the country code to the phone number (e.g. +221771234567), or set the "
        "customer's country."
    ]
    assert error.value.code == "phone_needs_country"


@pytest.mark.parametrize("raw", ["+221 12", "+999 123456789", "not a phone", "+2217712345678901"])
def test_invalid_phone_is_rejected_with_an_example(raw):
    with pytest.raises(ValidationError) as error:
        normalize_phone(raw)
    assert error.value.messages == ["Enter a valid phone number, e.g. +221771234567."]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("+221 77 123 45 67", "+221771234567"),
        ("+221 77 123", "+22177123"),
        ("77 123", "77123"),
        ("077 123 45 67", "771234567"),
        ("(077) 123-45.67", "771234567"),
        ("00221 77 123", "+22177123"),
        ("+1 (201) 555-0123", "+12015550123"),
        ("2024-001", "2024001"),
        (" 770001 ", "770001"),
    ],
)
def test_a_phone_like_search_term_means_the_digits_of_a_stored_phone(term, expected):
    assert phone_search_digits(term, min_digits=3) == expected


@pytest.mark.parametrize(
    "term", ["amadou", "CUS-1", "77a123", "77+123", "+", "---", "+22", "12", "077", "0077"]
)
def test_a_search_term_that_is_not_a_phone_or_too_short_means_no_phone_digits(term):
    assert phone_search_digits(term, min_digits=3) == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SN", "SN"),
        ("sn", "SN"),
        ("SEN", "SN"),
        ("sen", "SN"),
        ("Senegal", "SN"),
        ("  senegal ", "SN"),
        ("NIGERIA", "NG"),
        ("Kenya", "KE"),
        ("Tanzania", "TZ"),
        ("Côte d'Ivoire", "CI"),
        ("Ivory Coast", "CI"),
    ],
)
def test_country_accepts_alpha2_alpha3_and_english_name(raw, expected):
    assert normalize_country(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sénégal", "SN"),
        ("SÉNÉGAL", "SN"),
        ("Côte d\u2019Ivoire", "CI"),  # the apostrophe a French keyboard or word processor types
        ("cote-d'ivoire", "CI"),
        ("Nigéria", "NG"),
        ("Cameroun", "CM"),
        ("Bénin", "BJ"),
        ("République démocratique du Congo", "CD"),
        ("République du Congo", "CG"),
        ("Royaume-Uni", "GB"),
        ("États-Unis", "US"),
    ],
)
def test_country_accepts_french_names_with_or_without_accents(raw, expected):
    assert normalize_country(raw) == expected


@pytest.mark.parametrize("raw", ["Atlantis", "XX", "XYZ", "686", "S"])
def test_unknown_country_is_rejected_naming_the_value(raw):
    with pytest.raises(ValidationError) as error:
        normalize_country(raw)
    assert error.value.messages == [
        f"Country '{raw}' is not an ISO 3166 country; use a code such as SN or SEN, "
        "or a name in English or French such as Senegal or Sénégal."
    ]


def test_text_longer_than_any_country_name_is_refused_without_being_looked_up(monkeypatch):
    from customers import normalizers

    names = normalizers._country_names()
    monkeypatch.setattr(normalizers, "_folded", lambda text: pytest.fail("looked up"))
    assert max(map(len, names)) < normalizers.COUNTRY_TEXT_MAX_LENGTH
    with pytest.raises(ValidationError, match="is not an ISO 3166 country"):
        normalize_country("Senegal " * 10_000)


def test_a_long_unknown_country_or_currency_is_echoed_cut_short():
    for normalize, name in ((normalize_country, "Country"), (normalize_currency, "Currency")):
        with pytest.raises(ValidationError) as error:
            normalize("Z" * 1_000_000)
        assert error.value.messages[0].startswith(f"{name} '{'Z' * 59}…' is not an ISO")


@pytest.mark.parametrize(("raw", "expected"), [("XOF", "XOF"), ("ngn", "NGN"), (" kes ", "KES")])
def test_currency_is_an_upper_case_iso_4217_code(raw, expected):
    assert normalize_currency(raw) == expected


@pytest.mark.parametrize("raw", ["ABC", "CFA", "EURO", "E"])
def test_unknown_currency_is_rejected(raw):
    with pytest.raises(ValidationError) as error:
        normalize_currency(raw)
    assert error.value.messages == [
        f"Currency '{raw}' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."
    ]


def test_email_is_trimmed_with_the_domain_lower_cased():
    assert normalize_email("  Amadou.Ba@Example.COM ") == "Amadou.Ba@example.com"


@pytest.mark.parametrize("raw", ["amadou", "amadou@", "@example.com", "a b@example.com"])
def test_invalid_email_is_rejected(raw):
    with pytest.raises(ValidationError) as error:
        normalize_email(raw)
    assert error.value.messages == ["Enter a valid email address."]


def test_metadata_accepts_flat_strings_numbers_and_booleans():
    validate_metadata({"plan": "gold", "seats": 40, "ratio": 0.5, "vip": True, "a.b-c_d": "x"})


def test_metadata_accepts_exactly_fifty_keys_and_rejects_fifty_one():
    validate_metadata({f"k{i}": i for i in range(50)})
    with pytest.raises(ValidationError) as error:
        validate_metadata({f"k{i}": i for i in range(51)})
    assert error.value.messages == ["Metadata can hold at most 50 keys; 51 were given."]


def test_metadata_key_of_forty_characters_is_accepted_and_forty_one_rejected():
    validate_metadata({"k" * 40: "v"})
    with pytest.raises(ValidationError) as error:
        validate_metadata({"k" * 41: "v"})
    assert error.value.messages == [f"Metadata key '{'k' * 41}' is longer than 40 characters."]
    assert error.value.error_list[0].params["field"] == f"metadata.{'k' * 41}"


def test_metadata_key_with_other_characters_is_rejected():
    with pytest.raises(ValidationError) as error:
        validate_metadata({"bad key!": "v"})
    assert error.value.messages == [
        "Metadata key 'bad key!' may only contain letters, digits, '_', '.' and '-'."
    ]


def test_metadata_value_of_500_characters_is_accepted_and_501_rejected():
    validate_metadata({"note": "x" * 500})
    with pytest.raises(ValidationError) as error:
        validate_metadata({"note": "x" * 501})
    assert error.value.messages == ["Metadata value of 'note' is longer than 500 characters."]


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], None])
def test_metadata_nested_values_are_rejected(value):
    with pytest.raises(ValidationError) as error:
        validate_metadata({"nested": value})
    assert error.value.messages == [
        "Metadata value of 'nested' must be a string, a number or a boolean; nested objects, "
        "lists and null are not allowed."
    ]
    assert error.value.error_list[0].params["field"] == "metadata.nested"


@pytest.mark.parametrize("value", [["a"], "text", 3])
def test_metadata_must_be_an_object(value):
    with pytest.raises(ValidationError) as error:
        validate_metadata(value)
    assert error.value.messages == ["Metadata must be an object of key-value pairs."]


def test_address_accepts_its_five_keys_and_is_trimmed():
    address = {"line1": " 1 Rue ", "line2": "", "city": "Dakar", "state": "DK", "postal_code": "1"}
    validate_address(address)
    assert normalize_address(address) == {
        "line1": "1 Rue",
        "city": "Dakar",
        "state": "DK",
        "postal_code": "1",
    }


def test_address_rejects_unknown_keys_and_non_strings_naming_the_nested_field():
    with pytest.raises(ValidationError) as error:
        validate_address({"street": "x", "city": 5})
    assert error.value.messages == [
        "Unknown address field 'street'; use line1, line2, city, state or postal_code.",
        "Address field 'city' must be a string.",
    ]
    assert [e.params["field"] for e in error.value.error_list] == ["address.street", "address.city"]
