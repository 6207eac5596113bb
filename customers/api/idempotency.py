"""``Idempotency-Key`` on POST: a retried request replays the first response and creates nothing.

The state is in the database, so it holds across processes and machines. Everything happens in
the request's own transaction:

1. ``idempotency_hold`` takes the key for this request: on PostgreSQL a transaction-scoped
   advisory lock, which a second request with the key cannot take while the first is in flight
   (``idempotency_key_in_use``); on SQLite, where writing transactions run one at a time, the
   second simply waits for the first. It then returns the finished record of an earlier request
   with this key, to replay (``idempotency_key_reused`` if its body was another).
2. The write and ``idempotency_record`` commit together: a replayable response exists exactly
   when the customer does.

A hold cannot outlive its request: the lock goes with the transaction, whether it commits, fails
or loses its database connection, so a client's retry is never refused for a request that
is no longer running. Records live 24 hours.
"""

import hashlib
import json

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import IdempotencyKey, Merchant

from .exceptions import IdempotencyKeyInUse, IdempotencyKeyReused

#: Headers of the first response that a replay repeats.
REPLAYED_HEADERS = ("Location", "ETag")


def request_fingerprint(data) -> str:
    """SHA-256 of the body as canonical JSON: the same request in other whitespace or key
    order is the same request."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def advisory_lock_id(merchant: Merchant, key: str) -> int:
    """The 64-bit number PostgreSQL's advisory locks know (merchant, key) by."""
    digest = hashlib.sha256(f"idempotency:{merchant.pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def idempotency_hold(*, merchant: Merchant, key: str, request_hash: str) -> IdempotencyKey | None:
    """Hold ``key`` until the current transaction ends (call it inside one). Return the
    finished record of an earlier request with this key and body, to replay, or None when this
    request is the first."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_try_advisory_xact_lock(%s)", [advisory_lock_id(merchant, key)]
            )
            if not cursor.fetchone()[0]:
                raise IdempotencyKeyInUse()
    IdempotencyKey.objects.filter(
        merchant=merchant, created_at__lt=timezone.now() - IdempotencyKey.LIFETIME
    ).delete()
    earlier = IdempotencyKey.objects.filter(merchant=merchant, key=key).first()
    if earlier is not None and earlier.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return earlier


def idempotency_record(
    *, merchant: Merchant, key: str, request_hash: str, status_code: int, body, headers
) -> None:
    """Keep the response of the request holding ``key``, in its transaction."""
    kept = {name: headers[name] for name in REPLAYED_HEADERS if name in headers}
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                merchant=merchant,
                key=key,
                request_hash=request_hash,
                status_code=status_code,
                response_body=body,
                response_headers=kept,
            )
    except IntegrityError:
        # Only if a request held the key some other way (a lock that is not PostgreSQL's).
        raise IdempotencyKeyInUse() from None
