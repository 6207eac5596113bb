"""The customer list: every filter with good and malformed values, search, ordering, strict
query strings, page and cursor pagination, and a query count that does not grow with the page."""

import datetime

import pytest
from django.core import signing
from django.utils import timezone
from rest_framework.test import APIClient

from customers.filtersets import CustomerFilterSet
from customers.models import Customer
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"


@pytest.fixture
def api(merchant):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(merchant)[1]}")
    return client


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["data"]]


def at(day: int, hour: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, 6, day, hour, tzinfo=datetime.UTC)


@pytest.fixture
def registry(merchant):
    """Four customers of the merchant, created a day apart (Awa first)."""
    rows = [
        dict(
            name="Awa Diop",
            email="Awa@example.com",
            phone="+221771234567",
            country="SN",
            currency="XOF",
            reference="CUS-1",
            company="Teranga SARL",
        ),
        dict(
            name="Chidi Okafor",
            phone="+2348031234567",
            country="NG",
            currency="NGN",
            type="business",
            status="blocked",
        ),
        dict(name="Kofi Mensah", email="kofi@example.com", country="GH", status="pending_kyc"),
        dict(name="Wanjiru Kamau", email="wanjiru@example.org", country="KE", status="inactive"),
    ]
    customers = [make_customer(merchant, **row) for row in rows]
    for day, customer in enumerate(customers, start=1):
        Customer.objects.filter(pk=customer.pk).update(created_at=at(day), updated_at=at(day))
    return customers


# --- list and meta --------------------------------------------------------------------------


def test_list_is_newest_first_in_the_envelope_with_page_meta(api, registry):
    response = api.get(URL)

    assert names(response) == ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor", "Awa Diop"]
    assert response.json()["meta"] == {
        "page": 1,
        "limit": 20,
        "total": 4,
        "total_is_exact": True,
        "pages": 1,
        "has_more": False,
        "next_cursor": None,
    }


def test_an_empty_list_has_zero_pages(api):
    response = api.get(URL)

    assert response.json() == {
        "data": [],
        "meta": {
            "page": 1,
            "limit": 20,
            "total": 0,
            "total_is_exact": True,
            "pages": 0,
            "has_more": False,
            "next_cursor": None,
        },
    }


def test_list_rows_are_full_customers(api, registry):
    row = api.get(URL, {"reference": "CUS-1"}).json()["data"][0]

    assert row["id"] == str(registry[0].pk)
    assert row["email"] == "Awa@example.com"
    assert row["created_at"] == "2026-06-01T12:00:00.000Z"


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"email": "awa@EXAMPLE.com"}, ["Awa Diop"]),
        ({"email": "awa@example"}, []),
        ({"phone": "+221 77 123 45 67"}, ["Awa Diop"]),
        ({"phone": "00234 803 123 4567"}, ["Chidi Okafor"]),
        ({"type": "business"}, ["Chidi Okafor"]),
        ({"type": "individual"}, ["Wanjiru Kamau", "Kofi Mensah", "Awa Diop"]),
        ({"is_active": "true"}, ["Awa Diop"]),
        ({"is_active": "false"}, ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor"]),
        ({"status": "blocked"}, ["Chidi Okafor"]),
        ({"status": "blocked,pending_kyc"}, ["Kofi Mensah", "Chidi Okafor"]),
        ({"reference": "CUS-1"}, ["Awa Diop"]),
        ({"reference": "cus-1"}, []),
        ({"country": "SN"}, ["Awa Diop"]),
        ({"country": "sen"}, ["Awa Diop"]),
        ({"country": "Senegal"}, ["Awa Diop"]),
        ({"currency": "ngn"}, ["Chidi Okafor"]),
        ({"created_after": "2026-06-03"}, ["Wanjiru Kamau", "Kofi Mensah"]),
        ({"created_before": "2026-06-02"}, ["Awa Diop"]),
        (
            {"created_after": "2026-06-02T12:00:00Z"},
            ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor"],
        ),
        (
            {"created_after": "2026-06-02T13:00:00+02:00"},
            ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor"],
        ),
        (
            {"created_after": "2026-06-02", "created_before": "2026-06-04"},
            ["Kofi Mensah", "Chidi Okafor"],
        ),
        ({"search": "okafor"}, ["Chidi Okafor"]),
        ({"search": "EXAMPLE.ORG"}, ["Wanjiru Kamau"]),
        ({"search": "803123"}, ["Chidi Okafor"]),
        ({"search": "cus-"}, ["Awa Diop"]),
        ({"search": "teranga"}, ["Awa Diop"]),
        ({"search": "%_%"}, []),
        ({"search": "+221 77 123 45 67"}, ["Awa Diop"]),
        ({"search": "77 123"}, ["Awa Diop"]),
        ({"search": "077 123 45 67"}, ["Awa Diop"]),
        ({"search": "+234 803-123"}, ["Chidi Okafor"]),
        ({"status": "active,blocked", "country": "NG"}, ["Chidi Okafor"]),
        ({"is_active": "false", "search": "example"}, ["Wanjiru Kamau", "Kofi Mensah"]),
    ],
)
def test_filter(api, registry, params, expected):
    assert names(api.get(URL, params)) == expected


