"""Sending a delivery: claim it, check where it goes, POST it signed, record the attempt, and
either finish it or schedule the next try.

Workers of the task framework run ``attempt`` (``webhooks.tasks.deliver``). Each attempt is
claimed with one conditional UPDATE that only one worker can win, and held for
``CLAIM_DURATION``, longer than any send may take; a second task for the same delivery is
scheduled for when the claim runs out, so a worker killed mid-send leaves the attempt to be
made again, not lost. A delivery that was already answered makes that task a no-op.
"""

import http.client
import json
import logging
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from customers.representation import event_json

from . import signing
from .models import EndpointStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .urls_guard import Target, UnsafeURL, resolve

logger = logging.getLogger(__name__)

#: A receiver has this long to answer (connection included).
TIMEOUT = 10.0
#: How long a worker owns an attempt it claimed: the send, and a wide margin.
CLAIM_DURATION = timedelta(seconds=60)
USER_AGENT = "Customers-Webhooks/1"


class EndpointDisabled(Exception):
    """Nothing is sent to a disabled endpoint."""


@dataclass
class Outcome:
    started_at: datetime
    duration_ms: int
    status_code: int | None = None
    error: str = ""
    response_body: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delays() -> list[timedelta]:
    return [timedelta(seconds=seconds) for seconds in settings.WEBHOOKS_RETRY_SCHEDULE]


def next_delay(attempt_count: int) -> timedelta:
    """The wait after the ``attempt_count``-th failed attempt: the schedule, then its last step
    again and again."""
    delays = retry_delays()
    return delays[min(attempt_count, len(delays)) - 1]


def schedule(delivery_ids, at: datetime) -> None:
    """Enqueue the attempt of each delivery for ``at``, in the caller's transaction, with a
    second task for when a claim made then would run out: should a worker die before it even
    claims, the delivery is still tried."""
    from .tasks import deliver

    for delivery_id in delivery_ids:
        deliver.using(run_after=at).enqueue(str(delivery_id))
        deliver.using(run_after=at + CLAIM_DURATION).enqueue(str(delivery_id))


def claim(delivery_id) -> WebhookDelivery | None:
    """The delivery, if its attempt is due and no other worker holds it: now held by this one."""
    from .tasks import deliver

    now = timezone.now()
    until = now + CLAIM_DURATION
    with transaction.atomic():
        won = WebhookDelivery.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lt=now),
            pk=delivery_id,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            # A disabled endpoint's deliveries wait. (A subquery, not a join: with a join the
            # UPDATE would re-check the conditions above against a stale row and let two
            # workers win.)
            endpoint_id__in=WebhookEndpoint.objects.filter(status=EndpointStatus.ENABLED).values(
                "pk"
            ),
        ).update(locked_until=until)
        if not won:
            return None
        # Should this worker die mid-send, this task makes the attempt once the claim runs out.
        deliver.using(run_after=until).enqueue(str(delivery_id))
    return WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)


def body_of(delivery: WebhookDelivery) -> bytes:
    """The event exactly as ``GET /api/v1/events/{id}`` renders it in ``data``."""
    return json.dumps(event_json(delivery.event), separators=(",", ":")).encode()


def send(delivery: WebhookDelivery) -> Outcome:
    """POST the delivery to its endpoint, once. Never raises: any failure is the outcome."""
    started_at = timezone.now()
    clock = time.monotonic()

    def outcome(**kwargs) -> Outcome:
        duration = int((time.monotonic() - clock) * 1000)
        return Outcome(started_at=started_at, duration_ms=duration, **kwargs)

    endpoint = delivery.endpoint
    try:
        target = resolve(endpoint.url)
    except UnsafeURL as error:
        return outcome(error=str(error))
    body = body_of(delivery)
    default_port = 443 if target.scheme == "https" else 80
    host = target.host if target.port == default_port else f"{target.host}:{target.port}"
    headers = {
        "Host": host,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Customers-Event-Id": str(delivery.event_id),
        "Customers-Event-Type": delivery.event.type,
        "Customers-Signature": signing.sign(body, endpoint.live_secrets()),
    }
    # Connect to the addresses just checked, never to a fresh resolution of the name; the next
    # one only if the connection could not be made.
    failure = ""
    for address in target.addresses:
        try:
            return outcome(**_post(target, address, body, headers))
        except urllib3.exceptions.NewConnectionError as error:
            failure = _why(error)
        except urllib3.exceptions.TimeoutError:
            return outcome(error=f"No answer within {TIMEOUT:g} seconds.")
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return outcome(error=f"Connection failed: {_why(error)}")
    return outcome(error=f"Connection failed: {failure}")


