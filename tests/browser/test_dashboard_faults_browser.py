"""What a new staff member sees and where the keyboard focus goes, in a real browser: a refused
form, the list's filters, logging out, and the admin's customer form."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# --- a refused form: the focus goes to what is wrong -----------------------------------------


def test_a_refused_new_customer_puts_the_focus_on_the_error_summary(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    page.goto("/customers/new/")
    page.get_by_label("Name", exact=True).fill("Awa Ndiaye")
    page.get_by_label("Email").fill("awa@@example")
    page.get_by_role("button", name="Create customer").click()

    summary = page.get_by_role("alert")
    expect(summary).to_have_text("Please correct the highlighted fields below.")
    expect(summary).to_be_focused()
    page.keyboard.press("Tab")  # on to the form, from the top
    expect(page.get_by_label("Type", exact=True)).to_be_focused()


def test_a_refused_edit_puts_the_focus_on_the_error_summary(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    customer = make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    page.goto(f"/customers/{customer.pk}/edit/")
    page.get_by_label("Email").fill("")
    page.get_by_role("button", name="Save changes").click()

    summary = page.get_by_role("alert")
    expect(summary).to_have_text("Please correct the highlighted fields below.")
    expect(summary).to_be_focused()


def test_a_refused_api_key_puts_the_focus_on_the_error_summary(page, log_in, merchant):
    log_in(make_user(merchant, group="Manager"))
    page.goto("/api-keys/new/")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_role("checkbox").first.uncheck()
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("alert")).to_be_focused()


def test_a_form_that_is_accepted_leaves_the_focus_alone(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    page.goto("/customers/new/")

    expect(page.get_by_role("alert")).to_have_count(0)
    assert page.evaluate("document.activeElement === document.body")


def test_a_refused_form_is_corrected_without_javascript(browser, live_server, merchant):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        make_user(merchant, group="Editor", username="eddie", password="a-long-passphrase")
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("eddie")
        page.get_by_label("Password").fill("a-long-passphrase")
        page.get_by_role("button", name="Log in").click()
        page.goto("/customers/new/")
        page.get_by_label("Name", exact=True).fill("Awa Ndiaye")
        page.get_by_label("Email").fill("awa@@example")
        page.get_by_role("button", name="Create customer").click()

        expect(page.get_by_role("alert")).to_have_text(
            "Please correct the highlighted fields below."
        )
        page.get_by_label("Email").fill("awa@example.com")
        page.get_by_role("button", name="Create customer").click()

        expect(page.get_by_role("status")).to_have_text("Customer “Awa Ndiaye” created.")
        assert Customer.objects.get().email == "awa@example.com"
    finally:
        context.close()


# --- the list: paging is not filtering -------------------------------------------------------


def test_a_page_size_is_not_a_filter_but_a_search_is(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    make_customer(merchant, name="Binta Sow", email="binta@example.com")
    page.goto("/customers/")
    page.get_by_label("Per page").select_option("50")
    page.get_by_role("button", name="Show").click()

    expect(page).to_have_url(re.compile(r"\?limit=50$"))
    expect(page.locator(".subtitle")).to_have_text("2 customers")
    expect(page.get_by_role("link", name="Clear")).to_have_count(0)

    page.get_by_label("Search").fill("Ada")
    page.get_by_role("button", name="Filter", exact=True).click()

    expect(page.locator(".subtitle")).to_have_text("1 customer matches these filters")
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.locator(".subtitle")).to_have_text("2 customers")


# --- logging out ---------------------------------------------------------------------------


def test_logging_out_says_so(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    page.goto("/customers/")

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("status")).to_have_text("You have been logged out.")
    page.reload()
    expect(page.get_by_role("status")).to_have_count(0)


# --- the admin's customer form ---------------------------------------------------------------


def test_the_admin_adds_a_customer_to_a_members_only_merchant(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    page.goto("/admin/customers/customer/add/")

    expect(page.get_by_label("Merchant")).to_have_count(0)
    expect(page.get_by_role("heading", name="Record")).to_have_count(0)
    expect(page.get_by_text("Created at")).to_have_count(0)
    page.get_by_label("Name:", exact=True).fill("Awa Ndiaye")
    page.get_by_label("Email").fill("awa@example.com")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    customer = Customer.objects.get()
    assert (customer.name, customer.merchant) == ("Awa Ndiaye", merchant)
    page.goto(f"/admin/customers/customer/{customer.pk}/change/")
    expect(page.get_by_role("heading", name="Record")).to_be_visible()
    expect(page.get_by_text(str(customer.pk))).to_be_visible()


def test_the_admin_edits_address_lines_and_typed_metadata(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    customer = make_customer(
        merchant, name="Amadou Ba", email="amadou@example.com", metadata={"tier": "gold"}
    )
    reported = []
    page.on("console", lambda message: reported.append(message.text))
    page.goto(f"/admin/customers/customer/{customer.pk}/change/")

    expect(page.get_by_label("Key 1")).to_have_value("tier")
    expect(page.get_by_label("Value 1")).to_have_value("gold")
    page.get_by_label("City").fill("Dakar")
    page.get_by_label("Postal code").fill("10200")
    page.get_by_label("Key 2").fill("orders")
    page.get_by_label("Type 2").select_option(label="Number")
    page.get_by_label("Value 2").fill("12")
    page.get_by_label("Key 3").fill("vip")
    page.get_by_label("Type 3").select_option(label="True / false")
    page.get_by_label("Value 3").fill("true")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    customer.refresh_from_db()
    assert customer.address == {"city": "Dakar", "postal_code": "10200"}
    assert customer.metadata == {"tier": "gold", "orders": 12, "vip": True}
    expect(page.get_by_label("City")).to_have_value("Dakar")
    expect(page.get_by_label("Key 4")).to_have_value("")  # room for another key
    shown = page.locator(".kv-table tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.querySelectorAll('input, select')].map(i => i.value))"
    )
    # PostgreSQL's jsonb keeps keys in its own order.
    assert sorted(shown[:3]) == [
        ["orders", "number", "12"],
        ["tier", "text", "gold"],
        ["vip", "boolean", "true"],
    ]
    # Laid out by the admin's stylesheet: the lines side by side, not stacked.
    city, state = (
        page.get_by_label("City").bounding_box(),
        page.get_by_label("State").bounding_box(),
    )
    assert city and state and city["y"] == state["y"] and city["x"] < state["x"]
    assert not [text for text in reported if "Content Security Policy" in text]