def not_a_choice(value: str, choices: str) -> list[str]:
    return [f"Value '{value}' is not a valid choice; use {choices}."]


TYPES = "individual or business"
STATUSES = "pending_kyc, active, inactive or blocked"
ORDERINGS = (
    "created_at, -created_at, name, -name, updated_at, -updated_at, status, -status, type, "
    "-type, country or -country"
)


NOT_A_DATE = ["Enter an ISO 8601 date or date-time, e.g. 2026-06-05 or 2026-06-05T12:00:00Z."]
NOT_A_COUNTRY = [
    "Country 'Atlantis' is not an ISO 3166 country; use a code such as SN or SEN, or a "
    "name in English or French such as Senegal or Sénégal."
]
NOT_A_CURRENCY = ["Currency 'ABC' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."]
NOT_A_PHONE = ["Enter a valid phone number, e.g. +221771234567."]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"type": "person"}, {"type": not_a_choice("person", TYPES)}),
        ({"is_active": "yes"}, {"is_active": not_a_choice("yes", "true or false")}),
        ({"status": "active,gone"}, {"status": not_a_choice("gone", STATUSES)}),
        ({"country": "Atlantis"}, {"country": NOT_A_COUNTRY}),
        ({"currency": "ABC"}, {"currency": NOT_A_CURRENCY}),
        ({"phone": "not a phone"}, {"phone": NOT_A_PHONE}),
        ({"created_after": "yesterday"}, {"created_after": NOT_A_DATE}),
        ({"created_before": "2026-02-30"}, {"created_before": NOT_A_DATE}),
        ({"ordering": "email"}, {"ordering": not_a_choice("email", ORDERINGS)}),
        ({"ordering": "status,name"}, {"ordering": not_a_choice("status,name", ORDERINGS)}),
        ({"type": "person", "limit": "5"}, {"type": not_a_choice("person", TYPES)}),
    ],
)
def test_a_malformed_filter_is_400_naming_the_parameter(api, registry, params, fields):
    response = api.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["fields"] == fields


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_date_time_that_cannot_be_expressed_in_utc_is_400_never_500(api, value):
    response = api.get(URL, {"created_after": value})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "created_after": ["Enter a date-time between the years 1 and 9999 in UTC."]
    }


def test_extreme_but_valid_dates_are_accepted(api, registry):
    assert names(api.get(URL, {"created_after": "0001-01-01"})) == [
        "Wanjiru Kamau",
        "Kofi Mensah",
        "Chidi Okafor",
        "Awa Diop",
    ]
    assert names(api.get(URL, {"created_after": "9999-12-31"})) == []


def test_an_unknown_query_parameter_is_400_naming_it(api, registry):
    response = api.get(URL, {"emial": "awa@example.com"})

    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "validation_error",
            "message": "emial: Unknown query parameter; did you mean email?",
            "fields": {"emial": ["Unknown query parameter; did you mean email?"]},
        }
    }


def test_a_repeated_query_parameter_is_400(api):
    response = api.get(URL + "?status=active&status=blocked")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "status": ["Send this parameter once (several statuses: status=a,b)."]
    }


def test_an_empty_query_parameter_is_400_rather_than_ignored(api):
    response = api.get(URL + "?email=")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "email": ["Give a value, or leave the parameter out."]
    }


def test_format_is_the_one_extra_parameter_allowed(api, registry):
    response = api.get(URL, {"format": "json", "type": "business"})

    assert names(response) == ["Chidi Okafor"]


