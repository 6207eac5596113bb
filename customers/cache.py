"""The shared cache, which a Redis outage degrades instead of breaking.

Everything kept in the cache can be recomputed (the admin's list of countries, the throttle's
counters): a read that Redis does not answer is a miss, and a write is dropped. The log says so,
so an outage is seen, not hidden.
"""

import logging

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis import RedisError

logger = logging.getLogger(__name__)


class ForgivingRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as error:
            logger.error("Redis (REDIS_URL) does not answer; a cache read missed. %s", error)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            logger.error("Redis (REDIS_URL) does not answer; a cache write was dropped. %s", error)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as error:
            logger.error("Redis (REDIS_URL) does not answer; a cache write was dropped. %s", error)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as error:
            logger.error("Redis (REDIS_URL) does not answer; a cache delete was dropped. %s", error)
            return False
