"""``/api/v1/events``: every change to the caller's customers, as a feed another system follows.

The feed is oldest first and read by cursor only. A cursor holds, for each of the caller's
merchants, the number of the last event it returned (``CustomerEvent.number`` counts each
merchant's events in the order they committed), and the next page starts strictly after it. So a
client polling with ``meta.next_cursor`` receives each event exactly once, however many clients
write meanwhile; on a page with no event the cursor it sent comes back, to poll with again.

A customer's own events (``/customers/{id}/events``) are newest first, like its history. The
feed's filters are ``customers.filtersets.EventFilterSet``, shared with the dashboard's Activity.
"""

import uuid

from django.core import signing
from django.db.models import Q, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from .pagination import WHOLE_NUMBER, cursor_parameters, cursor_response_schema

CURSOR_SALT = "customers.api.event-cursor"


class EventPagination(BasePagination):
    """``limit`` (1-100, default 20) and ``cursor``; ``meta``: limit, has_more, next_cursor.

    ``descending`` pages newest first (a customer's events); the feed pages oldest first and
    never ends: its ``next_cursor`` is null only before any event has been returned.
    """

    default_limit = 20
    max_limit = 100
    query_params = ("limit", "cursor")
    descending = False

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        limit = self._limit(request.query_params)
        given = request.query_params.get("cursor")
        positions = self._decode(given) if given is not None else {}
        # Per merchant, strictly past its position: a range of the (merchant, number) index.
        unseen = Q()
        for merchant_id in view.merchant_ids():
            position = positions.get(str(merchant_id))
            if position is None:
                unseen |= Q(merchant_id=merchant_id)
            elif self.descending:
                unseen |= Q(merchant_id=merchant_id, number__lt=position)
            else:
                unseen |= Q(merchant_id=merchant_id, number__gt=position)
        ordering = ("-number",) if self.descending else ("merchant_id", "number")
        rows = list(queryset.filter(unseen).order_by(*ordering)[: limit + 1]) if unseen else []
        has_more = len(rows) > limit
        rows = rows[:limit]
        for row in rows:
            positions[str(row.merchant_id)] = row.number
        if self.descending:
            next_cursor = self._encode(positions) if has_more else None
        elif rows:
            next_cursor = self._encode(positions)
        else:
            next_cursor = given  # nothing new: poll again with the same cursor
        self.meta = {"limit": limit, "has_more": has_more, "next_cursor": next_cursor}
        return rows

    def _limit(self, params) -> int:
        value = params.get("limit", str(self.default_limit))
        if not WHOLE_NUMBER.fullmatch(value) or not 1 <= int(value) <= self.max_limit:
            raise exceptions.ValidationError(
                {"limit": [f"Enter a whole number from 1 to {self.max_limit}."]}
            )
        return int(value)

    def _encode(self, positions: dict[str, int]) -> str:
        return signing.dumps([self.descending, positions], salt=CURSOR_SALT, compress=True)

    def _decode(self, cursor: str) -> dict[str, int]:
        try:
            descending, positions = signing.loads(cursor, salt=CURSOR_SALT)
            if descending != self.descending:
                raise ValueError("a cursor of the other list")
            return {str(uuid.UUID(key)): int(number) for key, number in positions.items()}
        except (signing.BadSignature, TypeError, ValueError, AttributeError):
            raise exceptions.ValidationError(
                {"cursor": ["This cursor is not valid; use meta.next_cursor as given."]}
            ) from None

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "meta": self.meta})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return cursor_response_schema(schema, self.max_limit, "Pass as `cursor` for the next page.")

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return cursor_parameters("Events", self.max_limit, self.default_limit)


class CustomerEventPagination(EventPagination):
    descending = True
