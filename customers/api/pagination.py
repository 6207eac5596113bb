"""The list's two pagination modes.

Page mode (``?page=``, the default) says ``total`` and ``pages``: from the merchants' kept
counts when they can answer, otherwise counted up to a cap (``meta.total_is_exact`` says
which; see ``customers.listing``). Cursor mode (``?cursor=``) never counts: it continues
strictly after the last row it returned, on the ordering's columns and then the id (a keyset
served by the ordering's (merchant, …, id) index), so rows created or deleted meanwhile never
make a client skip or repeat one.

Cursors are signed: opaque to clients, and a tampered or foreign one is a 400 naming ``cursor``.
"""

import math
import re
from typing import Any

from django.db.models import QuerySet
from rest_framework import exceptions
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from customers.listing import TOTAL_CAP, KeysetPosition, first_rows, page_rows

WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")


def cursor_response_schema(schema: dict, max_limit: int, next_cursor: str) -> dict:
    """The envelope of a page of a list walked by cursor only: ``data`` and its ``meta``."""
    return {
        "type": "object",
        "required": ["data", "meta"],
        "properties": {
            "data": schema,
            "meta": {
                "type": "object",
                "required": ["limit", "has_more", "next_cursor"],
                "properties": {
                    "limit": {"type": "integer", "minimum": 1, "maximum": max_limit},
                    "has_more": {"type": "boolean"},
                    "next_cursor": {"type": "string", "nullable": True, "description": next_cursor},
                },
            },
        },
    }


def cursor_parameters(rows: str, max_limit: int, default_limit: int) -> list[dict]:
    """The query parameters of a list walked by cursor only: ``limit`` and ``cursor``."""
    return [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "description": f"{rows} per page, 1 to {max_limit}.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": max_limit,
                "default": default_limit,
            },
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "`meta.next_cursor` of the previous page.",
            "schema": {"type": "string", "minLength": 1},
        },
    ]


class CustomerPagination(BasePagination):
    """``limit`` (1-100, default 20) with ``page`` (from 1) or ``cursor``.

    ``meta`` in page mode: page, limit, total, pages, has_more, next_cursor; in cursor mode:
    limit, has_more, next_cursor. ``next_cursor`` is null exactly when ``has_more`` is false.
    """

    default_limit = 20
    max_limit = 100
    query_params = ("limit", "page", "cursor")

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        params = request.query_params
        ordering = str(queryset.query.order_by[0])
        errors: dict[str, list[str]] = {}
        limit = self._whole_number(params, "limit", self.default_limit, errors)
        if limit is not None and not 1 <= limit <= self.max_limit:
            errors["limit"] = [f"Enter a whole number from 1 to {self.max_limit}."]
        page = self._whole_number(params, "page", 1, errors)
        if page is not None and page < 1:
            errors["page"] = ["Enter a whole number from 1."]
        position = None
        if "cursor" in params:
            if "page" in params:
                errors["page"] = ["Send either page or cursor, not both."]
            try:
                position = KeysetPosition.decode(params["cursor"])
            except ValueError:
                errors["cursor"] = ["This cursor is not valid; use meta.next_cursor as given."]
            else:
                if position.ordering != ordering:
                    errors["cursor"] = [
                        f"This cursor was issued for ordering={position.ordering}; "
                        "send that ordering with it."
                    ]
        if errors or limit is None or page is None:
            raise exceptions.ValidationError(errors)

        self.meta: dict[str, Any]
        if position is not None:
            rows = first_rows(queryset.filter(position.rows_after()), limit + 1)
            self.meta = {"limit": limit}
        else:
            offset = (page - 1) * limit
            if offset == 0:
                # A first page that is not full is the whole list: nothing to count.
                rows = page_rows(queryset, 0, limit + 1)
                total, exact = (len(rows), True) if len(rows) <= limit else view.list_total()
            else:
                # The view knows which filters are in force, and so how to total them.
                total, exact = view.list_total()
                past_the_end = exact and offset >= total
                rows = [] if past_the_end else page_rows(queryset, offset, limit + 1)
            self.meta = {
                "page": page,
                "limit": limit,
                "total": total,
                "total_is_exact": exact,
                "pages": math.ceil(total / limit),
            }
        has_more = len(rows) > limit
        rows = rows[:limit]
        self.meta["has_more"] = has_more
        self.meta["next_cursor"] = (
            KeysetPosition.after_row(ordering, rows[-1]).encode() if has_more and rows else None
        )
        return rows

    def _whole_number(self, params, name: str, default: int, errors: dict) -> int | None:
        if name not in params:
            return default
        value = params[name]
        if not WHOLE_NUMBER.fullmatch(value):
            errors[name] = ["Enter a whole number."]
            return None
        return int(value)

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "meta": self.meta})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        nullable_cursor = {
            "type": "string",
            "nullable": True,
            "description": "Pass as `cursor` for the next page; null when has_more is false.",
        }
        return {
            "type": "object",
            "required": ["data", "meta"],
            "properties": {
                "data": schema,
                "meta": {
                    "type": "object",
                    "description": (
                        "Page mode: page, limit, total, total_is_exact, pages, has_more, "
                        "next_cursor. `total` is exact when `total_is_exact`; otherwise there "
                        f"are more than {TOTAL_CAP} matches and `total` is {TOTAL_CAP}. "
                        "Cursor mode (with `cursor`): limit, has_more, next_cursor; it never "
                        "counts."
                    ),
                    "required": ["limit", "has_more", "next_cursor"],
                    "properties": {
                        "page": {"type": "integer", "minimum": 1},
                        "limit": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
                        "total": {"type": "integer", "minimum": 0},
                        "total_is_exact": {"type": "boolean"},
                        "pages": {"type": "integer", "minimum": 0},
                        "has_more": {"type": "boolean"},
                        "next_cursor": nullable_cursor,
                    },
                },
            },
        }

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Customers per page, 1 to {self.max_limit}.",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_limit,
                    "default": self.default_limit,
                },
            },
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number; a page past the end is empty. Not with `cursor`.",
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": (
                    "`meta.next_cursor` of the previous page, with the same filters and "
                    "ordering; switches to cursor pagination (no total)."
                ),
                "schema": {"type": "string"},
            },
        ]


