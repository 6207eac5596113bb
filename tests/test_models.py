"""Every rule of a customer, through the one place that holds them (model + services), and the
database constraints behind them."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Q, Sum, signals
from django.db.models.functions import Coalesce
from django.test.utils import CaptureQueriesContext

from customers.ids import uuid7
from customers.models import (
    ApiKey,
    Customer,
    CustomerCount,
    WholeRows,
    column_attnames,
    column_sum,
    new_instance,
)
from customers.services import customer_create
from tests.factories import make_api_key, make_customer

pytestmark = pytest.mark.django_db


def create(merchant, **fields):
    return customer_create(merchant=merchant, actor="user:tests", source="api", **fields)


def errors_of(merchant, **fields) -> dict:
    with pytest.raises(ValidationError) as error:
        create(merchant, **fields)
    return error.value.message_dict


def test_customer_is_stored_normalised(merchant):
    customer = create(
        merchant,
        name="  Amadou Ba ",
        email=" Amadou.Ba@Example.COM ",
        phone="77 123 45 67",
        whatsapp="+221 77 987 65 43",
        country="senegal",
        currency="xof",
        address={"city": " Dakar "},
    )
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone, customer.whatsapp) == (
        "Amadou Ba",
        "Amadou.Ba@example.com",
        "+221771234567",
        "+221779876543",
    )
    assert (customer.country, customer.currency, customer.address) == (
        "SN",
        "XOF",
        {"city": "Dakar"},
    )


def test_defaults_are_individual_active_with_empty_objects(merchant):
    customer = create(merchant, name="Awa", phone="+221771234567")
    assert (customer.type, customer.status, customer.is_active) == ("individual", "active", True)
    assert (customer.metadata, customer.address) == ({}, {})


def test_id_is_a_time_ordered_uuid7(merchant):
    first, second = make_customer(merchant), make_customer(merchant)
    assert first.pk.version == 7
    assert str(first.pk)[:8] <= str(second.pk)[:8]
    assert uuid7() > first.pk


def test_name_defaults_to_first_and_last_name(merchant):
    assert create(
        merchant, first_name="James", last_name="Okafor", phone="+2348012345678"
    ).name == ("James Okafor")
    assert create(merchant, first_name="Yaw", phone="+233249998888").name == "Yaw"


def test_name_is_required(merchant):
    assert errors_of(merchant, email="a@example.com") == {"name": ["This field cannot be blank."]}


def test_email_or_phone_is_required(merchant):
    assert errors_of(merchant, name="Nobody") == {
        "email": ["Give an email address or a phone number (or both)."]
    }


def test_phone_only_customer_is_valid(merchant):
    assert create(merchant, name="Moussa", phone="+221771112233").email == ""


def test_national_phone_without_country_is_refused(merchant):
    assert errors_of(merchant, name="Moussa", phone="771234567") == {
        "phone": [
            "Add the country code to the phone number (e.g. +221771234567), or set the "
            "customer's country."
        ]
    }


def test_invalid_whatsapp_is_refused_naming_the_field(merchant):
    assert errors_of(merchant, name="M", phone="+221771234567", whatsapp="+221 12") == {
        "whatsapp": ["Enter a valid phone number, e.g. +221771234567."]
    }


def test_every_bad_field_is_reported_at_once_and_nothing_is_saved(merchant):
    errors = errors_of(
        merchant,
        name="x" * 201,
        email="not-an-email",
        country="Atlantis",
        currency="ABC",
        website="ftp://example.com",
        type="robot",
        status="gone",
        description="d" * 1001,
        reference="r" * 65,
        metadata={"bad key": 1},
    )
    assert errors == {
        "name": ["Ensure this value has at most 200 characters (it has 201)."],
        "email": ["Enter a valid email address."],
        "country": [
            "Country 'Atlantis' is not an ISO 3166 country; use a code such as SN or SEN, "
            "or a name in English or French such as Senegal or Sénégal."
        ],
        "currency": ["Currency 'ABC' is not an ISO 4217 currency code, e.g. XOF, NGN or KES."],
        "website": ["Enter a website address that starts with http:// or https://."],
        "type": ["Value 'robot' is not a valid choice; use individual or business."],
        "status": [
            "Value 'gone' is not a valid choice; use pending_kyc, active, inactive or blocked."
        ],
        "description": ["Ensure this value has at most 1000 characters (it has 1001)."],
        "reference": ["Ensure this value has at most 64 characters (it has 65)."],
        "metadata": ["Metadata key 'bad key' may only contain letters, digits, '_', '.' and '-'."],
    }
    assert not Customer.objects.exists()


NOT_A_WEB_ADDRESS = "Enter a website address that starts with http:// or https://."


@pytest.mark.parametrize(
    ("website", "message"),
    [
        ("example.com", NOT_A_WEB_ADDRESS),
        ("www.example.com/shop", NOT_A_WEB_ADDRESS),
        ("ftp://example.com", NOT_A_WEB_ADDRESS),
        ("mailto:awa@example.com", NOT_A_WEB_ADDRESS),
        ("https://exa mple.com", "Enter a valid URL."),
        ("http://", "Enter a valid URL."),
    ],
)
def test_a_website_that_is_not_a_web_address_gets_one_message_saying_why(
    merchant, website, message
):
    errors = errors_of(merchant, name="M", phone="+221771234567", website=website)

    assert errors == {"website": [message]}


def test_a_website_is_stored_as_given_without_the_spaces_around_it(merchant):
    customer = create(
        merchant, name="M", phone="+221771234567", website="  HTTPS://Diop.example/shop?ref=1  "
    )

    assert customer.website == "HTTPS://Diop.example/shop?ref=1"


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"type": "person"},
            {"type": ["Value 'person' is not a valid choice; use individual or business."]},
        ),
        (
            {"status": "deleted"},
            {
                "status": [
                    "Value 'deleted' is not a valid choice; "
                    "use pending_kyc, active, inactive or blocked."
                ]
            },
        ),
        ({"type": ""}, {"type": ["This field cannot be blank."]}),
    ],
)
def test_a_value_that_is_not_one_of_the_choices_is_refused_naming_the_choices(
    merchant, fields, errors
):
    assert errors_of(merchant, name="M", phone="+221771234567", **fields) == errors


def test_metadata_limits_are_enforced_on_the_customer(merchant):
    errors = errors_of(merchant, name="M", phone="+221771234567", metadata={"k": {"nested": 1}})
    assert errors == {
        "metadata": [
            "Metadata value of 'k' must be a string, a number or a boolean; nested objects, "
            "lists and null are not allowed."
        ]
    }


def test_address_with_unknown_key_is_refused(merchant):
    assert errors_of(merchant, name="M", phone="+221771234567", address={"town": "Dakar"}) == {
        "address": ["Unknown address field 'town'; use line1, line2, city, state or postal_code."]
    }


def test_is_active_is_true_exactly_when_status_is_active(merchant):
    for status in Customer.Status.values:
        customer = make_customer(merchant, status=status)
        assert customer.is_active is (status == "active")


def test_duplicate_email_in_same_merchant_is_refused_case_insensitively(merchant):
    make_customer(merchant, email="amadou.ba@example.com")
    with pytest.raises(ValidationError) as error:
        create(merchant, name="Other", email="AMADOU.BA@example.com")
    assert error.value.message_dict == {"email": ["A customer with this email already exists."]}
    assert error.value.error_dict["email"][0].code == "duplicate"


def test_duplicate_reference_in_same_merchant_is_refused(merchant):
    make_customer(merchant, reference="CUS-1")
    with pytest.raises(ValidationError) as error:
        create(merchant, name="Other", email="other@example.com", reference="CUS-1")
    assert error.value.message_dict == {
        "reference": ["A customer with this reference already exists."]
    }


def test_same_email_and_reference_in_another_merchant_is_allowed(merchant, other_merchant):
    make_customer(merchant, email="amadou.ba@example.com", reference="CUS-1")
    other = make_customer(other_merchant, email="amadou.ba@example.com", reference="CUS-1")
    assert other.merchant == other_merchant


def test_many_customers_without_email_or_reference_do_not_collide(merchant):
    make_customer(merchant, phone="+221771234567")
    make_customer(merchant, phone="+221771234568")
    assert Customer.objects.filter(email="", reference="").count() == 2


def test_uniqueness_check_costs_one_query_per_non_empty_unique_field(
    merchant, django_assert_num_queries
):
    customer = Customer(merchant=merchant, name="Ada", email="ada@example.com", reference="CUS-9")
    with django_assert_num_queries(2):
        customer.validate_constraints()
    customer.reference = ""
    with django_assert_num_queries(1):
        customer.validate_constraints()


def test_validating_a_new_customer_asks_only_about_its_email_and_reference(
    merchant, django_assert_num_queries
):
    customer = Customer(merchant=merchant, name="Ada", email="ada@example.com", reference="CUS-9")
    with django_assert_num_queries(2):  # not whether its freshly drawn id is taken
        customer.full_clean()


def test_the_unique_constraints_leave_out_exactly_the_empty_value():
    """What the uniqueness check relies on to skip the database's reading of the conditions."""
    for constraint in Customer._meta.constraints:
        if field := Customer.UNIQUE_FIELDS.get(constraint.name):
            assert constraint.condition == ~Q(**{field: ""})