def test_a_query_parameter_on_one_customer_is_400(api, registry):
    response = api.get(f"{URL}/{registry[0].pk}", {"expand": "merchant"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"expand": ["Unknown query parameter."]}


# --- ordering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("created_at", ["Awa Diop", "Chidi Okafor", "Kofi Mensah", "Wanjiru Kamau"]),
        ("-created_at", ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor", "Awa Diop"]),
        ("name", ["Awa Diop", "Chidi Okafor", "Kofi Mensah", "Wanjiru Kamau"]),
        ("-name", ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor", "Awa Diop"]),
        ("updated_at", ["Awa Diop", "Chidi Okafor", "Kofi Mensah", "Wanjiru Kamau"]),
        ("-updated_at", ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor", "Awa Diop"]),
        # active, blocked, inactive, pending_kyc
        ("status", ["Awa Diop", "Chidi Okafor", "Wanjiru Kamau", "Kofi Mensah"]),
        ("-status", ["Kofi Mensah", "Wanjiru Kamau", "Chidi Okafor", "Awa Diop"]),
        # business, then the individuals oldest first; reversed, newest first
        ("type", ["Chidi Okafor", "Awa Diop", "Kofi Mensah", "Wanjiru Kamau"]),
        ("-type", ["Wanjiru Kamau", "Kofi Mensah", "Awa Diop", "Chidi Okafor"]),
        # GH, KE, NG, SN
        ("country", ["Kofi Mensah", "Wanjiru Kamau", "Chidi Okafor", "Awa Diop"]),
        ("-country", ["Awa Diop", "Chidi Okafor", "Wanjiru Kamau", "Kofi Mensah"]),
    ],
)
def test_ordering(api, registry, ordering, expected):
    assert names(api.get(URL, {"ordering": ordering})) == expected


def test_a_patch_moves_a_customer_to_the_top_of_minus_updated_at(api, registry):
    api.patch(f"{URL}/{registry[0].pk}", {"company": "New"}, format="json")

    assert names(api.get(URL, {"ordering": "-updated_at"}))[0] == "Awa Diop"


def test_equal_names_are_ordered_by_id(api, merchant):
    twins = [make_customer(merchant, name="Same") for _ in range(3)]

    ids = [row["id"] for row in api.get(URL, {"ordering": "name"}).json()["data"]]

    assert ids == sorted(str(twin.pk) for twin in twins)


def test_every_ordering_is_the_column_order_of_an_index_read_one_way():
    indexes = [tuple(index.fields) for index in Customer._meta.indexes]
    for ordering, columns in CustomerFilterSet.ORDERINGS.items():
        assert columns[0] == ordering
        assert len({column.startswith("-") for column in columns}) == 1, ordering
        bare = tuple(column.lstrip("-") for column in columns)
        assert ("merchant", *bare) in indexes, ordering
        assert bare[-1] == "id"
        assert not any(Customer._meta.get_field(column).null for column in bare), ordering


def test_a_phone_like_search_still_finds_a_reference_as_typed(api, registry, merchant):
    make_customer(merchant, name="Moussa Sow", phone="+221781112233", reference="2024-001")

    assert names(api.get(URL, {"search": "2024-001"})) == ["Moussa Sow"]


@pytest.mark.parametrize("term", ["TRAORÉ", "traoré", "élodie", "ÉXAMPLE"])
def test_search_ignores_the_case_of_accented_letters(api, merchant, term):
    make_customer(merchant, name="Élodie Traoré", email="elodie@éxample.com")
    make_customer(merchant, name="Elodie Traore", email="elodie@example.com")

    assert names(api.get(URL, {"search": term})) == ["Élodie Traoré"]


def test_the_email_filter_ignores_the_case_of_accented_letters(api, merchant):
    # The rules accept only ASCII before the @; an address stored around them (restored from
    # elsewhere) is still found as the unique index on lower(email) sees it.
    customer = make_customer(merchant, name="Élodie Traoré")
    Customer.objects.filter(pk=customer.pk).update(email="ÉLODIE@example.com")

    assert names(api.get(URL, {"email": "élodie@example.com"})) == ["Élodie Traoré"]


def test_a_search_of_fewer_than_three_characters_is_refused(api, registry):
    response = api.get(URL, {"search": " Ba "})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "search": ["Search for at least 3 characters (this is 2)."]
    }


# --- page mode ------------------------------------------------------------------------------


def test_page_mode_meta_on_a_middle_page(api, registry):
    response = api.get(URL, {"limit": 1, "page": 2})

    assert names(response) == ["Kofi Mensah"]
    meta = response.json()["meta"]
    assert {key: meta[key] for key in ("page", "limit", "total", "pages", "has_more")} == {
        "page": 2,
        "limit": 1,
        "total": 4,
        "pages": 4,
        "has_more": True,
    }
    assert list(meta) == [
        "page", "limit", "total", "total_is_exact", "pages", "has_more", "next_cursor",
    ]  # fmt: skip
    after = api.get(URL, {"limit": 1, "cursor": meta["next_cursor"]})
    assert names(after) == ["Chidi Okafor"]


def test_the_last_page_has_no_more_and_no_cursor(api, registry):
    response = api.get(URL, {"limit": 3, "page": 2})

    assert names(response) == ["Awa Diop"]
    assert response.json()["meta"] == {
        "page": 2,
        "limit": 3,
        "total": 4,
        "total_is_exact": True,
        "pages": 2,
        "has_more": False,
        "next_cursor": None,
    }


def test_a_page_past_the_end_is_200_with_empty_data(api, registry):
    response = api.get(URL, {"page": 99})

    assert response.json() == {
        "data": [],
        "meta": {
            "page": 99,
            "limit": 20,
            "total": 4,
            "total_is_exact": True,
            "pages": 1,
            "has_more": False,
            "next_cursor": None,
        },
    }


def test_a_huge_page_number_is_an_empty_page_not_an_error(api, registry):
    response = api.get(URL, {"page": "999999999999999999"})

    assert response.status_code == 200
    assert response.json()["data"] == []


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"limit": "0"}, {"limit": ["Enter a whole number from 1 to 100."]}),
        ({"limit": "101"}, {"limit": ["Enter a whole number from 1 to 100."]}),
        ({"limit": "ten"}, {"limit": ["Enter a whole number."]}),
        ({"limit": "-1"}, {"limit": ["Enter a whole number."]}),
        ({"limit": " 5"}, {"limit": ["Enter a whole number."]}),
        ({"limit": "5.0"}, {"limit": ["Enter a whole number."]}),
        ({"page": "0"}, {"page": ["Enter a whole number from 1."]}),
        ({"page": "first"}, {"page": ["Enter a whole number."]}),
        ({"page": "1", "cursor": "x"}, {
            "page": ["Send either page or cursor, not both."],
            "cursor": ["This cursor is not valid; use meta.next_cursor as given."],
        }),
    ],
)  # fmt: skip
def test_malformed_pagination_is_400_naming_the_parameter(api, params, fields):
    response = api.get(URL, params)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == fields