class WebhookEndpointPagination(BasePagination):
    """``limit`` (1-100, default 20) and ``cursor``, newest first; ``meta``: limit, has_more,
    next_cursor (null exactly when has_more is false). A merchant has a handful of endpoints,
    so nothing is counted: the list is walked by keyset like the customers' cursor mode."""

    default_limit = 20
    max_limit = 100
    query_params = ("limit", "cursor")
    ordering = "-created_at"

    def paginate_queryset(self, queryset: QuerySet, request, view=None) -> list:
        params = request.query_params
        errors: dict[str, list[str]] = {}
        given = params.get("limit", str(self.default_limit))
        limit = int(given) if WHOLE_NUMBER.fullmatch(given) else 0
        if not 1 <= limit <= self.max_limit:
            errors["limit"] = [f"Enter a whole number from 1 to {self.max_limit}."]
        queryset = queryset.order_by(self.ordering, "-pk")
        if "cursor" in params:
            try:
                position = KeysetPosition.decode(params["cursor"])
                if position.ordering != self.ordering:
                    raise ValueError("a cursor of another list")
                queryset = queryset.filter(position.rows_after())
            except ValueError:
                errors["cursor"] = ["This cursor is not valid; use meta.next_cursor as given."]
        if errors:
            raise exceptions.ValidationError(errors)
        rows = list(queryset[: limit + 1])
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            KeysetPosition.after_row(self.ordering, rows[-1]).encode() if has_more else None
        )
        self.meta = {"limit": limit, "has_more": has_more, "next_cursor": next_cursor}
        return rows

    def get_paginated_response(self, data) -> Response:
        return Response({"data": data, "meta": self.meta})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return cursor_response_schema(
            schema,
            self.max_limit,
            "Pass as `cursor` for the next page; null when has_more is false.",
        )

    def get_schema_operation_parameters(self, view) -> list[dict]:
        return cursor_parameters("Endpoints", self.max_limit, self.default_limit)