def raw_insert(merchant, **fields):
    """Bypass every Python check: only the database stands in the way."""
    fields = {"name": "Raw", "source": "api", "created_by": "raw", **fields}
    with transaction.atomic():
        Customer(merchant=merchant, **fields).save(force_insert=True)


def test_database_refuses_duplicate_email_that_bypasses_validation(merchant):
    raw_insert(merchant, email="amadou.ba@example.com")
    with pytest.raises(IntegrityError):
        raw_insert(merchant, email="Amadou.Ba@example.com")


def test_database_refuses_duplicate_email_differing_in_the_case_of_accented_letters(merchant):
    raw_insert(merchant, email="ÉLODIE@example.com")
    with pytest.raises(IntegrityError):
        raw_insert(merchant, email="élodie@example.com")


def test_uniqueness_check_sees_emails_differing_in_the_case_of_accented_letters_as_one(merchant):
    raw_insert(merchant, email="ÉLODIE@example.com")
    with pytest.raises(ValidationError) as error:
        Customer(merchant=merchant, name="Other", email="élodie@example.com").validate_constraints()
    assert error.value.message_dict == {"email": ["A customer with this email already exists."]}


def test_database_refuses_duplicate_reference_that_bypasses_validation(merchant):
    raw_insert(merchant, email="a@example.com", reference="CUS-1")
    with pytest.raises(IntegrityError):
        raw_insert(merchant, email="b@example.com", reference="CUS-1")


