"""The Content-Security-Policy in a real browser: the dashboard, the admin and the API docs work
under it without a single violation reported, and it refuses what it is there to refuse."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_customer, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation also raises a DOM event; the page reports each one to the console, so that a
# violation the browser itself would report only in its own log is caught as well.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@pytest.fixture
def violations(page):
    """The console's messages about the Content-Security-Policy, as the test goes."""
    page.add_init_script(REPORT_VIOLATIONS)
    reported = []

    def on_console(message):
        if re.search(r"Content Security Policy|CSP violation", message.text):
            reported.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: reported.append(f"page error: {error}"))
    return reported


def visit(page, path: str):
    """Open ``path`` under the policy and let its scripts run."""
    response = page.goto(path)
    assert response is not None and response.ok, path
    assert "default-src 'self'" in response.headers["content-security-policy"], path
    page.wait_for_load_state("load")
    return response


@pytest.fixture
def customer(merchant):
    return make_customer(
        merchant, name="Awa Diop", email="awa@example.com", metadata={"tier": "gold"}
    )


def test_the_dashboard_runs_under_the_policy(page, log_in, merchant, customer, violations):
    log_in(make_user(merchant, group="Manager"))

    visit(page, "/")
    expect(page.get_by_role("img", name=re.compile("New customers per day"))).to_be_visible()
    page.get_by_text("The numbers, day by day").click()
    expect(page.get_by_role("table", name="New customers per day")).to_be_visible()
    visit(page, "/customers/")
    expect(page.get_by_role("link", name="Awa Diop")).to_be_visible()
    visit(page, f"/customers/{customer.pk}/")
    expect(page.get_by_role("cell", name="gold")).to_be_visible()
    visit(page, f"/customers/{customer.pk}/edit/")
    page.get_by_label("Email").fill("awa.diop@example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Customer “Awa Diop” saved.")
    visit(page, "/api-keys/new/")
    page.get_by_label("Name").fill("Checkout")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # shown by dashboard.js

    assert violations == []


def test_the_login_page_runs_under_the_policy(page, violations):
    visit(page, "/accounts/login/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()

    assert violations == []


def test_the_admin_runs_under_the_policy(page, log_in, merchant, customer, violations):
    log_in(make_user(merchant, is_superuser=True))

    visit(page, "/admin/")
    expect(page.get_by_role("link", name="Customers").first).to_be_visible()
    visit(page, "/admin/customers/customer/")
    page.get_by_role("checkbox").first.check()  # the actions' "select all", admin's script
    expect(page.get_by_text(re.compile(r"1 of 1 selected"))).to_be_visible()
    visit(page, f"/admin/customers/customer/{customer.pk}/change/")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    visit(page, "/admin/customers/customer/add/")
    visit(page, "/admin/auth/user/")

    assert violations == []


def test_the_api_docs_run_under_the_policy(page, violations):
    visit(page, "/api/docs")
    expect(page.get_by_role("heading", name=re.compile("Customers API"))).to_be_visible()
    page.get_by_text("List customers").click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    expect(page.locator(".live-responses-table").get_by_text("401").first).to_be_visible()

    assert violations == []


def test_the_browsable_api_runs_under_the_policy(page, log_in, merchant, customer, violations):
    log_in(make_user(merchant, is_superuser=True))

    visit(page, f"/api/v1/customers/{customer.pk}")
    expect(page.get_by_text('"name": "Awa Diop"')).to_be_visible()

    assert violations == []


def test_the_policy_refuses_a_script_slipped_into_a_page(page, log_in, merchant, violations):
    log_in(make_user(merchant, group="Viewer"))
    visit(page, "/customers/")

    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate(
            """() => {
              const script = document.createElement("script");
              script.textContent = "window.__ran = true";
              document.body.append(script);
            }"""
        )

    assert page.evaluate("window.__ran") is None
    assert any("script-src" in message for message in violations)
