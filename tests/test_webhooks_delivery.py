"""Webhook deliveries against a real HTTP receiver on loopback, sent by the task framework's own
worker: signed, equal to the event feed, retried until answered, never sent twice at once."""

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient
from werkzeug import Response

from customers.models import ApiKey, Customer, CustomerEvent
from customers.services import customer_delete
from tests.factories import make_api_key, make_customer, make_user
from tests.test_dashboard import customer_form_data
from webhooks import delivery
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.services import endpoint_create, endpoint_rotate_secret, endpoint_update

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    """django-tasks' database worker, as ``make worker`` runs it, until no task is due."""
    Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    ).run()


def url_of(httpserver, path: str = "/hook") -> str:
    return f"http://127.0.0.1:{httpserver.port}{path}"


def signature_matches(request, secret: str) -> bool:
    """The receiver's check, written from SPEC rather than with the project's own signer."""
    fields = dict(part.split("=", 1) for part in request.headers["Customers-Signature"].split(","))
    signed = f"{fields['t']}.".encode() + request.get_data()
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    signatures = [
        value
        for key, value in (
            p.split("=", 1) for p in request.headers["Customers-Signature"].split(",")
        )
        if key == "v1"
    ]
    return abs(time.time() - int(fields["t"])) < 60 and expected in signatures


def received(httpserver) -> list:
    return [request for request, _ in httpserver.log]


@pytest.fixture
def endpoint(merchant, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks")
    return endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))


