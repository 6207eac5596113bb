import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.exceptions import CustomerNotFound, StaleVersion
from customers.models import Customer, CustomerEvent
from customers.services import (
    api_key_authenticate,
    api_key_create,
    api_key_revoke,
    customer_create,
    customer_delete,
    customer_set_status,
    customer_update,
)
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db


def update(customer, expected_version=None, **data):
    return customer_update(
        customer=customer,
        actor="user:tests",
        source="dashboard",
        data=data,
        expected_version=expected_version,
    )


def test_create_sets_source_and_created_by_from_the_actor(merchant):
    user = make_user(merchant, username="awa")
    customer = customer_create(
        merchant=merchant, actor=user, source="dashboard", name="A", email="a@x.sn"
    )
    assert (customer.source, customer.created_by) == ("dashboard", "user:awa")
    api_key, _ = api_key_create(merchant=merchant, name="Backend")
    customer = customer_create(
        merchant=merchant, actor=api_key, source="api", name="B", email="b@x.sn"
    )
    assert customer.created_by == f"api_key:{api_key.prefix}"


def test_create_refuses_fields_that_are_not_writable(merchant):
    with pytest.raises(TypeError, match="source"):
        customer_create(merchant=merchant, actor="x", source="api", name="A", source_override=1)


def test_update_changes_only_given_fields_and_records_old_and_new(merchant):
    customer = make_customer(merchant, name="Amadou", email="a@example.com", phone="+221771234567")
    update(customer, name="Amadou Ba", phone="+221 77 000 00 01")
    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.phone) == (
        "Amadou Ba",
        "a@example.com",
        "+221770000001",
    )
    event = CustomerEvent.objects.filter(customer_id=customer.pk).latest("created_at")
    assert (event.action, event.actor, event.source) == ("updated", "user:tests", "dashboard")
    assert event.changes == {
        "name": ["Amadou", "Amadou Ba"],
        "phone": ["+221771234567", "+221770000001"],
    }


def test_update_bumps_the_version(merchant):
    customer = make_customer(merchant)
    assert customer.version == 1
    assert update(customer, name="New").version == 2
    assert Customer.objects.get(pk=customer.pk).version == 2


def test_update_with_nothing_changed_writes_nothing(merchant):
    customer = make_customer(merchant, name="Same")
    update(customer, name="Same")
    assert Customer.objects.get(pk=customer.pk).version == 1
    assert CustomerEvent.objects.filter(customer_id=customer.pk).count() == 1


def test_update_cannot_leave_neither_email_nor_phone(merchant):
    customer = make_customer(merchant, email="a@example.com")
    with pytest.raises(ValidationError) as error:
        update(customer, email="")
    assert error.value.message_dict == {
        "email": ["Give an email address or a phone number (or both)."]
    }
    assert Customer.objects.get(pk=customer.pk).email == "a@example.com"


def test_update_with_stale_version_fails_and_changes_nothing(merchant):
    customer = make_customer(merchant, name="Before")
    update(Customer.objects.get(pk=customer.pk), name="Concurrent")
    with pytest.raises(StaleVersion):
        update(customer, expected_version=1, name="Stale")
    assert Customer.objects.get(pk=customer.pk).name == "Concurrent"


def test_update_with_current_version_succeeds(merchant):
    customer = make_customer(merchant)
    assert update(customer, expected_version=1, name="Fresh").version == 2


def test_status_change_is_recorded_as_such(merchant):
    customer = make_customer(merchant)
    customer_set_status(customer=customer, status="blocked", actor="user:ops", source="admin")
    event = CustomerEvent.objects.filter(customer_id=customer.pk).latest("created_at")
    assert (event.action, event.changes) == ("status_changed", {"status": ["active", "blocked"]})
    assert Customer.objects.get(pk=customer.pk).status == "blocked"


def test_delete_removes_the_customer_and_keeps_its_history(merchant):
    customer = make_customer(merchant, name="Gone")
    customer_delete(customer=customer, actor="user:ops", source="api")
    assert not Customer.objects.filter(pk=customer.pk).exists()
    actions = list(
        CustomerEvent.objects.filter(customer_id=customer.pk)
        .order_by("number")
        .values_list("action", flat=True)
    )
    assert actions == ["created", "deleted"]


def test_second_delete_finds_nothing(merchant):
    customer = make_customer(merchant)
    customer_delete(customer=customer, actor="x", source="api")
    with pytest.raises(CustomerNotFound):
        customer_delete(customer=customer, actor="x", source="api")


