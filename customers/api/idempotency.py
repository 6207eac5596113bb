"""``Idempotency-Key`` on POST: a retried request replays the first response and creates nothing.

The state is in the database, so it holds across processes and machines:

1. ``idempotency_claim`` inserts (merchant, key) before the request runs. The unique constraint
   lets exactly one request win; the others find the row and get its replay (finished),
   ``idempotency_key_in_use`` (still running) or ``idempotency_key_reused`` (another body).
2. The winner's write and ``idempotency_complete`` commit in one transaction: a replayable
   response exists exactly when the customer does.
3. A request that ends in an error created nothing, so ``idempotency_release`` drops the claim
   and the client may retry with the same key.

Keys live 24 hours; a claim whose process died is taken over after a few minutes.
"""

import hashlib
import json

from django.db import IntegrityError, transaction
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


def idempotency_claim(*, merchant: Merchant, key: str, request_hash: str) -> IdempotencyKey:
    """The claim on ``key`` for this request (``is_complete`` false), or the finished record of
    the first request with this key and body, to replay."""
    now = timezone.now()
    IdempotencyKey.objects.filter(
        merchant=merchant, created_at__lt=now - IdempotencyKey.LIFETIME
    ).delete()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(
                    merchant=merchant, key=key, request_hash=request_hash
                )
        except IntegrityError:
            pass
        existing = IdempotencyKey.objects.filter(merchant=merchant, key=key).first()
        if existing is None:
            continue  # released between our insert and our read: try again
        if existing.request_hash != request_hash:
            raise IdempotencyKeyReused()
        if existing.is_complete:
            return existing
        if existing.created_at >= now - IdempotencyKey.STALE_CLAIM:
            raise IdempotencyKeyInUse()
        # Its request never finished (the process died): take the key over.
        IdempotencyKey.objects.filter(
            pk=existing.pk, status_code=None, created_at=existing.created_at
        ).delete()
    raise IdempotencyKeyInUse()


def idempotency_complete(claim: IdempotencyKey, *, status_code: int, body, headers) -> None:
    """Keep the response of a claimed request; call it inside the request's transaction."""
    kept = {name: headers[name] for name in REPLAYED_HEADERS if name in headers}
    IdempotencyKey.objects.filter(pk=claim.pk).update(
        status_code=status_code, response_body=body, response_headers=kept
    )


def idempotency_release(claim: IdempotencyKey) -> None:
    """Give up a claim whose request failed (it created nothing), so the key may be retried."""
    IdempotencyKey.objects.filter(pk=claim.pk, status_code=None).delete()
