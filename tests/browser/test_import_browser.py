"""The Import page in a real browser: an Editor uploads a file, reviews it, starts it, and
watches the progress page reach the summary while a worker runs the task."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import make_user
from tests.test_webhooks_delivery import run_worker

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_editor_imports_a_file_and_the_progress_page_reaches_done(
    page, log_in, merchant, tmp_path
):
    log_in(make_user(merchant, group="Editor"))
    source = tmp_path / "customers.csv"
    source.write_text("name,email,phone_number\nAwa Ndiaye,awa@example.com,+221771234567\n")
    page.goto("/customers/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    expect(page.get_by_role("heading", name="Import customers", level=1)).to_be_visible()
    page.get_by_label("File").set_input_files(str(source))
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", name="Checking every row")).to_be_visible()

    run_worker()
    expect(
        page.get_by_role("heading", name="Every row checked: nothing written yet")
    ).to_be_visible()
    expect(page.get_by_role("row", name="phone_number phone")).to_be_visible()
    page.get_by_role("button", name="Start import").click()
    expect(page.get_by_role("progressbar", name="Rows done")).to_be_visible()

    run_worker()
    expect(page.get_by_role("heading", name="Summary")).to_be_visible()
    expect(page.locator("[data-import-status-label]")).to_have_text("Done")
    expect(page.locator(".import-counts")).to_contain_text("Created 1")
    assert Customer.objects.get().email == "awa@example.com"
