"""Rows of a large import validated in processes of their own, while the importing process
writes the batches before them: the rules of a row (phone numbers, emails, countries, the
model's checks) are most of an import's work, and they need no database.

Each worker is a fresh Python that sets Django up once; it gets a batch's cells and gives back
the batch validated (``services.customers_import_validate``), in the file's order. This module
imports no model at its top: a worker unpickles its functions before Django is set up.
"""

from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any


def start() -> None:
    """A worker's first step: Django, from the same settings as the process that started it."""
    import django

    django.setup()


def validate(merchant, actor: str, columns, width: int, chunk: list) -> list:
    """One batch's rows, read from their cells and validated; the customers go back without
    their merchant (the importing process has it)."""
    from .imports import rows_of
    from .services import customers_import_validate

    built = customers_import_validate(
        merchant=merchant, rows=rows_of(chunk, columns, width), actor=actor
    )
    for _, customer, _ in built:
        customer._state.fields_cache.clear()
    return built


def validated_in_workers(
    chunks: Iterable[list], *, workers: int, merchant, actor: str, columns, width: int
) -> Iterator[tuple[list, list]]:
    """``(chunk, its rows validated)`` for each chunk, in order, validated by ``workers``
    processes. At most two chunks per worker are read ahead, so memory stays flat."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    from .models import Customer

    remember_merchant = Customer.merchant.field.set_cached_value
    chunks = iter(chunks)
    pending: deque[tuple[list, Future[Any]]] = deque()
    with ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=start
    ) as pool:

        def read_ahead() -> None:
            chunk = next(chunks, None)
            if chunk:
                future = pool.submit(validate, merchant, actor, columns, width, chunk)
                pending.append((chunk, future))

        for _ in range(2 * workers):
            read_ahead()
        while pending:
            chunk, future = pending.popleft()
            built = future.result()
            read_ahead()
            for _, customer, _ in built:
                remember_merchant(customer, merchant)
            yield chunk, built
