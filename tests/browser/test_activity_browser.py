"""The dashboard's Activity in a real browser: every change, from every door, filtered."""

import pytest
from playwright.sync_api import expect

from customers.services import customer_delete, customer_update
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_activity_shows_changes_from_every_door_and_filters_by_door(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    awa = make_customer(merchant, name="Awa Ndiaye")
    customer_update(customer=awa, actor="api_key:1a2b3c4d", source="api", data={"company": "X"})
    make_customer(merchant, name="Binta Diop")
    customer_delete(customer=awa, actor="user:vera", source="dashboard")

    page.goto("/customers/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Activity").click()

    rows = page.locator("tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_contain_text("Awa Ndiaye")
    expect(rows.first).to_contain_text("deleted")
    page.get_by_label("Door").select_option("api")
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Company")
    expect(rows.first).to_contain_text("1a2b3c4d")