def event_as_the_feed_shows_it(event_id, secret) -> dict:
    response = APIClient().get(f"/api/v1/events/{event_id}", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    return response.json()["data"]


# --- every door, signed, equal to the feed ----------------------------------------------------


def test_create_update_and_delete_through_the_api_reach_the_receiver_signed(
    merchant, endpoint, httpserver
):
    _, secret = endpoint
    _, key = make_api_key(merchant)
    api = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    created = api.post("/api/v1/customers", {"name": "Awa", "email": "awa@example.com"}, "json")
    customer_id = created.json()["data"]["id"]
    api.patch(f"/api/v1/customers/{customer_id}", {"status": "blocked"}, "json")
    api.delete(f"/api/v1/customers/{customer_id}")

    run_worker()

    requests = received(httpserver)
    assert [r.headers["Customers-Event-Type"] for r in requests] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    for request in requests:
        assert request.headers["Content-Type"] == "application/json"
        assert signature_matches(request, secret)
        body = json.loads(request.get_data())
        assert body["id"] == request.headers["Customers-Event-Id"]
        assert body == event_as_the_feed_shows_it(body["id"], key)
    assert json.loads(requests[1].get_data())["data"]["previous_attributes"] == {"status": "active"}
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    attempt = WebhookAttempt.objects.first()
    assert (attempt.status_code, attempt.response_body, attempt.error) == (200, "thanks", "")


def test_create_block_and_delete_through_the_dashboard_reach_the_receiver(
    client, merchant, endpoint, httpserver
):
    _, secret = endpoint
    client.force_login(make_user(merchant, group="Manager"))
    client.post(reverse("customers:create"), customer_form_data(name="Awa Ndiaye"))
    customer = Customer.objects.get()
    client.post(
        reverse("customers:status", args=[customer.pk]), {"status": "blocked", "reason": "Fraud"}
    )
    client.post(reverse("customers:delete", args=[customer.pk]))

    run_worker()

    requests = received(httpserver)
    assert [json.loads(r.get_data())["type"] for r in requests] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert all(signature_matches(request, secret) for request in requests)
    assert {json.loads(r.get_data())["source"] for r in requests} == {"dashboard"}


def test_an_endpoint_gets_only_the_event_types_it_asked_for(merchant, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("")
    endpoint_create(
        merchant=merchant, actor="user:tests", url=url_of(httpserver), events=["customer.deleted"]
    )
    customer_delete(customer=make_customer(merchant), actor="user:tests", source="admin")
    run_worker()

    assert [r.headers["Customers-Event-Type"] for r in received(httpserver)] == ["customer.deleted"]


def test_a_disabled_endpoint_and_another_merchants_endpoint_get_nothing(
    merchant, other_merchant, httpserver
):
    httpserver.expect_request("/hook", method="POST").respond_with_data("")
    disabled, _ = endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))
    endpoint_update(endpoint=disabled, status="disabled")
    endpoint_create(merchant=other_merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    assert received(httpserver) == []
    assert not WebhookDelivery.objects.exists()


def test_after_a_rotation_both_secrets_sign_for_a_day(merchant, endpoint, httpserver):
    webhook, old_secret = endpoint
    new_secret = endpoint_rotate_secret(endpoint=webhook)

    make_customer(merchant)
    run_worker()

    (request,) = received(httpserver)
    assert signature_matches(request, old_secret)
    assert signature_matches(request, new_secret)
    assert request.headers["Customers-Signature"].count("v1=") == 2

    webhook.refresh_from_db()
    assert webhook.live_secrets(now=timezone.now() + timedelta(hours=25)) == [new_secret]


# --- faults: retried, recorded, never blocking --------------------------------------------------


@pytest.fixture
def retry_at_once(settings):
    """Each retry due as soon as it is scheduled, so one worker run walks the schedule."""
    settings.WEBHOOKS_RETRY_SCHEDULE = [0]


def test_a_500_from_the_receiver_brings_the_same_event_again(merchant, httpserver, retry_at_once):
    httpserver.expect_oneshot_request("/hook").respond_with_data("down", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    first, second = received(httpserver)
    assert first.headers["Customers-Event-Id"] == second.headers["Customers-Event-Id"]
    (sent,) = WebhookDelivery.objects.all()
    assert (sent.status, sent.attempt_count) == ("succeeded", 2)
    assert [(a.number, a.status_code, a.error, a.response_body) for a in sent.attempts.all()] == [
        (1, 500, "The receiver answered HTTP 500.", "down"),
        (2, 200, "", "ok"),
    ]


def test_a_failed_attempt_waits_its_turn_in_the_backoff(merchant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    (pending,) = WebhookDelivery.objects.all()
    assert (pending.status, pending.attempt_count) == ("pending", 1)
    wait = pending.next_attempt_at - pending.attempts.get().started_at
    assert timedelta(seconds=55) < wait < timedelta(seconds=65)  # ≈ 1 minute, the first step
    assert len(received(httpserver)) == 1
    assert DBTaskResult.objects.ready().count() == 0  # the retry is scheduled, not due


def test_the_backoff_follows_the_schedule_then_repeats_its_last_step(settings):
    settings.WEBHOOKS_RETRY_SCHEDULE = [60, 300, 1800, 7200, 18000, 36000]
    delays = [delivery.next_delay(n).total_seconds() for n in range(1, 10)]
    assert delays == [60, 300, 1800, 7200, 18000, 36000, 36000, 36000, 36000]


def test_a_delivery_is_marked_failed_once_its_retry_window_has_passed(
    merchant, httpserver, retry_at_once, settings
):
    settings.WEBHOOKS_RETRY_FOR = timedelta(0)
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    (failed,) = WebhookDelivery.objects.all()
    assert (failed.status, failed.attempt_count, failed.next_attempt_at) == ("failed", 1, None)
    assert failed.finished_at is not None


def test_a_redirect_is_recorded_as_a_failure_and_not_followed(merchant, httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": url_of(httpserver, "/elsewhere")})
    )
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    assert [r.path for r in received(httpserver)] == ["/hook"]
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code == 302
    assert attempt.error == "The receiver answered HTTP 302 (redirects are not followed)."


def test_a_receiver_that_does_not_answer_in_time_is_recorded_and_retried(
    merchant, httpserver, monkeypatch
):
    monkeypatch.setattr(delivery, "TIMEOUT", 0.2)
    answered = threading.Event()

    def slow(request):
        time.sleep(0.6)
        answered.set()
        return Response("late")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "No answer within 0.2 seconds.")
    assert attempt.duration_ms < 600
    assert WebhookDelivery.objects.get().status == "pending"
    answered.wait(5)  # the receiver finishes before the next test's


def test_a_closed_port_is_recorded_and_does_not_hold_up_other_endpoints(merchant, httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_create(merchant=merchant, actor="user:tests", url="http://127.0.0.1:9/nobody")
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))

    make_customer(merchant)
    run_worker()

    assert len(received(httpserver)) == 1
    refused = WebhookAttempt.objects.get(delivery__endpoint__url="http://127.0.0.1:9/nobody")
    assert (refused.status_code, refused.error) == (
        None,
        "Connection failed: the receiver refused the connection.",
    )


def test_a_receiver_that_hangs_up_without_answering_is_recorded_and_retried(merchant):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def hang_up():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.close()

    receiver = threading.Thread(target=hang_up)
    receiver.start()
    endpoint_create(merchant=merchant, actor="user:tests", url=f"http://127.0.0.1:{port}/hook")

    make_customer(merchant)
    run_worker()
    receiver.join(5)
    listener.close()

    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (
        None,
        "Connection failed: the receiver closed the connection without answering.",
    )
    assert WebhookDelivery.objects.get().status == "pending"


def test_the_address_is_checked_again_at_delivery(merchant, httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("ok")
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))
    settings.WEBHOOKS_ALLOW_PRIVATE = False  # as if the name now pointed at a private address

    make_customer(merchant)
    run_worker()

    assert received(httpserver) == []
    attempt = WebhookAttempt.objects.get()
    assert attempt.error == (
        "The host 127.0.0.1 resolves to a loopback address, which cannot receive webhooks."
    )
    assert WebhookDelivery.objects.get().status == "pending"


