"""The dashboard in a real browser: what a staff member does, click by click."""

import csv
import io
import json
import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import make_api_key, make_customer, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_login_through_the_form(page, merchant):
    make_user(merchant, group="Viewer", username="vera", password="a-long-passphrase")
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/customers/$"))
    page.get_by_label("Username").fill("vera")
    page.get_by_label("Password").fill("a-long-passphrase")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_role("heading", name="Customers", level=1)).to_be_visible()
    expect(page.get_by_text("vera", exact=True)).to_be_visible()


def test_create_a_customer(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor", username="eddie"))
    page.goto("/customers/")
    page.get_by_role("link", name="New customer").click()
    page.get_by_label("Name", exact=True).fill("Awa Ndiaye")
    page.get_by_label("Email").fill("awa@example.com")
    page.get_by_label("Phone").fill("77 123 45 67")
    page.get_by_label("Country").select_option(label="Senegal")
    page.get_by_label("City").fill("Dakar")
    page.get_by_label("Key 1").fill("tier")
    page.get_by_label("Value 1").fill("gold")
    page.get_by_role("button", name="Create customer").click()

    expect(page.get_by_role("status")).to_have_text("Customer “Awa Ndiaye” created.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Awa Ndiaye")
    expect(page.get_by_text("+221 77 123 45 67").first).to_be_visible()
    customer = Customer.objects.get()
    assert (customer.phone, customer.country, customer.metadata) == (
        "+221771234567",
        "SN",
        {"tier": "gold"},
    )
    assert customer.address == {"city": "Dakar"}


def test_edit_with_an_invalid_email_then_a_valid_one(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    customer = make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    page.goto(f"/customers/{customer.pk}/edit/")
    email = page.get_by_label("Email")
    email.fill("ada@@example")
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator("#id_email_error")).to_have_text("Enter a valid email address.")
    expect(page.get_by_label("Email")).to_have_value("ada@@example")
    expect(page.get_by_label("Email")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Email").fill("ada.diallo@example.com")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Customer “Ada Diallo” saved.")
    expect(page.get_by_role("link", name="ada.diallo@example.com")).to_be_visible()
    customer.refresh_from_db()
    assert customer.email == "ada.diallo@example.com"


def test_filter_the_list_by_email_through_the_url(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    make_customer(merchant, name="Binta Sow", email="binta@example.com")
    page.goto("/customers/?email=ADA@example.com")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Ada Diallo")
    expect(page.get_by_label("Email")).to_have_value("ADA@example.com")
    expect(page.get_by_text("1 customer matches these filters")).to_be_visible()


def test_filter_form_keeps_the_filters_in_the_url(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Blocked Binta", status="blocked")
    make_customer(merchant, name="Active Ada")
    page.goto("/customers/")
    page.get_by_text("More filters").click()
    page.get_by_role("checkbox", name="Blocked", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"/customers/\?status=blocked$"))
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr").first).to_contain_text("Blocked Binta")


def test_the_status_filter_takes_several_statuses_as_the_api_does(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Blocked Binta", status="blocked")
    make_customer(merchant, name="Pending Paul", status="pending_kyc")
    make_customer(merchant, name="Active Ada")
    page.goto("/customers/")
    page.get_by_text("More filters").click()
    page.get_by_role("checkbox", name="Blocked", exact=True).check()
    page.get_by_role("checkbox", name="Pending KYC", exact=True).check()
    page.get_by_role("button", name="Apply filters").click()

    # One shareable link, in the API's own form.
    expect(page).to_have_url(re.compile(r"/customers/\?status=pending_kyc%2Cblocked$"))
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.get_by_role("checkbox", name="Blocked", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Pending KYC", exact=True)).to_be_checked()
    expect(page.get_by_role("checkbox", name="Active", exact=True)).not_to_be_checked()


def test_delete_through_the_confirmation(page, log_in, merchant):
    log_in(make_user(merchant, group="Manager"))
    customer = make_customer(merchant, name="Ada Diallo")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete customer")).to_be_visible()
    assert Customer.objects.filter(pk=customer.pk).exists()
    page.get_by_role("button", name="Delete customer").click()
    expect(page).to_have_url(re.compile(r"/customers/$"))
    expect(page.get_by_role("status")).to_have_text("Customer “Ada Diallo” deleted.")
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_block_with_a_reason_then_activate_from_the_detail_page(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    customer = make_customer(merchant, name="Ada Diallo")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_role("link", name="Block").click()
    page.get_by_role("button", name="Block customer").click()
    expect(page.get_by_role("alert")).to_be_focused()  # no reason given: said, and focused
    page.get_by_label("Reason").fill("Three chargebacks in a week")
    page.get_by_role("button", name="Block customer").click()
    expect(page.get_by_role("status")).to_have_text("Customer “Ada Diallo” blocked.")
    expect(page.locator("h1 .badge")).to_have_text("Blocked")
    expect(page.get_by_text("Status changed")).to_be_visible()
    expect(page.get_by_text("Reason: Three chargebacks in a week")).to_be_visible()
    page.get_by_role("button", name="Activate").click()
    expect(page.locator("h1 .badge")).to_have_text("Active")


HOSTILE_NAME = '<script>window.__owned = 1; alert("name")</script>'
HOSTILE_NOTE = '<img src=x onerror="window.__owned = 2; alert(1)">'


def test_hostile_name_and_metadata_render_as_text_and_run_nothing(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    customer = make_customer(
        merchant,
        name=HOSTILE_NAME,
        email="x@example.com",
        metadata={"note": HOSTILE_NOTE, "svg": "<svg onload=alert(3)>"},
    )
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto("/customers/")
    expect(page.get_by_role("link", name=HOSTILE_NAME)).to_be_visible()
    assert page.evaluate("window.__owned") is None

    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(HOSTILE_NAME)
    expect(page.get_by_role("cell", name=HOSTILE_NOTE)).to_be_visible()
    expect(page.get_by_role("cell", name="<svg onload=alert(3)>")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("window.__owned") is None
    assert page.locator("main img, main svg").count() == 0
    assert dialogs == []
    assert errors == []


def test_viewer_sees_no_write_buttons_and_gets_403_posting_anyway(page, log_in, merchant):
    log_in(make_user(merchant, group="Viewer"))
    customer = make_customer(merchant, name="Ada Diallo")
    page.goto(f"/customers/{customer.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ada Diallo")
    for name in ("Edit", "Delete", "Block", "New customer"):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(page.get_by_role("button", name=name, exact=True)).to_have_count(0)

    # Post the block form anyway, as a crafted page would, with a valid CSRF token.
    token = page.locator("input[name=csrfmiddlewaretoken]").first.get_attribute("value")
    page.evaluate(
        """([action, token]) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = action;
            for (const [name, value] of [["csrfmiddlewaretoken", token], ["status", "blocked"]]) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.append(input);
            }
            document.body.append(form);
            form.submit();
        }""",
        [f"/customers/{customer.pk}/status/", token],
    )
    expect(page.get_by_role("heading", name="You may not do that")).to_be_visible()
    response = page.request.post(
        f"/customers/{customer.pk}/delete/", form={"csrfmiddlewaretoken": token}
    )
    assert response.status == 403
    customer.refresh_from_db()
    assert customer.status == "active"


def test_export_csv_returns_exactly_the_filtered_rows(page, log_in, merchant, other_merchant):
    log_in(make_user(merchant, group="Viewer"))
    make_customer(merchant, name="Blocked Binta", status="blocked")
    make_customer(merchant, name="Blocked Bakary", status="blocked", phone="+221771110000")
    make_customer(merchant, name="Active Ada")
    make_customer(other_merchant, name="Blocked Elsewhere", status="blocked")
    page.goto("/customers/?status=blocked&ordering=name")
    expect(page.locator("tbody tr")).to_have_count(2)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"customers-\d{8}-\d{6}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as file:
        rows = list(csv.DictReader(io.StringIO(file.read())))
    assert [row["name"] for row in rows] == ["Blocked Bakary", "Blocked Binta"]
    assert {row["status"] for row in rows} == {"blocked"}


def test_pages_work_without_javascript(browser, live_server, merchant):
    make_user(merchant, group="Editor", username="nojs", password="a-long-passphrase")
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    make_customer(merchant, name="Binta Sow", email="binta@example.com")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("nojs")
        page.get_by_label("Password").fill("a-long-passphrase")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
        page.get_by_label("Search").fill("binta")
        page.get_by_role("button", name="Filter", exact=True).click()
        expect(page).to_have_url(re.compile(r"/customers/\?search=binta$"))
        expect(page.locator("tbody tr")).to_have_count(1)
        page.get_by_role("link", name="Binta Sow").click()
        page.get_by_role("link", name="Block").click()
        page.get_by_label("Reason").fill("Suspected fraud")
        page.get_by_role("button", name="Block customer").click()
        expect(page.get_by_role("status")).to_have_text("Customer “Binta Sow” blocked.")
        page.get_by_role("button", name="Log out").click()
        expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    finally:
        context.close()


def test_key_created_on_the_api_keys_page_works_against_the_api(
    page, log_in, live_server, merchant, other_merchant
):
    log_in(make_user(merchant, group="Manager"))
    make_customer(merchant, name="Ada Diallo", email="ada@example.com")
    make_customer(other_merchant, name="Elsewhere", email="else@example.com")
    page.goto("/api-keys/")
    page.get_by_role("link", name="New API key").click()
    page.get_by_label("Name").fill("Checkout back-end")
    page.get_by_label("customers:write").check()
    page.get_by_role("button", name="Create key").click()

    secret = page.locator("#api-key-secret").inner_text().strip()
    assert re.fullmatch(r"ck_[0-9a-f]{8}_\S+", secret)
    expect(page.get_by_role("button", name="Copy")).to_be_visible()

    request = urllib.request.Request(
        f"{live_server.url}/api/v1/customers", headers={"Authorization": f"Bearer {secret}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert [customer["name"] for customer in body["data"]] == ["Ada Diallo"]

    page.get_by_role("link", name="Done").click()
    row = page.locator("tbody tr", has_text="Checkout back-end")
    expect(row).to_contain_text("customers:read")
    expect(row).to_contain_text("customers:write")
    expect(row).not_to_contain_text("Never")  # the call above is its last use
    assert secret not in page.content()

    row.get_by_role("link", name="Revoke").click()
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("status")).to_have_text("API key “Checkout back-end” revoked.")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_slash_goes_to_the_search_and_copy_buttons_copy_the_id_email_and_phone(
    page, context, log_in, merchant
):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(make_user(merchant, group="Viewer"))
    customer = make_customer(
        merchant, name="Ada Diallo", email="ada@example.com", phone="+221771234567"
    )
    page.goto("/customers/")
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("ada/")  # typed in the box, "/" is only a character there
    expect(page.get_by_label("Search")).to_have_value("ada/")

    page.goto(f"/customers/{customer.pk}/")
    for name, copied in [
        ("Copy the ID", str(customer.pk)),
        ("Copy the email", "ada@example.com"),
        ("Copy the phone number", "+221771234567"),
    ]:
        button = page.get_by_role("button", name=name)
        source = button.get_attribute("data-copy")
        button.click()
        expect(page.locator(f'[data-copy="{source}"]')).to_have_accessible_name("Copied")
        assert page.evaluate("navigator.clipboard.readText()") == copied


def test_bulk_block_of_two_selected_rows_after_confirmation(page, log_in, merchant):
    log_in(make_user(merchant, group="Editor"))
    ada = make_customer(merchant, name="Ada Diallo")
    make_customer(merchant, name="Binta Sow")
    make_customer(merchant, name="Coumba Fall")
    page.goto("/customers/?ordering=name")
    bar = page.get_by_role("form", name="Selected customers")
    expect(bar).to_contain_text("Tick customers, then:")
    select_all = page.get_by_role("checkbox", name="Select all on this page")
    select_all.check()  # dashboard.js ticks every row, and clears them
    expect(page.get_by_role("checkbox", name="Select Coumba Fall")).to_be_checked()
    expect(bar).to_contain_text("3 customers selected:")
    select_all.uncheck()
    page.get_by_role("checkbox", name="Select Ada Diallo").check()
    expect(bar).to_contain_text("1 customer selected:")
    page.get_by_role("checkbox", name="Select Binta Sow").check()
    expect(bar).to_contain_text("2 customers selected:")
    page.get_by_role("button", name="Block selected").click()

    expect(page.get_by_role("heading", name="Block 2 customers")).to_be_visible()
    page.get_by_label("Reason").fill("Chargebacks from one card")
    page.get_by_role("button", name="Block 2 customers").click()

    expect(page).to_have_url(re.compile(r"/customers/\?ordering=name$"))
    expect(page.get_by_role("status")).to_have_text("2 customers blocked.")
    rows = page.locator("tbody tr")
    expect(rows.filter(has_text="Blocked")).to_have_count(2)
    expect(rows.filter(has_text="Coumba Fall")).to_contain_text("Active")
    page.get_by_role("link", name="Ada Diallo").click()
    expect(page).to_have_url(re.compile(rf"/customers/{ada.pk}/$"))
    expect(page.get_by_text("Reason: Chargebacks from one card")).to_be_visible()


def test_the_overview_counts_match_the_apis_totals_and_its_chart_is_drawn(
    page, log_in, merchant, live_server
):
    for fields in [
        dict(country="SN"),
        dict(country="SN", type="business", status="blocked"),
        dict(country="NG", status="pending_kyc"),
        dict(country="NG", type="business"),
        dict(country="GH", status="inactive"),
        dict(),
    ]:
        make_customer(merchant, **fields)
    key = make_api_key(merchant)[1]

    def api_total(query: str) -> int:
        request = urllib.request.Request(
            f"{live_server.url}/api/v1/customers?limit=1&{query}".rstrip("&"),
            headers={"Authorization": f"Bearer {key}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["meta"]["total"]

    log_in(make_user(merchant, group="Viewer"))
    page.goto("/")

    subtitle = page.locator(".page-header .subtitle")
    expect(subtitle).to_contain_text(f"{api_total('')} customers")
    for table, parameter in [("status", "status"), ("type", "type"), ("country", "country")]:
        rows = page.get_by_role("table", name=f"Customers by {table}").locator("tbody tr")
        shown = {}
        for row in rows.all():
            link = row.get_by_role("link")
            if link.count():
                value = link.get_attribute("href").rpartition(f"{parameter}=")[2]
                shown[value] = int(row.locator("td.num").inner_text())
        assert shown, table
        assert shown == {value: api_total(f"{parameter}={value}") for value in shown}, table
    assert set(shown) == {"SN", "NG", "GH"}

    # The chart: a bar per day, today's as tall as six customers make it, none wider than its day.
    chart = page.get_by_role("img", name=re.compile("New customers per day"))
    expect(chart).to_be_visible()
    heights = chart.locator("rect.chart-bar").evaluate_all(
        "(bars) => bars.map((bar) => bar.getBoundingClientRect().height)"
    )
    assert len(heights) == 90
    assert heights[-1] > 0 and max(heights) == heights[-1]
    assert sum(1 for height in heights if height > 0) == 1