def test_limit_100_is_allowed(api, registry):
    assert api.get(URL, {"limit": 100}).json()["meta"]["limit"] == 100


# --- cursor mode ----------------------------------------------------------------------------


def walk(api, params: dict) -> tuple[list[str], list[dict]]:
    """Every page in cursor mode, from the first (page mode) to the last."""
    response = api.get(URL, params)
    seen, metas = names(response), []
    cursor = response.json()["meta"]["next_cursor"]
    while cursor:
        response = api.get(URL, {**params, "cursor": cursor})
        seen += names(response)
        metas.append(response.json()["meta"])
        cursor = response.json()["meta"]["next_cursor"]
    return seen, metas


@pytest.mark.parametrize("ordering", CustomerFilterSet.ORDERINGS)
def test_a_cursor_walk_returns_every_row_once_in_order(api, registry, ordering):
    seen, metas = walk(api, {"limit": 1, "ordering": ordering})

    assert seen == names(api.get(URL, {"ordering": ordering}))
    assert metas[-1] == {"limit": 1, "has_more": False, "next_cursor": None}
    assert all(list(meta) == ["limit", "has_more", "next_cursor"] for meta in metas)


def test_a_cursor_walk_keeps_the_filters(api, registry):
    seen, _ = walk(api, {"limit": 1, "is_active": "false"})

    assert seen == ["Wanjiru Kamau", "Kofi Mensah", "Chidi Okafor"]


def test_cursor_mode_meta_has_no_total(api, registry):
    cursor = api.get(URL, {"limit": 2}).json()["meta"]["next_cursor"]

    response = api.get(URL, {"limit": 2, "cursor": cursor})

    assert names(response) == ["Chidi Okafor", "Awa Diop"]
    assert response.json()["meta"] == {"limit": 2, "has_more": False, "next_cursor": None}


def test_cursor_mode_does_not_count(api, registry, django_assert_num_queries):
    cursor = api.get(URL, {"limit": 1}).json()["meta"]["next_cursor"]

    with django_assert_num_queries(2):  # the key, the page
        api.get(URL, {"limit": 1, "cursor": cursor})