def _why(error: BaseException) -> str:
    """What went wrong with a connection, said for a person reading the attempts."""
    causes = [error, *[arg for arg in error.args if isinstance(arg, BaseException)]]
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            return "the receiver refused the connection."
        if isinstance(cause, http.client.RemoteDisconnected | ConnectionResetError):
            return "the receiver closed the connection without answering."
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({cause.reason or cause})."
    return str(error)


def _post(target: Target, address: str, body: bytes, headers: dict[str, str]) -> dict:
    timeout = urllib3.Timeout(total=TIMEOUT)
    if target.scheme == "https":
        pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            timeout=timeout,
            retries=False,
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False)
    with pool:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            headers=headers,
            redirect=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            kept = response.read(WebhookAttempt.RESPONSE_KEPT)
        finally:
            response.release_conn()
    status = response.status
    error = ""
    if 300 <= status < 400:
        error = f"The receiver answered HTTP {status} (redirects are not followed)."
    elif not 200 <= status < 300:
        error = f"The receiver answered HTTP {status}."
    return {
        "status_code": status,
        "error": error,
        "response_body": kept.decode("utf-8", errors="replace"),
    }


def record(delivery: WebhookDelivery, outcome: Outcome) -> WebhookDelivery:
    """Keep the attempt; finish the delivery, or schedule its next try (or give up once the
    retry window has passed)."""
    now = timezone.now()
    number = delivery.attempt_count + 1
    changes: dict = {"attempt_count": number, "locked_until": None}
    if outcome.succeeded:
        changes |= {"status": WebhookDelivery.Status.SUCCEEDED, "finished_at": now}
        changes["next_attempt_at"] = None
    else:
        due = now + next_delay(number)
        if due - delivery.created_at > settings.WEBHOOKS_RETRY_FOR:
            changes |= {"status": WebhookDelivery.Status.FAILED, "finished_at": now}
            changes["next_attempt_at"] = None
        else:
            changes["next_attempt_at"] = due
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            status_code=outcome.status_code,
            error=outcome.error[:500],
            response_body=outcome.response_body,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)
        if changes.get("next_attempt_at"):
            schedule([delivery.pk], changes["next_attempt_at"])
    for field, value in changes.items():
        setattr(delivery, field, value)
    return delivery


def attempt(delivery_id) -> str:
    """Make the due attempt of a delivery, if this worker wins it; say what happened."""
    delivery = claim(delivery_id)
    if delivery is None:
        return "not due"
    outcome = send(delivery)
    record(delivery, outcome)
    if not outcome.succeeded:
        logger.info("Webhook delivery %s failed: %s", delivery_id, outcome.error)
    return delivery.status


def resume(endpoint_id) -> int:
    """Schedule now what an endpoint was owed while it was disabled; how many."""
    now = timezone.now()
    owed = list(
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id, status=WebhookDelivery.Status.PENDING
        ).values_list("pk", flat=True)
    )
    WebhookDelivery.objects.filter(pk__in=owed, next_attempt_at__lt=now).update(next_attempt_at=now)
    schedule(owed, now)
    return len(owed)


def resend(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, whatever became of it (the receiver deduplicates by event id):
    one more attempt, and retries while the delivery's window lasts. Not to a disabled
    endpoint."""
    if not delivery.endpoint.is_enabled:
        raise EndpointDisabled
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=now, finished_at=None
        )
        schedule([delivery.pk], now)
    delivery.refresh_from_db()
    return delivery
