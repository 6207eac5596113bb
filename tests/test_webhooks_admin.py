"""Webhook endpoints and deliveries in the admin: shown, never added, changed or deleted; the
secrets never on a page; each staff user within their merchants."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_customer, make_user
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_rotate_secret

pytestmark = pytest.mark.django_db

ENDPOINTS = reverse("admin:webhooks_webhookendpoint_changelist")
DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


@pytest.fixture
def root_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "password"))
    return client


@pytest.fixture
def endpoint(merchant):
    endpoint, _ = endpoint_create(
        merchant=merchant, actor="user:x", url="http://127.0.0.1:9/hook", events=["*"]
    )
    endpoint_rotate_secret(endpoint=endpoint)
    endpoint.refresh_from_db()
    return endpoint


@pytest.fixture
def delivery(endpoint):
    make_customer(endpoint.merchant)
    delivery = WebhookDelivery.objects.get()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=timezone.now(),
        duration_ms=12,
        status_code=503,
        error="The receiver answered HTTP 503.",
        response_body="busy <b>now</b>",
    )
    return delivery


def test_endpoints_are_listed_and_shown_without_their_secrets(root_client, endpoint, delivery):
    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    for url in (ENDPOINTS, change):
        response = root_client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert endpoint.url in page
        assert endpoint.secret not in page and endpoint.previous_secret not in page
        assert "whsec_" not in page
    delivery_page = root_client.get(
        reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    ).content.decode()
    assert endpoint.secret not in delivery_page and "whsec_" not in delivery_page


def test_endpoints_cannot_be_added_changed_or_deleted(root_client, endpoint):
    change = reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])
    assert root_client.get(reverse("admin:webhooks_webhookendpoint_add")).status_code == 403
    page = root_client.get(change).content.decode()
    assert 'name="_save"' not in page and 'name="url"' not in page
    response = root_client.post(change, {"url": "http://127.0.0.1:9/other", "status": "disabled"})
    assert response.status_code == 403
    delete = reverse("admin:webhooks_webhookendpoint_delete", args=[endpoint.pk])
    assert root_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = root_client.post(
        ENDPOINTS, {"action": "delete_selected", "_selected_action": [endpoint.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.status) == ("http://127.0.0.1:9/hook", "enabled")


def test_deliveries_are_shown_with_their_attempts_and_cannot_be_changed(root_client, delivery):
    change = reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])
    page = root_client.get(change).content.decode()
    assert "The receiver answered HTTP 503." in page
    assert "busy &lt;b&gt;now&lt;/b&gt;" in page
    assert 'name="_save"' not in page
    assert root_client.get(reverse("admin:webhooks_webhookdelivery_add")).status_code == 403
    assert root_client.post(change, {"status": "succeeded"}).status_code == 403
    delete = reverse("admin:webhooks_webhookdelivery_delete", args=[delivery.pk])
    assert root_client.post(delete, {"post": "yes"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert WebhookAttempt.objects.count() == 1


def test_lists_filter_by_status_and_search_by_url(root_client, endpoint, delivery, other_merchant):
    endpoint_create(
        merchant=other_merchant,
        actor="user:x",
        url="http://127.0.0.1:9/elsewhere",
        events=["*"],
        status="disabled",
    )
    disabled = root_client.get(ENDPOINTS, {"status__exact": "disabled"})
    assert [e.url for e in disabled.context["cl"].result_list] == ["http://127.0.0.1:9/elsewhere"]
    found = root_client.get(ENDPOINTS, {"q": "/hook"})
    assert list(found.context["cl"].result_list) == [endpoint]
    pending = root_client.get(DELIVERIES, {"status__exact": "pending", "q": "/hook"})
    assert list(pending.context["cl"].result_list) == [delivery]
    assert (
        list(root_client.get(DELIVERIES, {"status__exact": "failed"}).context["cl"].result_list)
        == []
    )


def test_staff_see_only_their_merchants_endpoints_and_deliveries(
    client, merchant, other_merchant, endpoint, delivery
):
    foreign, _ = endpoint_create(
        merchant=other_merchant, actor="user:x", url="http://127.0.0.1:9/theirs", events=["*"]
    )
    make_customer(other_merchant)
    foreign_delivery = WebhookDelivery.objects.get(endpoint=foreign)
    client.force_login(make_user(merchant, group="Manager"))
    assert list(client.get(ENDPOINTS).context["cl"].result_list) == [endpoint]
    assert list(client.get(DELIVERIES).context["cl"].result_list) == [delivery]
    for name, pk in [
        ("admin:webhooks_webhookendpoint_change", foreign.pk),
        ("admin:webhooks_webhookdelivery_change", foreign_delivery.pk),
    ]:
        response = client.get(reverse(name, args=[pk]))
        assert response.status_code == 302  # the admin's "does not exist"
    own = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    assert "The receiver answered HTTP 503." in own.content.decode()


def test_the_webhook_models_are_read_only_for_a_superuser_too(root_client):
    for model in (WebhookEndpoint, WebhookDelivery):
        index = root_client.get(reverse("admin:index")).context["app_list"]
        webhooks = next(app for app in index if app["app_label"] == "webhooks")
        entry = next(m for m in webhooks["models"] if m["object_name"] == model.__name__)
        assert (entry["perms"]["add"], entry["perms"]["change"], entry["perms"]["delete"]) == (
            False,
            False,
            False,
        )
        assert entry["perms"]["view"]
