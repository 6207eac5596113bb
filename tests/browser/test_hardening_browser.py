"""Where the admin and the dashboard must hold as firmly as the API, in a real browser: a save
over someone else's change, what the API accepts, unstorable input, a parameter the list does
not know, a phone searched as it is shown."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from customers.models import Customer
from customers.services import customer_update
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", "root@example.com", "a-long-passphrase")


def test_the_admin_refuses_to_save_over_a_change_made_meanwhile(page, log_in, merchant, superuser):
    log_in(superuser)
    customer = make_customer(merchant, name="Amadou Ba", email="amadou@example.com")
    page.goto(f"/admin/customers/customer/{customer.pk}/change/")
    # Someone renames the customer (through the API, say) while the form is open.
    customer_update(
        customer=customer, actor="api_key:test", source="api", data={"name": "Amadou Bâ"}
    )

    page.get_by_label("Description").fill("VIP since 2024")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errornote, .errorlist.nonfield")).to_contain_text(
        ["Someone else changed this customer while you were editing it."]
    )
    customer.refresh_from_db()
    assert (customer.name, customer.description) == ("Amadou Bâ", "")


def test_the_admin_refuses_unstorable_metadata_with_a_message(page, log_in, merchant, superuser):
    log_in(superuser)
    customer = make_customer(merchant, name="Amadou Ba", email="amadou@example.com")
    page.goto(f"/admin/customers/customer/{customer.pk}/change/")

    page.get_by_label("Key 1").fill("n")
    page.get_by_label("Type 1").select_option("number")
    page.get_by_label("Value 1").fill("9" * 400)
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".errorlist").first).to_contain_text(
        "Metadata number of 'n' is out of range"
    )
    expect(page.get_by_label("Value 1")).to_have_value("9" * 400)
    page.get_by_label("Type 1").select_option("text")
    page.get_by_label("Value 1").fill("a\x00b")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist").first).to_contain_text("Null characters are not allowed.")
    assert Customer.objects.get().metadata == {}


def test_the_admin_filters_by_active_as_the_api_does(page, log_in, merchant, superuser):
    log_in(superuser)
    make_customer(merchant, name="Awa Active", email="awa@example.com")
    make_customer(merchant, name="Bintou Blocked", email="bintou@example.com", status="blocked")
    page.goto("/admin/customers/customer/")

    page.locator("#changelist-filter").get_by_role("link", name="Not active").click()

    expect(page.locator("#result_list")).to_contain_text("Bintou Blocked")
    expect(page.locator("#result_list")).not_to_contain_text("Awa Active")


def test_the_dashboard_refuses_a_nul_in_metadata_and_keeps_what_was_typed(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    customer = make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    page.goto(f"/customers/{customer.pk}/edit/")
    page.get_by_label("Key 1").fill("n")
    page.get_by_label("Type 1").select_option("number")
    page.get_by_label("Value 1").fill("9" * 400)
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("Metadata number of 'n' is out of range")
    expect(page.get_by_label("Value 1")).to_have_value("9" * 400)


def test_the_dashboard_names_a_parameter_it_does_not_know(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")

    page.goto("/customers/?emial=ada@example.com")

    expect(page.get_by_role("alert")).to_contain_text(
        "emial: Unknown query parameter; did you mean email?"
    )
    expect(page.get_by_text("Ada Diallo")).to_have_count(0)


def test_the_dashboard_finds_a_phone_searched_as_it_is_shown(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Ada Diallo", phone="+221771234567")
    make_customer(merchant, name="Chidi Okafor", phone="+2348031234567")
    page.goto("/customers/")
    shown = "+221 77 123 45 67"  # as the list shows it
    expect(page.locator("td .nowrap", has_text=shown)).to_be_visible()

    page.get_by_label("Search").fill(shown)
    page.get_by_role("button", name="Filter", exact=True).click()

    expect(page).to_have_url(re.compile(r"search=%2B221"))
    expect(page.get_by_role("link", name="Ada Diallo")).to_be_visible()
    expect(page.get_by_role("link", name="Chidi Okafor")).to_have_count(0)
