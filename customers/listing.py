"""How every door totals and pages a customer list at any size.

- The total comes from the merchants' kept counts when the filters in force are ones they know
  (none, status, type, active); otherwise the matches are counted up to ``TOTAL_CAP``, and past
  it the total says "at least" rather than count the merchant's whole table.
- A page past the first finds its rows' ids in the ordering's index alone, then fetches just
  those rows (a deferred join): a deep page reads index entries, not the rows it skips.
- A first page, a cursor's page and one customer by id are read by ``first_rows``: the ORM
  compiles their WHERE clause, and the rest of the statement is built once (``WholeRows``).
"""

import datetime
import uuid
from collections.abc import Sequence

from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import F, Q, QuerySet, Subquery
from django.db.models.fields.tuple_lookups import (  # type: ignore[import-untyped]  # no stubs
    Tuple,
    TupleGreaterThan,
    TupleLessThan,
)

from .filtersets import CustomerFilterSet
from .models import (
    Customer,
    CustomerCount,
    WholeRows,
    orderable_columns,
    reads_own_rows,
    where_clause,
)

#: Past this many matches a total is not counted on: it is this number, and not exact.
TOTAL_CAP = 10_000


def list_total(filterset: CustomerFilterSet, counts: QuerySet[CustomerCount]) -> tuple[int, bool]:
    """(total, whether it is exact) of the customers ``filterset`` selects; ``counts`` are the
    kept counts of the merchants the list is scoped to. A refused filter selects nothing."""
    if not filterset.is_valid():
        return 0, True
    total = filterset.counted_total(counts)
    if total is not None:
        return total, True
    return capped_count(filterset.qs)


def capped_count(queryset: QuerySet) -> tuple[int, bool]:
    """(total, whether it is exact) of ``queryset``, counted up to ``TOTAL_CAP`` rows."""
    # No ORDER BY: the rows are only counted, and a LIMIT without a sort stops early.
    counted = queryset.order_by()[: TOTAL_CAP + 1].count()
    return min(counted, TOTAL_CAP), counted <= TOTAL_CAP


def first_rows(queryset: QuerySet[Customer], limit: int) -> list[Customer]:
    """``list(queryset[:limit])``: the read of a first page, of a cursor's page, of one
    customer by id.

    The ORM compiles a query of every column of the customers anew on each request: each column,
    the converters of its values, and each again to order the rows. Of all that, only the WHERE
    clause changes from one request to the next, and compiling the rest was the largest part of
    an API read. So the ORM compiles the WHERE clause, and the rest of the statement (the same
    text) is built once (``WholeRows``).

    A queryset of the customers table alone, filtered and ordered by its own columns, is read
    so; any other (a join, an annotation, a deferred column, an ordering by an expression) is
    read by the ORM."""
    ordering = plain_ordering(queryset)
    if ordering is None:
        return list(queryset[:limit])
    try:
        where, params = where_clause(queryset)
    except EmptyResultSet:
        return []
    return WholeRows.on(Customer, connections[queryset.db]).read(
        where, params, ordering=ordering, limit=limit
    )


def plain_ordering(queryset: QuerySet) -> list[str] | None:
    """The ordering of ``queryset`` (names of the customers' own columns, each maybe with a
    ``-``) when it is one ``first_rows`` can read: whole customers of their table alone
    (``reads_own_rows``). None for any other."""
    if queryset.model is not Customer or not reads_own_rows(queryset):
        return None
    query = queryset.query
    ordering = query.order_by or (Customer._meta.ordering if query.default_ordering else ())
    names = [name for name in ordering or () if isinstance(name, str)]
    if len(names) != len(ordering or ()):
        return None
    if not all(name.removeprefix("-") in orderable_columns(Customer) for name in names):
        return None
    return names


def page_rows(
    queryset: QuerySet[Customer], offset: int, limit: int, *, related: Sequence[str] = ()
) -> list[Customer]:
    """``queryset[offset:offset + limit]`` (an ordered queryset), with ``related`` joined (and
    nothing joined without: ``select_related()`` alone would join every foreign key)."""
    if offset == 0:
        if not related:
            return first_rows(queryset, limit)
        page = queryset[:limit]
    else:
        ids = queryset.values("pk")[offset : offset + limit]
        page = Customer.objects.filter(pk__in=Subquery(ids)).order_by(*queryset.query.order_by)
    return list(page.select_related(*related) if related else page)


