"""The dashboard's Activity: every change to the user's customers, from every door, deleted
customers included, filtered as the API's event feed is."""

import pytest
from django.urls import reverse

from customers.listing import KeysetPosition
from customers.models import CustomerEvent
from customers.services import customer_delete, customer_update
from customers.views import ActivityView
from tests.factories import make_customer, make_user

pytestmark = pytest.mark.django_db

URL = reverse("customers:activity")


def shown(response) -> list[tuple[str, str]]:
    return [(event.get_action_display(), event.source) for event in response.context["events"]]


def test_activity_lists_every_change_newest_first_deleted_customers_included(
    client, viewer, merchant
):
    awa = make_customer(merchant, name="Awa Ndiaye")
    customer_update(customer=awa, actor="api_key:1a2b3c4d", source="api", data={"company": "X"})
    customer_delete(customer=awa, actor="user:vera", source="dashboard")
    client.force_login(viewer)

    response = client.get(URL)

    assert response.status_code == 200
    assert shown(response) == [("Deleted", "dashboard"), ("Updated", "api"), ("Created", "admin")]
    assert "Awa Ndiaye" in response.text
    assert "deleted" in response.text
    assert reverse("customers:detail", args=[awa.pk]) not in response.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"source": "api"}, [("Updated", "api")]),
        ({"type": "customer.created"}, [("Created", "admin")]),
        ({"actor": "api_key:1a2b3c4d"}, [("Updated", "api")]),
        ({"created_before": "2000-01-01"}, []),
    ],
)
def test_activity_filters_as_the_event_feed_does(client, viewer, merchant, query, expected):
    awa = make_customer(merchant, name="Awa Ndiaye")
    customer_update(customer=awa, actor="api_key:1a2b3c4d", source="api", data={"company": "X"})
    client.force_login(viewer)

    response = client.get(URL, query)

    assert shown(response) == expected


def test_activity_shows_only_the_users_merchants(client, viewer, other_merchant):
    make_customer(other_merchant, name="Chidi Okafor")
    client.force_login(viewer)

    response = client.get(URL)

    assert response.context["events"] == []
    assert "Chidi" not in response.text


def test_activity_pages_to_older_changes_without_repeating_one(
    client, viewer, merchant, monkeypatch
):
    monkeypatch.setattr(ActivityView, "page_size", 2)
    for n in range(5):
        make_customer(merchant, name=f"Customer {n}")
    client.force_login(viewer)

    first = client.get(URL)
    second = client.get(URL, {"before": first.context["older"]})
    third = client.get(URL, {"before": second.context["older"]})

    seen = [e.pk for page in (first, second, third) for e in page.context["events"]]
    assert len(seen) == len(set(seen)) == 5
    assert third.context["older"] is None
    assert seen == list(
        CustomerEvent.objects.order_by("-created_at", "-id").values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"tpye": "x"}, "tpye: Unknown query parameter; did you mean type?"),
        ({"before": "forged"}, "before: This link is not valid; go back to the first page."),
    ],
)
def test_activity_names_what_it_cannot_use(client, viewer, merchant, query, problem):
    make_customer(merchant, name="Awa Ndiaye")
    client.force_login(viewer)

    response = client.get(URL, query)

    assert response.status_code == 400
    assert response.context["problems"] == [problem]
    assert response.context["events"] == []


def test_activity_needs_the_permission_to_view_customers(client, merchant):
    client.force_login(make_user(merchant, username="nobody"))

    assert client.get(URL).status_code == 403


@pytest.mark.parametrize("ordering", ["name", "status", "created_at"])
def test_activity_refuses_a_position_in_the_customers_list_as_its_link(
    client, viewer, merchant, ordering
):
    # Both lists sign their positions alike; a customers' cursor pasted in here is not one.
    customer = make_customer(merchant, name="Awa Ndiaye")
    client.force_login(viewer)

    response = client.get(URL, {"before": KeysetPosition.after_row(ordering, customer).encode()})

    assert response.status_code == 400
    assert response.context["problems"] == [
        "before: This link is not valid; go back to the first page."
    ]