# --- at least once, never twice at once ---------------------------------------------------------


def test_the_delivery_is_recorded_with_its_event_and_rolled_back_with_it(merchant, endpoint):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        make_customer(merchant)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError("the change fails after its event")

    assert not CustomerEvent.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_worker_killed_mid_delivery_leaves_the_attempt_to_be_made_again(
    merchant, endpoint, httpserver
):
    make_customer(merchant)
    (owed,) = WebhookDelivery.objects.all()
    assert delivery.claim(owed.pk) is not None  # a worker claims it, then dies before sending
    DBTaskResult.objects.ready().update(status="SUCCESSFUL")  # the tasks that ran meanwhile

    run_worker()
    assert received(httpserver) == []  # the claim holds: nobody else sends it

    # The claim runs out; the task scheduled for that moment makes the attempt.
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.update(locked_until=past)
    DBTaskResult.objects.filter(status="READY").update(run_after=past)
    run_worker()

    assert len(received(httpserver)) == 1
    owed.refresh_from_db()
    assert (owed.status, owed.attempt_count) == ("succeeded", 1)


def test_resend_sends_an_answered_delivery_once_more(merchant, endpoint, httpserver):
    make_customer(merchant)
    run_worker()
    (answered,) = WebhookDelivery.objects.all()

    delivery.resend(answered)
    run_worker()

    first, second = received(httpserver)
    assert first.headers["Customers-Event-Id"] == second.headers["Customers-Event-Id"]
    answered.refresh_from_db()
    assert (answered.status, answered.attempt_count) == ("succeeded", 2)


@pytest.mark.postgres
def test_two_workers_never_send_the_same_attempt_at_once(merchant, httpserver):
    arrivals = []

    def slow(request):
        arrivals.append(request.headers["Customers-Event-Id"])
        time.sleep(0.3)
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    endpoint_create(merchant=merchant, actor="user:tests", url=url_of(httpserver))
    make_customer(merchant)
    (owed,) = WebhookDelivery.objects.all()

    start = threading.Barrier(4)
    outcomes = []

    def worker():
        try:
            start.wait()
            outcomes.append(delivery.attempt(owed.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(arrivals) == 1
    assert sorted(outcomes) == ["not due", "not due", "not due", "succeeded"]
    assert WebhookAttempt.objects.count() == 1


def test_api_keys_may_be_given_the_webhooks_scope():
    assert "webhooks:manage" in ApiKey.Scope.values
    assert "webhooks:manage" not in ApiKey.DEFAULT_SCOPES


def test_a_disabled_endpoint_is_sent_nothing_until_enabled_again(merchant, endpoint, httpserver):
    webhook, _ = endpoint
    make_customer(merchant)
    endpoint_update(endpoint=webhook, status="disabled")  # before the worker came to it

    run_worker()
    assert received(httpserver) == []
    with pytest.raises(delivery.EndpointDisabled):
        delivery.resend(WebhookDelivery.objects.get())

    endpoint_update(endpoint=webhook, status="enabled")
    run_worker()

    assert len(received(httpserver)) == 1
    assert WebhookDelivery.objects.get().status == "succeeded"
