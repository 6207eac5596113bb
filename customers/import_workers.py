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
    """A worker's first step: Django, from the same settings as the process that started it;
    and a watch on that process, so that a worker never outlives an import that was killed."""
    import os
    import threading
    import time

    import django

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="import-parent-watch", daemon=True).start()
    django.setup()


def validate(merchant, actor: str, columns, width: int, chunk: list) -> list:
    """One batch's rows, read from their cells and validated, sent back plainly: each row's
    number, fields and problems, and its customer's values (model instances would cost more to
    send than to validate)."""
    from .imports import rows_of
    from .models import Customer, column_attnames
    from .services import customers_import_validate

    built = customers_import_validate(
        merchant=merchant, rows=rows_of(chunk, columns, width), actor=actor
    )
    names = column_attnames(Customer)
    return [
        (row.number, row.fields, row.errors or None, [customer.__dict__[n] for n in names], errors)
        for row, customer, errors in built
    ]


def validated_in_workers(
    chunks: Iterable[list], *, workers: int, merchant, actor: str, columns, width: int
) -> Iterator[tuple[list, list]]:
    """``(chunk, its rows validated)`` for each chunk, in order, validated by ``workers``
    processes. At most two chunks per worker are read ahead, so memory stays flat."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor

    from .models import Customer, column_attnames, instance_from_columns
    from .services import ImportRow

    names = column_attnames(Customer)
    remember_merchant = Customer.merchant.field.set_cached_value

    def customer_of(values: list) -> Customer:
        # What Customer(**fields) made in the worker: a new customer of the importing merchant.
        customer = instance_from_columns(Customer, zip(names, values, strict=True))
        remember_merchant(customer, merchant)
        return customer

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
            sent = future.result()
            read_ahead()
            yield (
                chunk,
                [
                    (ImportRow(number, fields, row_errors or {}), customer_of(values), errors)
                    for number, fields, row_errors, values, errors in sent
                ],
            )