def test_database_allows_duplicates_across_merchants(merchant, other_merchant):
    raw_insert(merchant, email="a@example.com", reference="CUS-1")
    raw_insert(other_merchant, email="A@example.com", reference="CUS-1")
    stored = Customer.objects.order_by("merchant__slug").values_list(
        "merchant__slug", "email", "reference"
    )
    assert list(stored) == [
        ("lagos-goods", "A@example.com", "CUS-1"),
        ("teranga", "a@example.com", "CUS-1"),
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {"email": "a@example.com", "type": "robot"},
        {"email": "a@example.com", "status": "gone"},
        {"email": "", "phone": ""},
    ],
)
def test_database_refuses_invalid_choices_and_missing_contact(merchant, fields):
    with pytest.raises(IntegrityError):
        raw_insert(merchant, **fields)


# --- reading ---------------------------------------------------------------------------------


def test_a_customer_read_whole_is_the_customer_django_builds(merchant):
    stored = make_customer(
        merchant, email="awa@example.com", address={"city": "Dakar"}, metadata={"tier": 2}
    )

    read = Customer.objects.get(pk=stored.pk)
    built = Customer(
        **{field.attname: getattr(read, field.attname) for field in Customer._meta.concrete_fields}
    )

    assert {f.attname: getattr(read, f.attname) for f in Customer._meta.concrete_fields} == {
        f.attname: getattr(built, f.attname) for f in Customer._meta.concrete_fields
    }
    assert (read._state.adding, read._state.db) == (False, "default")
    assert read.merchant == merchant  # the foreign key is still fetched when asked for
    read.name = "Awa Ndiaye"
    read.save(update_fields=["name"])  # an update of the row read, not an insert
    assert Customer.objects.get(pk=stored.pk).name == "Awa Ndiaye"