def test_rows_deleted_during_a_walk_are_not_replaced_by_repeats(api, registry):
    first = api.get(URL, {"limit": 2})
    Customer.objects.filter(pk=registry[3].pk).delete()  # on the page already read
    make_customer(registry[0].merchant, name="Newcomer")  # newer than every row

    rest = api.get(URL, {"limit": 2, "cursor": first.json()["meta"]["next_cursor"]})

    assert names(first) + names(rest) == [
        "Wanjiru Kamau",
        "Kofi Mensah",
        "Chidi Okafor",
        "Awa Diop",
    ]


def test_a_tampered_cursor_is_400(api, registry):
    cursor = api.get(URL, {"limit": 1}).json()["meta"]["next_cursor"]
    tampered = cursor[:-3] + ("aaa" if not cursor.endswith("aaa") else "bbb")

    response = api.get(URL, {"cursor": tampered})

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_error",
        "message": "cursor: This cursor is not valid; use meta.next_cursor as given.",
        "fields": {"cursor": ["This cursor is not valid; use meta.next_cursor as given."]},
    }


def test_a_forged_cursor_signed_with_another_key_is_400(api, registry):
    forged = signing.dumps(
        ["-created_at", timezone.now().isoformat(), str(registry[0].pk)],
        key="not-the-secret",
        salt="customers.api.cursor",
    )

    response = api.get(URL, {"cursor": forged})

    assert response.status_code == 400


def test_a_cursor_with_another_ordering_is_400(api, registry):
    cursor = api.get(URL, {"limit": 1, "ordering": "name"}).json()["meta"]["next_cursor"]

    response = api.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "cursor": ["This cursor was issued for ordering=name; send that ordering with it."]
    }


@pytest.fixture
def crowd(merchant) -> list[Customer]:
    """Twenty-four customers in long runs of equal status, type and country (some with no
    country), created at three moments: rows that tie on a column and on its created_at too,
    which only the id tells apart."""
    statuses, countries = ["active", "blocked"], ["SN", "", "NG", "SN"]
    customers = []
    for n in range(24):
        customer = make_customer(
            merchant,
            name=f"Crowd {n:02d}",
            status=statuses[n % 2],
            country=countries[n % 4],
            type="business" if n % 5 == 0 else "individual",
        )
        Customer.objects.filter(pk=customer.pk).update(created_at=at(1 + n % 3))
        customers.append(Customer.objects.get(pk=customer.pk))
    return customers


def in_order(customers: list[Customer], ordering: str) -> list[str]:
    """The ids of ``customers`` in ``ordering``, sorted here rather than by the database."""
    columns = [column.lstrip("-") for column in CustomerFilterSet.ORDERINGS[ordering]]
    ordered = sorted(
        customers,
        key=lambda customer: [getattr(customer, column) for column in columns],
        reverse=ordering.startswith("-"),
    )
    return [str(customer.pk) for customer in ordered]


SEVERAL_COLUMNS = ["status", "-status", "type", "-type", "country", "-country"]


@pytest.mark.parametrize("ordering", SEVERAL_COLUMNS)
def test_a_cursor_walk_through_ties_returns_every_row_once_in_order(api, crowd, ordering):
    response = api.get(URL, {"limit": 5, "ordering": ordering})
    seen = [row["id"] for row in response.json()["data"]]
    while cursor := response.json()["meta"]["next_cursor"]:
        response = api.get(URL, {"limit": 5, "ordering": ordering, "cursor": cursor})
        assert response.status_code == 200, response.json()
        seen += [row["id"] for row in response.json()["data"]]

    assert seen == in_order(crowd, ordering)


@pytest.mark.parametrize("ordering", SEVERAL_COLUMNS)
def test_pages_through_ties_return_every_row_once_in_order(api, crowd, ordering):
    seen = []
    for page in range(1, 6):
        response = api.get(URL, {"limit": 5, "ordering": ordering, "page": page})
        seen += [row["id"] for row in response.json()["data"]]

    assert response.json()["meta"]["has_more"] is False
    assert seen == in_order(crowd, ordering)


def test_a_cursor_walk_by_status_keeps_the_filters(api, crowd):
    params = {"limit": 3, "ordering": "-status", "country": "SN", "type": "individual"}
    response = api.get(URL, params)
    seen = [row["id"] for row in response.json()["data"]]
    while cursor := response.json()["meta"]["next_cursor"]:
        response = api.get(URL, {**params, "cursor": cursor})
        seen += [row["id"] for row in response.json()["data"]]

    chosen = [c for c in crowd if c.country == "SN" and c.type == "individual"]
    assert seen == in_order(chosen, "-status")