class ListPaginator(Paginator):
    """Django's paginator over a customer list whose total is given (see ``list_total``) and
    whose pages are fetched by ``page_rows``. ``total_is_exact`` is false when the total is
    ``TOTAL_CAP`` and more match."""

    def __init__(
        self,
        object_list: QuerySet[Customer],
        per_page: int,
        *,
        total: int,
        total_is_exact: bool = True,
        related: Sequence[str] = (),
        **kwargs,
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = object_list
        self.total, self.total_is_exact, self.related = total, total_is_exact, related

    @property
    def count(self) -> int:
        return self.total

    def page(self, number) -> Page:
        number = self.validate_number(number)
        offset = (number - 1) * self.per_page
        rows = page_rows(self.rows, offset, self.per_page, related=self.related)
        # _get_page is Paginator's documented hook; django-stubs omit it.
        return self._get_page(rows, number, self)  # type: ignore[attr-defined]


#: Signs the keyset positions handed out as cursors (API) and "older" links (dashboard).
CURSOR_SALT = "customers.api.cursor"


class KeysetPosition:
    """Where a cursor points: just after the row whose ordering columns hold ``values`` and
    whose id is ``pk``, in ``ordering``: a key of ``CustomerFilterSet.ORDERINGS`` (``status``
    is ``status, created_at, id``). The other lists walked newest first by keyset (Activity's
    events, the webhook endpoints) use its ``-created_at`` the same way."""

    def __init__(self, ordering: str, values: Sequence, pk: uuid.UUID):
        self.ordering, self.values, self.pk = ordering, tuple(values), pk
        self.columns = self.columns_of(ordering)
        if len(self.values) != len(self.columns):
            raise ValueError(f"{ordering} orders by {len(self.columns)} columns before the id")

    @staticmethod
    def columns_of(ordering: str) -> tuple[str, ...]:
        """The columns ``ordering`` sorts by before the id: ``("status", "created_at")``."""
        try:
            *columns, _id = CustomerFilterSet.ORDERINGS[ordering]
        except KeyError:
            raise ValueError(f"no ordering {ordering!r}") from None
        return tuple(column.lstrip("-") for column in columns)

    @property
    def descending(self) -> bool:
        # Every column of an ordering goes the same way (see CustomerFilterSet.ORDERINGS).
        return self.ordering.startswith("-")

    def rows_after(self) -> Q:
        """Rows strictly after this position, ``(c1, …, cn, id) > (v1, …, vn, pk)`` (``<``
        when descending), as a range of the (merchant, c1, …, cn, id) index::

            c1 >= v1 AND (c1, …, cn, id) > (v1, …, vn, pk)

        PostgreSQL starts its index scan at the row comparison itself (Django's own, that of
        composite primary keys). Spelt out as the lexicographic OR-chain, ``c1 > v1 OR (c1 = v1
        AND c2 > v2) OR …``, it would only filter what the bound on ``c1`` lets through: a
        cursor deep in a long run of one value (most customers are active) would read the whole
        run before it, page after page. Where the database has no row values (SQLite), Django
        writes the comparison as that chain, and the bound on ``c1`` keeps it a range of the
        index.

        Every ordering column is NOT NULL: a NULL would compare neither before nor after the
        position, and its row would drop out of the walk."""
        keys = [F(column) for column in (*self.columns, "pk")]
        values = [*self.values, self.pk]
        if self.descending:
            bound, after = Q(**{f"{self.columns[0]}__lte": values[0]}), TupleLessThan
        else:
            bound, after = Q(**{f"{self.columns[0]}__gte": values[0]}), TupleGreaterThan
        return bound & Q(after(Tuple(*keys), values))

    def encode(self) -> str:
        values = [
            value.isoformat() if isinstance(value, datetime.datetime) else value
            for value in self.values
        ]
        return signing.dumps([self.ordering, values, str(self.pk)], salt=CURSOR_SALT, compress=True)

    @classmethod
    def decode(cls, cursor: str) -> "KeysetPosition":
        """The position a cursor encodes; ``ValueError`` for anything not issued by us. A cursor
        issued when every ordering had one column holds that column's value alone, and still
        reads as the position it was."""
        try:
            ordering, values, pk = signing.loads(cursor, salt=CURSOR_SALT)
            if not isinstance(values, list):
                values = [values]
            values = [
                datetime.datetime.fromisoformat(value) if column.endswith("_at") else value
                for column, value in zip(cls.columns_of(ordering), values, strict=True)
            ]
            return cls(ordering, values, uuid.UUID(pk))
        except (signing.BadSignature, TypeError, ValueError, AttributeError) as error:
            raise ValueError("not a cursor") from error

    @classmethod
    def after_row(cls, ordering: str, row) -> "KeysetPosition":
        values = [getattr(row, column) for column in cls.columns_of(ordering)]
        return cls(ordering, values, row.pk)