def test_a_customer_read_in_part_or_watched_is_built_by_django(merchant):
    stored = make_customer(merchant, email="awa@example.com")
    seen = []

    def watch(sender, instance, **kwargs):
        seen.append(instance.pk)

    partial = Customer.objects.only("name").get(pk=stored.pk)
    signals.post_init.connect(watch, sender=Customer)
    try:
        Customer.objects.get(pk=stored.pk)
        WholeRows.on(Customer, connections["default"]).matching(id=stored.pk)
    finally:
        signals.post_init.disconnect(watch, sender=Customer)

    assert partial.get_deferred_fields() >= {"email", "phone"}
    assert partial.email == "awa@example.com"  # a deferred field is loaded when read
    assert seen == [stored.pk, stored.pk]


def test_a_new_instance_is_the_customer_django_builds_and_saves_alike(merchant):
    given = {"merchant_id": merchant.pk, "name": "Awa", "email": "awa@example.com"}
    columns = [f.attname for f in Customer._meta.concrete_fields]
    made_each_time = {"id", "created_at", "updated_at"}

    built, first, second = (
        Customer(**given),
        new_instance(Customer, **given),
        new_instance(Customer, **given),
    )

    assert {n: getattr(first, n) for n in columns if n not in made_each_time} == {
        n: getattr(built, n) for n in columns if n not in made_each_time
    }
    assert first.id != second.id and first.created_at <= second.created_at
    assert first.address is not second.address  # a default dict of its own, as Django makes
    assert (first._state.adding, first._state.db) == (True, None)
    first.full_clean()
    first.save()
    assert Customer.objects.get(pk=first.pk).email == "awa@example.com"


def test_a_new_instance_refuses_what_is_not_a_column_and_is_built_by_django_when_watched(
    merchant,
):
    with pytest.raises(TypeError, match="has no column merchant, nickname"):
        new_instance(Customer, merchant=merchant, nickname="Awa")
    seen = []

    def watch(sender, instance, **kwargs):
        seen.append(instance.name)

    signals.post_init.connect(watch, sender=Customer)
    try:
        new_instance(Customer, merchant_id=merchant.pk, name="Awa")
    finally:
        signals.post_init.disconnect(watch, sender=Customer)

    assert seen == ["Awa"]


def test_whole_rows_reads_the_instances_the_orm_reads(merchant):
    api_key, _ = make_api_key(merchant, scopes=["customers:read"])
    make_api_key(merchant)

    whole_keys = WholeRows.on(ApiKey, connections["default"])
    (read,) = whole_keys.read("prefix = %s", [api_key.prefix])
    assert whole_keys.matching(merchant_id=merchant.pk, prefix=api_key.prefix) == [read]
    orm = ApiKey.objects.get(prefix=api_key.prefix)

    assert [getattr(read, name) for name in column_attnames(ApiKey)] == [
        getattr(orm, name) for name in column_attnames(ApiKey)
    ]
    assert read.scopes == ["customers:read"] and read.created_at.tzinfo is not None
    assert not read._state.adding and read._state.db == "default"
    assert read.merchant == merchant  # fetched when asked for
    newest_first = whole_keys.read("", [], ordering=["-created_at", "-id"])
    assert newest_first == list(ApiKey.objects.order_by("-created_at", "-id"))


@pytest.mark.parametrize(
    "narrow",
    [
        lambda counts: counts,
        lambda counts: counts.filter(status__in=["active", "blocked"]),
        lambda counts: counts.filter(type="business"),
        lambda counts: counts.filter(~Q(status="active")),
        lambda counts: counts.filter(merchant__slug="teranga"),  # a join: the ORM's own sum
        lambda counts: counts.none(),
        lambda counts: CustomerCount.objects.all(),
    ],
    ids=["merchant", "statuses", "type", "not active", "joined", "none", "every merchant"],
)
def test_column_sum_sends_the_orm_aggregate_and_sums_the_same(merchant, other_merchant, narrow):
    kinds = [("active", "individual"), ("active", "business"), ("blocked", "business")]
    for status, type_ in kinds:
        make_customer(merchant, status=status, type=type_)
    make_customer(other_merchant, status="inactive")
    counts = narrow(CustomerCount.objects.filter(merchant=merchant))

    with CaptureQueriesContext(connections["default"]) as ours:
        total = column_sum(counts, "count")
    with CaptureQueriesContext(connections["default"]) as orm:
        expected = counts.aggregate(total=Coalesce(Sum("count"), 0))["total"]

    assert total == expected and isinstance(total, int)
    assert [q["sql"] for q in ours.captured_queries] == [q["sql"] for q in orm.captured_queries]
