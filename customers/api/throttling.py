"""Requests per API key (or staff user), and failed authentications per client address, per
window, counted in the shared cache.

The count is one atomic increment of a key per window, so with Redis (``REDIS_URL``) the limit
holds across every process and machine, not per worker. Each request costs one round trip to
Redis: one script that reads the address's failures (for a request that sends a key) and, unless
they are past their limit, counts the request. A request that sends a key is counted when it is
authenticated, against the key it sends, before the key is looked up (``FailedAuthentications``);
the throttle then reads that count. Without Redis, Django's in-process cache counts
(development, tests).

If Redis does not answer (within ``REDIS_TIMEOUT`` seconds), nothing is throttled until it
does: the API keeps serving, and the log says so, with the error, every few seconds.
"""

import functools
import hashlib
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


#: One round trip to count a hit: ``INCR KEYS[1]``, which expires ``ARGV[1]`` seconds after its
#: first hit; the hits so far. With ``KEYS[2]`` (an address's failed authentications): 0, and
#: nothing counted, when it has reached ``ARGV[2]``.
COUNT_SCRIPT = """
if #KEYS == 2 and tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[2]) then
    return 0
end
local hits = redis.call('INCR', KEYS[1])
if hits == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return hits
"""


@functools.lru_cache(maxsize=1)
def _count_script(client: redis.Redis):
    """``COUNT_SCRIPT`` on ``client``: this process's (``_redis``)."""
    return client.register_script(COUNT_SCRIPT)


def count_hit(key: str, timeout: int, *, unless: tuple[str, int] | None = None) -> int | None:
    """One more hit on ``key``, which expires ``timeout`` seconds after its first; the hits so
    far (0 while Redis does not answer). With ``unless=(other_key, limit)``: ``None``, and no
    hit counted, when ``other_key`` has ``limit`` hits already; both in one round trip."""
    if settings.REDIS_URL:
        keys = [cache.make_key(key)]
        if unless is not None:
            keys.append(cache.make_key(unless[0]))
        try:
            script = _count_script(_redis())
            hits = script(keys=keys, args=[timeout, unless[1] if unless else 0])
        except redis.RedisError as error:
            _redis_failed(error)
            return 0
        return hits or None
    if unless is not None and cache.get(unless[0], 0) >= unless[1]:
        return None
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


class Window:
    """The fixed window a rate (``"1000/minute"``) counts in now: its key in the cache, its
    limit, and the seconds until it ends."""

    def __init__(self, name: str, rate: str):
        self.limit, period = parse_rate(rate)
        now = time.time()
        window = int(now // period)
        self.key = f"throttle:{name}:{window}"
        self.timeout = period + 1
        self.wait = (window + 1) * period - now


class ApiKeyRateThrottle(BaseThrottle):
    """At most ``DEFAULT_THROTTLE_RATES["api_key"]`` requests per key (or staff user) in each
    fixed window. A key's request was counted when it was authenticated, in the request's
    ``api_key_hits``: (the hits, the seconds until the window ends, the limit)."""

    scope = "api_key"

    @classmethod
    def window(cls, caller: str) -> Window | None:
        """The window of ``caller``'s requests; None when they are not limited."""
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(cls.scope)
        return Window(f"{cls.scope}:{caller}", str(rate)) if rate else None

    def allow_request(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            counted = getattr(request, "api_key_hits", None)
            if counted is not None:
                hits, self._wait, limit = counted
                return hits <= limit
            caller = f"key:{request.auth.pk}"  # a key authenticated some other way
        elif request.user and request.user.is_authenticated:
            caller = f"user:{request.user.pk}"
        else:
            return True
        window = self.window(caller)
        if window is None:
            return True
        self._wait = window.wait
        return (count_hit(window.key, window.timeout) or 0) <= window.limit

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
        self.request = request
        self.window = Window(
            f"auth_failures:{client_address(request)}", settings.API_AUTH_FAILURE_RATE
        )

    def refuse_if_over(self, raw_key: str) -> None:
        """Before ``raw_key`` is looked up: 429 if the address has used up its failures;
        otherwise the request counts against the key's rate, in the same round trip. The key
        is named by a digest of it, so only who holds a key can spend its rate."""
        digest = hashlib.sha256(raw_key.encode()).hexdigest()[:32]
        rate = ApiKeyRateThrottle.window(f"key:{digest}")
        if rate is None:  # keys are not limited: the failures alone are read
            if hits_so_far(self.window.key) >= self.window.limit:
                raise AuthenticationThrottled(self.window.wait)
            return
        hits = count_hit(rate.key, rate.timeout, unless=(self.window.key, self.window.limit))
        if hits is None:
            raise AuthenticationThrottled(self.window.wait)
        self.request.api_key_hits = (hits, rate.wait, rate.limit)

    def count(self) -> None:
        """One more failure; 429 instead of 401 once past the limit."""
        if (count_hit(self.window.key, self.window.timeout) or 0) > self.window.limit:
            raise AuthenticationThrottled(self.window.wait)