def test_a_cursor_of_status_is_refused_with_its_reverse(api, crowd):
    cursor = api.get(URL, {"limit": 5, "ordering": "status"}).json()["meta"]["next_cursor"]

    response = api.get(URL, {"ordering": "-status", "cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "cursor": ["This cursor was issued for ordering=status; send that ordering with it."]
    }


def test_a_cursor_of_one_value_handed_out_before_still_continues_the_walk(api, registry):
    # As cursors were signed when every ordering had one column: [ordering, value, id].
    kofi = registry[2]  # the second newest
    cursor = signing.dumps(
        ["-created_at", at(3).isoformat(), str(kofi.pk)],
        salt="customers.api.cursor",
        compress=True,
    )

    assert names(api.get(URL, {"cursor": cursor})) == ["Chidi Okafor", "Awa Diop"]


@pytest.mark.parametrize(
    "payload",
    [
        # one value for the two columns of status, or too few, or not a date
        ["status", "active", "0190a1b2-0000-7000-8000-000000000000"],
        ["status", ["active"], "0190a1b2-0000-7000-8000-000000000000"],
        ["status", ["active", "yesterday"], "0190a1b2-0000-7000-8000-000000000000"],
        ["email", ["a@example.com"], "0190a1b2-0000-7000-8000-000000000000"],
    ],
)
def test_a_signed_cursor_that_does_not_fit_its_ordering_is_400(api, registry, payload):
    cursor = signing.dumps(payload, salt="customers.api.cursor", compress=True)

    response = api.get(URL, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "cursor": ["This cursor is not valid; use meta.next_cursor as given."]
    }


# --- query count ----------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 20, 100])
def test_list_query_count_is_constant_in_page_size(
    api, merchant, limit, django_assert_max_num_queries
):
    for n in range(100):
        make_customer(merchant, email=f"c{n}@example.com", metadata={"n": n})
    api.get(URL)  # the key's last_used_at is written on first use

    with django_assert_max_num_queries(3):  # the key, the count, the page
        response = api.get(URL, {"limit": limit})

    assert len(response.json()["data"]) == limit


@pytest.mark.parametrize(
    "params",
    [{}, {"page": 2, "limit": 1}, {"email": "kofi@example.com"}, {"search": "example"}],
    ids=["first page", "deeper page", "filter", "search"],
)
def test_a_page_of_the_list_reads_the_customers_table_alone(
    api, registry, params, django_assert_max_num_queries
):
    api.get(URL)  # the key's last_used_at is written on first use

    with django_assert_max_num_queries(3) as queries:
        response = api.get(URL, params)

    assert response.status_code == 200
    page = [
        query["sql"] for query in queries.captured_queries if "customers_customer" in query["sql"]
    ]
    assert page and not any("JOIN" in sql or "customers_merchant" in sql for sql in page)


def test_filter_forms_share_their_fields_and_keep_their_own_values():
    good = CustomerFilterSet({"country": "Senegal"}, queryset=Customer.objects.all())
    bad = CustomerFilterSet({"country": "Atlantis"}, queryset=Customer.objects.all())

    assert good.is_valid() and not bad.is_valid()
    assert good.form.fields["country"] is bad.form.fields["country"]
    assert good.form.cleaned_data["country"] == "SN"
    assert set(bad.form.errors) == {"country"} and not good.form.errors


def test_a_filter_form_cleans_only_the_parameters_given_and_shows_every_field():
    filterset = CustomerFilterSet(
        {"country": "Senegal", "search": "  awa "}, queryset=Customer.objects.all()
    )

    assert filterset.is_valid()
    # Status is a row of check boxes: none ticked sends nothing, and is cleaned (any status).
    assert filterset.form.cleaned_data == {"country": "SN", "search": "awa", "status": None}
    assert list(filterset.form.fields) == list(CustomerFilterSet.base_filters)
    shown = filterset.form.as_div()
    assert 'name="email"' in shown and 'name="ordering"' in shown


def test_each_filterset_binds_its_own_copies_of_the_filters():
    first, second = (
        CustomerFilterSet({"email": f"{name}@example.com"}, queryset=Customer.objects.all())
        for name in ("awa", "kofi")
    )

    assert first.filters["email"] is not second.filters["email"]
    assert first.filters["email"].parent is first and second.filters["email"].parent is second
    assert first.filters["country"].extra is second.filters["country"].extra  # options shared
    assert "awa@example.com" in str(first.qs.query) and "kofi@example.com" in str(second.qs.query)
