"""Requests per API key (or staff user), and failed authentications per client address, per
window, counted in the shared cache.

The count is one atomic increment of a key per window, so with Redis (``REDIS_URL``) the limit
holds across every process and machine, not per worker; and it costs one round trip to Redis
per request. A request that sends a key costs one more, a GET of its address's failures before
the key is looked up. Without Redis, Django's in-process cache counts (development, tests).

If Redis does not answer (within ``REDIS_TIMEOUT`` seconds), nothing is throttled until it
does: the API keeps serving, and the log says so, with the error, every few seconds.
"""

import functools
import logging
import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from customers.middleware import client_address
from customers.models import ApiKey

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
#: Seconds between two log lines about the same Redis outage, per process.
OUTAGE_LOG_INTERVAL = 10

logger = logging.getLogger(__name__)
_outage_logged_at = 0.0


def _redis_failed(error: redis.RedisError) -> None:
    """Say loudly, but not on every request, that the shared counter is unreachable."""
    global _outage_logged_at
    now = time.monotonic()
    if now - _outage_logged_at >= OUTAGE_LOG_INTERVAL:
        _outage_logged_at = now
        logger.error(
            "Redis (REDIS_URL) does not answer: API requests are not throttled until it does. %s",
            error,
        )


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1000/minute"`` → (1000, 60); the period is read from its first letter."""
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0].lower()]
    except (ValueError, KeyError, IndexError):
        raise ImproperlyConfigured(
            f"A throttle rate looks like '1000/minute', not {rate!r}."
        ) from None


@functools.cache
def _redis() -> redis.Redis:
    """This process's client of the shared Redis, with its pool of connections."""
    return redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )


def redis_answers() -> bool:
    """Whether the shared Redis answers a PING (for the health check)."""
    try:
        return bool(_redis().ping())
    except redis.RedisError:
        return False


def count_hit(key: str, timeout: int) -> int:
    """One more hit on ``key``, which expires ``timeout`` seconds after its first; the hits so
    far (0 while Redis does not answer). With Redis, INCR and EXPIRE NX go in one pipeline: one
    round trip."""
    if settings.REDIS_URL:
        pipeline = _redis().pipeline(transaction=False)
        pipeline.incr(cache.make_key(key))
        pipeline.expire(cache.make_key(key), timeout, nx=True)
        try:
            count, _ = pipeline.execute()
        except redis.RedisError as error:
            _redis_failed(error)
            return 0
        return count
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def hits_so_far(key: str) -> int:
    """The hits on ``key`` so far, read where ``count_hit`` counts them: one round trip (0 while
    Redis does not answer)."""
    if settings.REDIS_URL:
        try:
            return int(_redis().get(cache.make_key(key)) or 0)
        except redis.RedisError as error:
            _redis_failed(error)
            return 0
    return cache.get(key, 0)


class ApiKeyRateThrottle(BaseThrottle):
    """At most ``DEFAULT_THROTTLE_RATES["api_key"]`` requests per key in each fixed window."""

    scope = "api_key"

    def caller(self, request) -> str | None:
        """Whom the count is for: the API key, else the staff user; None for no one."""
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None

    def allow_request(self, request, view) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        ident = self.caller(request)
        if not rate or ident is None:
            return True
        limit, period = parse_rate(str(rate))
        now = time.time()
        window = int(now // period)
        count = count_hit(f"throttle:{self.scope}:{ident}:{window}", period + 1)
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self) -> float:
        return self._wait


class AuthenticationThrottled(exceptions.Throttled):
    """429 for a client address past ``API_AUTH_FAILURE_RATE``."""

    reason = "Too many failed authentications from your address"


class FailedAuthentications:
    """At most ``API_AUTH_FAILURE_RATE`` failed authentications (a wrong, revoked or malformed
    key) from one client address in each fixed window. Past it, the address is refused before
    any key it sends is looked up, right or wrong, until the window ends: guessing keys costs a
    window per handful of guesses, and what the guesses would have answered is never known."""

    def __init__(self, request):
        self.limit, period = parse_rate(settings.API_AUTH_FAILURE_RATE)
        now = time.time()
        window = int(now // period)
        self.key = f"throttle:auth_failures:{client_address(request)}:{window}"
        self.timeout = period + 1
        self.wait = (window + 1) * period - now

    def refuse_if_over(self) -> None:
        """Before a key is looked up: 429 if the address has used up its failures."""
        if hits_so_far(self.key) >= self.limit:
            raise AuthenticationThrottled(self.wait)

    def count(self) -> None:
        """One more failure; 429 instead of 401 once past the limit."""
        if count_hit(self.key, self.timeout) > self.limit:
            raise AuthenticationThrottled(self.wait)