def test_updating_a_customer_deleted_meanwhile_is_customer_not_found(merchant):
    customer = make_customer(merchant, name="Before")
    customer_delete(customer=Customer.objects.get(pk=customer.pk), actor="x", source="api")
    with pytest.raises(CustomerNotFound):
        update(customer, name="After")
    with pytest.raises(CustomerNotFound):
        update(customer, expected_version=1, name="After")
    events = CustomerEvent.objects.filter(customer_id=customer.pk).order_by("number")
    assert list(events.values_list("action", flat=True)) == ["created", "deleted"]


def test_delete_with_stale_version_fails_and_keeps_the_customer(merchant):
    customer = make_customer(merchant)
    update(Customer.objects.get(pk=customer.pk), name="Changed")
    with pytest.raises(StaleVersion):
        customer_delete(customer=customer, actor="x", source="api", expected_version=1)
    assert Customer.objects.filter(pk=customer.pk).exists()


@pytest.fixture
def race(monkeypatch):
    """The window between validation and insert: another request's row lands in between, so
    only the database constraint can refuse the duplicate."""
    monkeypatch.setattr(Customer, "validate_constraints", lambda self, exclude=None: None)


def test_duplicate_email_lost_race_becomes_a_duplicate_error_on_email(merchant, race):
    make_customer(merchant, email="race@example.com")
    with pytest.raises(ValidationError) as error:
        customer_create(
            merchant=merchant, actor="x", source="api", name="B", email="RACE@example.com"
        )
    assert error.value.message_dict == {"email": ["A customer with this email already exists."]}
    assert error.value.error_dict["email"][0].code == "duplicate"
    assert Customer.objects.count() == 1


def test_duplicate_reference_lost_race_becomes_a_duplicate_error_on_reference(merchant, race):
    make_customer(merchant, reference="R-1")
    with pytest.raises(ValidationError) as error:
        customer_create(
            merchant=merchant, actor="x", source="api", name="B", email="b@x.sn", reference="R-1"
        )
    assert error.value.message_dict == {
        "reference": ["A customer with this reference already exists."]
    }


def test_update_lost_race_becomes_a_duplicate_error(merchant, race):
    make_customer(merchant, email="taken@example.com")
    customer = make_customer(merchant, email="free@example.com")
    with pytest.raises(ValidationError) as error:
        update(customer, email="taken@example.com")
    assert error.value.message_dict == {"email": ["A customer with this email already exists."]}


def test_api_key_secret_is_stored_only_as_a_hash(merchant):
    api_key, raw_key = api_key_create(merchant=merchant, name="Backend")
    secret = raw_key.split("_", 2)[2]
    assert raw_key.startswith(f"ck_{api_key.prefix}_")
    assert len(api_key.prefix) == 8
    assert secret not in api_key.secret_hash
    assert api_key.secret_hash == api_key.hash_secret(secret)


def test_api_key_authenticates_and_records_its_use(merchant):
    api_key, raw_key = api_key_create(merchant=merchant, name="Backend")
    assert api_key_authenticate(raw_key) == api_key
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [lambda k: k + "x", lambda k: k[:-1], lambda k: "ck_00000000_x", str.upper, lambda k: ""],
)
def test_wrong_api_key_does_not_authenticate(merchant, mangle):
    _, raw_key = api_key_create(merchant=merchant, name="Backend")
    assert api_key_authenticate(mangle(raw_key)) is None


def test_api_key_with_a_malformed_prefix_is_refused_before_any_lookup(merchant):
    with CaptureQueriesContext(connection) as queries:
        assert api_key_authenticate("ck_\x00\x00\x00\x00\x00\x00\x00\x00_secret") is None
        assert api_key_authenticate("ck_ABCDEFGH_secret") is None
    assert len(queries) == 0


def test_new_customer_was_updated_when_it_was_created(merchant):
    customer = make_customer(merchant)
    customer.refresh_from_db()
    assert customer.updated_at == customer.created_at


def test_revoked_api_key_does_not_authenticate(merchant):
    api_key, raw_key = api_key_create(merchant=merchant, name="Backend")
    api_key_revoke(api_key=api_key)
    assert api_key_authenticate(raw_key) is None


def test_api_key_scopes_must_be_known(merchant):
    with pytest.raises(ValidationError) as error:
        api_key_create(merchant=merchant, name="Bad", scopes=["customers:admin"])
    assert error.value.message_dict == {
        "scopes": ["Choose scopes among customers:read, customers:write, webhooks:manage."]
    }
