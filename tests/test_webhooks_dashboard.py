"""The dashboard's webhook pages through Django's test client: Managers only, tenancy, the
secret shown once, the forms' errors by their fields, rotation, deletion, Resend and the cost
of the list and detail pages."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.factories import make_customer, make_merchant, make_user
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, endpoint_update

pytestmark = pytest.mark.django_db

HOOK = "http://127.0.0.1:9/hook"
LIST = reverse("webhooks:endpoint_list")
CREATE = reverse("webhooks:endpoint_create")


@pytest.fixture
def endpoint(merchant):
    endpoint, _ = endpoint_create(
        merchant=merchant, actor="user:x", url=HOOK, events=["*"], description="Orders"
    )
    return endpoint


@pytest.fixture
def foreign_endpoint(other_merchant):
    endpoint, _ = endpoint_create(
        merchant=other_merchant, actor="user:x", url="http://127.0.0.1:9/theirs", events=["*"]
    )
    return endpoint


def logged_in(client, user):
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def endpoint_pages(endpoint, delivery) -> list[tuple[str, str, dict]]:
    """Every page and POST of the webhooks section: (method, url, data)."""
    pk = endpoint.pk
    return [
        ("get", LIST, {}),
        ("get", CREATE, {}),
        ("post", CREATE, {"url": HOOK, "events": ["*"], "description": ""}),
        ("get", reverse("webhooks:endpoint_detail", args=[pk]), {}),
        ("get", reverse("webhooks:endpoint_update", args=[pk]), {}),
        ("post", reverse("webhooks:endpoint_update", args=[pk]), {"url": HOOK, "events": ["*"]}),
        ("post", reverse("webhooks:endpoint_status", args=[pk]), {"status": "disabled"}),
        ("get", reverse("webhooks:endpoint_rotate_secret", args=[pk]), {}),
        ("post", reverse("webhooks:endpoint_rotate_secret", args=[pk]), {}),
        ("get", reverse("webhooks:endpoint_delete", args=[pk]), {}),
        ("post", reverse("webhooks:endpoint_delete", args=[pk]), {}),
        ("post", reverse("webhooks:delivery_resend", args=[delivery.pk]), {}),
    ]


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["Viewer", "Editor"])
def test_viewers_and_editors_get_403_everywhere_and_change_nothing(
    client, merchant, endpoint, group
):
    make_customer(merchant)
    delivery = WebhookDelivery.objects.get()
    secret = endpoint.secret
    logged_in(client, make_user(merchant, group=group))
    for method, url, data in endpoint_pages(endpoint, delivery):
        assert getattr(client, method)(url, data).status_code == 403, (method, url)
    endpoint.refresh_from_db()
    assert (endpoint.status, endpoint.secret) == ("enabled", secret)
    assert WebhookEndpoint.objects.count() == 1
    delivery.refresh_from_db()
    assert delivery.attempt_count == 0


@pytest.mark.parametrize("group", ["Viewer", "Editor"])
def test_viewers_and_editors_do_not_see_the_webhooks_link(client, merchant, group):
    response = logged_in(client, make_user(merchant, group=group)).get(reverse("customers:list"))
    assert response.status_code == 200
    assert LIST not in response.content.decode()


def test_managers_see_the_webhooks_link(client, manager):
    page = logged_in(client, manager).get(reverse("customers:list")).content.decode()
    assert f'<a href="{LIST}">Webhooks</a>' in page
    webhooks = client.get(LIST).content.decode()
    assert f'<a href="{LIST}" aria-current="page">Webhooks</a>' in webhooks
    assert 'aria-current="page">Customers</a>' not in webhooks


def test_anonymous_user_is_sent_to_login(client, endpoint):
    url = reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_another_merchants_endpoint_is_404_on_every_page(client, manager, foreign_endpoint):
    make_customer(foreign_endpoint.merchant)
    delivery = WebhookDelivery.objects.get()
    logged_in(client, manager)
    for method, url, data in endpoint_pages(foreign_endpoint, delivery)[3:]:
        assert getattr(client, method)(url, data).status_code == 404, (method, url)
    foreign_endpoint.refresh_from_db()
    assert foreign_endpoint.status == "enabled"
    delivery.refresh_from_db()
    assert DBTaskResult.objects.count() == 2  # those of the event, none of a resend


def test_list_shows_only_the_users_merchants_endpoints(client, manager, endpoint, foreign_endpoint):
    response = logged_in(client, manager).get(LIST)
    assert list(response.context["endpoints"]) == [endpoint]
    page = response.content.decode()
    assert HOOK in page and "Orders" in page
    assert foreign_endpoint.url not in page
    assert endpoint.secret not in page


# --- create -----------------------------------------------------------------------------------


def test_manager_creates_an_endpoint_and_sees_its_secret_once(client, manager, merchant):
    logged_in(client, manager)
    form = client.get(CREATE).content.decode()
    assert '<label for="id_url">URL</label>' in form
    assert 'name="merchant"' not in form  # their only merchant, without asking
    response = client.post(
        CREATE,
        {"url": HOOK, "events": ["customer.created", "customer.deleted"], "description": "CRM"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint = WebhookEndpoint.objects.get()
    secret = response.context["secret"]
    assert secret == endpoint.secret and secret.startswith("whsec_")
    assert secret in response.content.decode()
    assert messages_of(response) == [f"Webhook endpoint {HOOK} created."]
    assert (endpoint.merchant, endpoint.url, endpoint.description) == (merchant, HOOK, "CRM")
    assert endpoint.events == ["customer.created", "customer.deleted"]
    assert endpoint.created_by == "user:mona"
    for url in (LIST, reverse("webhooks:endpoint_detail", args=[endpoint.pk])):
        assert secret not in client.get(url).content.decode()


def test_all_events_wins_over_single_types(client, manager):
    logged_in(client, manager).post(CREATE, {"url": HOOK, "events": ["*", "customer.updated"]})
    assert WebhookEndpoint.objects.get().events == ["*"]


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/hook", "Enter an https:// URL."),
        ("not a url", "Enter a valid URL."),
        ("http://169.254.169.254/latest", "which cannot receive webhooks"),
    ],
)
def test_invalid_url_keeps_what_was_typed_and_shows_the_error_by_the_field(
    client, manager, url, message
):
    response = logged_in(client, manager).post(
        CREATE, {"url": url, "events": ["*"], "description": "Mine"}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["url"])
    page = response.content.decode()
    assert f'value="{url}"' in page
    assert 'id="id_url_error"' in page and message in page
    assert 'id="form-errors"' in page
    assert '<input type="checkbox" name="events" value="*" id="id_events_0" checked>' in page
    assert WebhookEndpoint.objects.count() == 0


def test_no_events_is_refused_by_the_field(client, manager):
    response = logged_in(client, manager).post(CREATE, {"url": HOOK})
    assert "Give a list of event types" in response.context["form"].errors["events"][0]
    assert 'id="id_events_error"' in response.content.decode()
    assert WebhookEndpoint.objects.count() == 0


def test_merchant_is_chosen_only_by_members_of_several(client, merchant, other_merchant):
    user = make_user(merchant, other_merchant, group="Manager")
    make_merchant("Not theirs")
    logged_in(client, user)
    form = client.get(CREATE).context["form"]
    assert set(form.fields["merchant"].queryset) == {merchant, other_merchant}
    refused = client.post(CREATE, {"url": HOOK, "events": ["*"]})
    assert "merchant" in refused.context["form"].errors
    client.post(CREATE, {"merchant": other_merchant.pk, "url": HOOK, "events": ["*"]})
    assert WebhookEndpoint.objects.get().merchant == other_merchant


# --- edit, enable / disable, rotate, delete ---------------------------------------------------


def test_edit_changes_the_endpoint_through_the_services(client, manager, endpoint):
    url = reverse("webhooks:endpoint_update", args=[endpoint.pk])
    logged_in(client, manager)
    form = client.get(url).content.decode()
    assert f'value="{HOOK}"' in form
    response = client.post(
        url,
        {
            "url": "http://127.0.0.1:9/other",
            "events": ["customer.updated"],
            "description": "New",
            "status": "disabled",
        },
        follow=True,
    )
    assert messages_of(response) == ["Webhook endpoint http://127.0.0.1:9/other saved."]
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.events, endpoint.description, endpoint.status) == (
        "http://127.0.0.1:9/other",
        ["customer.updated"],
        "New",
        "disabled",
    )


def test_edit_with_an_invalid_url_keeps_it_and_changes_nothing(client, manager, endpoint):
    url = reverse("webhooks:endpoint_update", args=[endpoint.pk])
    response = logged_in(client, manager).post(
        url, {"url": "gopher://x", "events": ["*"], "description": "", "status": "enabled"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["url"] == ["Enter a valid URL."]
    assert 'value="gopher://x"' in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK


def test_disable_and_enable_are_post_buttons(client, manager, endpoint):
    url = reverse("webhooks:endpoint_status", args=[endpoint.pk])
    logged_in(client, manager)
    assert client.get(url).status_code == 405
    response = client.post(url, {"status": "disabled"}, follow=True)
    assert messages_of(response) == [f"Webhook endpoint {HOOK} disabled."]
    assert 'value="enabled"' in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.status == "disabled"
    make_customer(endpoint.merchant)
    assert WebhookDelivery.objects.count() == 0  # a disabled endpoint is owed nothing
    client.post(url, {"status": "enabled"})
    endpoint.refresh_from_db()
    assert endpoint.status == "enabled"
    assert client.post(url, {"status": "paused"}).status_code == 400


def test_rotate_confirms_then_shows_the_new_secret_once(client, manager, endpoint):
    old = endpoint.secret
    url = reverse("webhooks:endpoint_rotate_secret", args=[endpoint.pk])
    logged_in(client, manager)
    confirm = client.get(url).content.decode()
    assert "for 24 hours" in confirm
    endpoint.refresh_from_db()
    assert endpoint.secret == old  # a GET changes nothing
    response = client.post(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.live_secrets() == [endpoint.secret, old]
    page = response.content.decode()
    assert endpoint.secret in page and old not in page
    assert "(24 hours)" in page
    assert messages_of(response) == [f"The secret of {HOOK} was rotated."]
    detail = client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in detail and old not in detail
    assert "the previous one signs too" in detail


def test_delete_confirms_then_deletes_with_the_deliveries(client, manager, endpoint):
    make_customer(endpoint.merchant)
    url = reverse("webhooks:endpoint_delete", args=[endpoint.pk])
    logged_in(client, manager)
    assert "Delete <strong" in client.get(url).content.decode()
    assert WebhookEndpoint.objects.count() == 1
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert messages_of(response) == [f"Webhook endpoint {HOOK} deleted."]
    assert WebhookEndpoint.objects.count() == WebhookDelivery.objects.count() == 0


# --- detail, deliveries and Resend ------------------------------------------------------------


def test_detail_lists_the_deliveries_with_their_attempts_escaped(client, manager, endpoint):
    customer = make_customer(endpoint.merchant, name="Awa <b>Ndiaye</b>")
    delivery = WebhookDelivery.objects.get()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=timezone.now(),
        duration_ms=42,
        status_code=500,
        error="The receiver answered HTTP 500.",
        response_body="<script>alert(1)</script>",
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempt_count=1)
    response = logged_in(client, manager).get(
        reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    )
    page = response.content.decode()
    assert "customer.created" in page
    assert f'href="{reverse("customers:detail", args=[customer.pk])}"' in page
    assert "Awa &lt;b&gt;Ndiaye&lt;/b&gt;" in page
    assert "HTTP 500" in page and "42 ms" in page
    assert "The receiver answered HTTP 500." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    assert reverse("webhooks:delivery_resend", args=[delivery.pk]) in page


def test_detail_shows_the_latest_fifty_deliveries(client, manager, endpoint, monkeypatch):
    monkeypatch.setattr("webhooks.views.EndpointDetailView.deliveries_shown", 2)
    for _ in range(3):
        make_customer(endpoint.merchant)
    response = logged_in(client, manager).get(
        reverse("webhooks:endpoint_detail", args=[endpoint.pk])
    )
    newest = list(WebhookDelivery.objects.order_by("-created_at")[:2])
    assert response.context["deliveries"] == newest
    assert response.context["deliveries_truncated"]
    assert "The latest 2" in response.content.decode()


def test_resend_makes_the_delivery_pending_and_enqueues_its_attempt(client, manager, endpoint):
    make_customer(endpoint.merchant)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempt_count=7, next_attempt_at=None, finished_at=timezone.now()
    )
    before = set(DBTaskResult.objects.values_list("pk", flat=True))
    url = reverse("webhooks:delivery_resend", args=[delivery.pk])
    logged_in(client, manager)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain == [
        (reverse("webhooks:endpoint_detail", args=[endpoint.pk]), 302)
    ]
    assert messages_of(response) == [
        "The customer.created event will be sent again to this endpoint."
    ]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.finished_at) == ("pending", None)
    assert delivery.next_attempt_at is not None
    enqueued = DBTaskResult.objects.exclude(pk__in=before)
    assert [(task.task_path, task.args_kwargs["args"]) for task in enqueued] == [
        ("webhooks.tasks.deliver", [str(delivery.pk)])
    ] * 2


def test_resend_to_a_disabled_endpoint_is_refused_with_a_message(client, manager, endpoint):
    make_customer(endpoint.merchant)
    endpoint_update(endpoint=endpoint, status="disabled")
    delivery = WebhookDelivery.objects.get()
    logged_in(client, manager)
    detail = client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
    assert "Resend" not in detail.content.decode()

    response = client.post(reverse("webhooks:delivery_resend", args=[delivery.pk]), follow=True)

    assert messages_of(response) == ["This endpoint is disabled: enable it to send it events."]
    delivery.refresh_from_db()
    assert delivery.attempt_count == 0


# --- cost -------------------------------------------------------------------------------------


def test_list_costs_the_same_queries_whatever_the_endpoints(
    client, manager, merchant, django_assert_max_num_queries
):
    for n in range(5):
        endpoint_create(merchant=merchant, actor="user:x", url=f"{HOOK}/{n}", events=["*"])
    make_customer(merchant)
    make_customer(merchant)
    logged_in(client, manager)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert len(response.context["endpoints"]) == 5
    assert response.context["endpoints"][0].last_delivery_status == "pending"


def test_detail_costs_the_same_queries_whatever_the_deliveries(
    client, manager, endpoint, django_assert_max_num_queries
):
    for _ in range(5):
        make_customer(endpoint.merchant)
    for delivery in WebhookDelivery.objects.all():
        for number in (1, 2):
            WebhookAttempt.objects.create(
                delivery=delivery, number=number, started_at=timezone.now(), duration_ms=1
            )
    logged_in(client, manager)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("webhooks:endpoint_detail", args=[endpoint.pk]))
    assert len(response.context["deliveries"]) == 5
