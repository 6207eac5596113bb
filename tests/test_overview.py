"""The overview at ``/``: the user's customers by status, type and country, new customers per
day as a chart with its numbers, recent changes and webhook health."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from customers.models import Customer
from tests.factories import make_customer, make_user
from webhooks.models import WebhookDelivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


def overview(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


def bars(response, name) -> dict[str, int]:
    return {bar.label: bar.count for bar in response.context[name]}


def test_the_overview_counts_the_users_customers_by_status_type_and_country(
    client, viewer, merchant, other_merchant
):
    make_customer(merchant, country="SN")
    make_customer(merchant, country="SN", type="business", status="blocked")
    make_customer(merchant, country="NG", status="pending_kyc")
    make_customer(merchant)
    make_customer(other_merchant, country="GH")

    response = overview(client, viewer)

    assert response.context["total"] == 4
    assert bars(response, "statuses") == {
        "Pending KYC": 1,
        "Active": 2,
        "Inactive": 0,
        "Blocked": 1,
    }
    assert bars(response, "types") == {"Individual": 3, "Business": 1}
    assert bars(response, "countries") == {"Senegal": 2, "Nigeria": 1, "No country": 1}
    body = response.content.decode()
    assert 'href="/customers/?status=blocked"' in body
    assert 'href="/customers/?country=SN"' in body
    assert "Ghana" not in body


def test_countries_past_the_first_eight_are_summed(client, viewer, merchant):
    for n, country in enumerate(["SN", "NG", "GH", "KE", "CI", "ML", "BF", "TG", "BJ", "NE"]):
        for _ in range(10 - n):
            make_customer(merchant, country=country)

    countries = bars(overview(client, viewer), "countries")

    assert list(countries)[-1] == "Other countries"
    assert countries["Other countries"] == 2 + 1  # Benin and Niger
    assert len(countries) == 9


def test_new_customers_per_day_cover_ninety_days_with_their_numbers(client, viewer, merchant):
    today = timezone.now()
    for days_ago, how_many in [(0, 3), (1, 1), (89, 2), (90, 5)]:
        for _ in range(how_many):
            customer = make_customer(merchant)
            Customer.objects.filter(pk=customer.pk).update(
                created_at=today - timedelta(days=days_ago)
            )

    response = overview(client, viewer)

    days = response.context["days"]
    assert len(days) == 90
    assert [day["count"] for day in days][-2:] == [1, 3]
    assert days[0]["count"] == 2  # 89 days ago; 90 days ago is outside
    assert response.context["new_in_period"] == 6
    assert days[-1]["height"] == response.context["chart_height"]  # the busiest day is full
    body = response.content.decode()
    assert body.count('class="chart-bar"') == 90
    assert re.search(
        r'role="img"\s+aria-labelledby="new-customers-title new-customers-summary"', body
    )
    assert "The numbers, day by day" in body  # the table behind the chart, without JavaScript


def test_the_aggregates_are_cached_briefly_and_the_counters_are_live(
    client, viewer, merchant, django_assert_max_num_queries
):
    make_customer(merchant, country="SN")
    overview(client, viewer)
    make_customer(merchant, country="SN", status="blocked")

    response = overview(client, viewer)

    assert response.context["total"] == 2  # counters: exact at once
    assert bars(response, "countries") == {"Senegal": 1}  # aggregate: cached for a minute
    cache.clear()
    assert bars(overview(client, viewer), "countries") == {"Senegal": 2}


def test_the_overview_costs_a_fixed_number_of_queries(
    client, viewer, merchant, django_assert_max_num_queries
):
    for n in range(30):
        make_customer(merchant, country="SN" if n % 2 else "NG")
    client.force_login(viewer)
    with django_assert_max_num_queries(10):
        assert client.get("/").status_code == 200


def test_recent_activity_lists_the_latest_changes(client, viewer, merchant):
    make_customer(merchant, name="Awa Ndiaye")
    body = overview(client, viewer).content.decode()
    assert "Awa Ndiaye" in body
    assert "created" in body


def test_webhook_health_is_shown_to_those_who_may_see_endpoints(client, merchant):
    manager = make_user(merchant, group="Manager")
    endpoint_create(merchant=merchant, actor="user:tests", url="http://127.0.0.1:9/hook")
    make_customer(merchant)
    make_customer(merchant)
    WebhookDelivery.objects.filter(pk=WebhookDelivery.objects.first().pk).update(status="failed")

    health = overview(client, manager).context["webhooks"]
    assert (health.enabled, health.disabled, health.pending, health.failed_recently) == (
        1,
        0,
        1,
        1,
    )
    assert overview(client, make_user(merchant, group="Viewer")).context["webhooks"] is None


def test_the_overview_needs_login_and_the_permission_to_view_customers(client, merchant):
    assert client.get("/").status_code == 302
    client.force_login(make_user(merchant))
    assert client.get("/").status_code == 403
