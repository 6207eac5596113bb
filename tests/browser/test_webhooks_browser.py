"""The webhook pages in a real browser: a Manager registers an endpoint, click by click."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_user
from webhooks.models import WebhookEndpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_creates_an_endpoint_sees_its_secret_and_opens_it(page, log_in, merchant):
    log_in(make_user(merchant, group="Manager"))
    page.goto("/customers/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()
    page.get_by_role("link", name="New endpoint").click()
    page.get_by_label("URL").fill("http://127.0.0.1:9/hook")
    page.get_by_role("checkbox", name="All events").uncheck()
    page.get_by_role("checkbox", name="customer.created").check()
    page.get_by_label("Description").fill("Order back-end")
    page.get_by_role("button", name="Create endpoint").click()

    expect(page.get_by_role("heading", name="Webhook endpoint created")).to_be_visible()
    expect(page.locator(".messages").get_by_role("status")).to_have_text(
        "Webhook endpoint http://127.0.0.1:9/hook created."
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["customer.created"]
    expect(page.locator("#webhook-secret")).to_have_text(endpoint.secret)

    page.get_by_role("link", name="Open the endpoint").click()
    expect(page).to_have_url(re.compile(rf"/webhooks/{endpoint.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("http://127.0.0.1:9/hook")
    expect(page.get_by_text("No deliveries yet")).to_be_visible()
    assert endpoint.secret not in page.content()
