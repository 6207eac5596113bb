"""The dashboard speaks the merchant's time zone, with UTC on hover; the API speaks UTC."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.models import Customer
from tests.factories import make_api_key, make_customer, make_user

pytestmark = pytest.mark.django_db

NOON_UTC = datetime.datetime(2026, 6, 5, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def lagos(merchant):
    merchant.time_zone = "Africa/Lagos"  # UTC+1, "WAT"
    merchant.save(update_fields=["time_zone"])
    return merchant


def a_customer_created_at_noon_utc(merchant):
    customer = make_customer(merchant, name="Ada Diallo")
    Customer.objects.filter(pk=customer.pk).update(created_at=NOON_UTC, updated_at=NOON_UTC)
    return customer


def test_times_are_shown_in_the_merchants_zone_with_utc_on_hover(client, lagos):
    customer = a_customer_created_at_noon_utc(lagos)
    client.force_login(make_user(lagos, group="Viewer"))

    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert (
        '<time datetime="2026-06-05T12:00:00Z" title="5 Jun 2026, 12:00 UTC">'
        "5 Jun 2026, 13:00 WAT</time>"
    ) in body
    assert "times in Africa/Lagos" in body
    listed = client.get(reverse("customers:list")).content.decode()
    assert 'title="5 Jun 2026, 12:00:00 UTC">5 Jun 2026</time>' in listed


def test_a_new_merchant_reads_utc(client, merchant):
    customer = a_customer_created_at_noon_utc(merchant)
    client.force_login(make_user(merchant, group="Viewer"))

    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "5 Jun 2026, 12:00 UTC</time>" in body
    assert "times in UTC" in body


def test_a_user_of_merchants_in_different_zones_reads_utc(client, lagos, other_merchant):
    other_merchant.time_zone = "Africa/Nairobi"
    other_merchant.save(update_fields=["time_zone"])
    customer = a_customer_created_at_noon_utc(lagos)
    client.force_login(make_user(lagos, other_merchant, group="Viewer"))

    body = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()

    assert "5 Jun 2026, 12:00 UTC</time>" in body


def test_the_api_speaks_utc_whatever_the_merchants_zone(client, lagos):
    customer = a_customer_created_at_noon_utc(lagos)
    _, key = make_api_key(lagos)

    response = client.get(f"/api/v1/customers/{customer.pk}", HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.json()["data"]["created_at"] == "2026-06-05T12:00:00.000Z"


def test_a_merchants_zone_must_be_a_known_iana_name(merchant):
    merchant.time_zone = "Mars/Olympus"
    with pytest.raises(ValidationError) as error:
        merchant.full_clean()
    assert error.value.message_dict == {
        "time_zone": [
            "Time zone 'Mars/Olympus' is not known; use an IANA name such as Africa/Dakar."
        ]
    }
