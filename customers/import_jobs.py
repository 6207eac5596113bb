"""Imports from the dashboard (``CustomerImport``): an uploaded file validated in full by a dry
run, then, once the person confirms, imported by a background task.

The rules are ``customers.imports``' (reading, columns, rows), the writes
``services.customers_import_batch``'; this module keeps the record of one import: where its file
is, what the dry run found, how far the task has gone and what it did. Workers of the task
framework run ``validate`` and ``run`` (``customers.tasks``); each first claims the import with
a conditional UPDATE, so a task enqueued twice, or for an import cancelled meanwhile, does
nothing.
"""

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from .imports import ImportRefused, ImportSummary, import_rows, map_columns, read_file
from .models import CustomerImport, Merchant
from .services import actor_label

logger = logging.getLogger(__name__)

Status = CustomerImport.Status


def column_mapping(header: list[str]) -> list[list[str | None]]:
    """``[[file column, field or None], …]`` in the file's order (``None``: read, not imported);
    ``ImportRefused`` for a column that cannot be placed."""
    columns = map_columns(header)
    targets = {name: target for _, name, target, _ in columns.columns}
    return [[name, targets.get(name)] for name in header]


def customer_import_create(
    *,
    merchant: Merchant,
    user: User,
    upload: UploadedFile,
    update_existing: bool,
) -> CustomerImport:
    """Read the whole upload and map its columns (``ImportRefused`` if it cannot be imported:
    then nothing is kept), store it, and enqueue its dry run."""
    from .tasks import validate_import

    name = Path(upload.name or "").name
    table = read_file(cast(IO[bytes], upload.file), name)
    columns = column_mapping(table.header)
    customer_import = CustomerImport(
        merchant=merchant,
        uploaded_by=user,
        actor=actor_label(user),
        file_name=name[: CustomerImport.FILE_NAME_MAX_LENGTH],
        update_existing=update_existing,
        columns=columns,
        total_rows=table.total,
    )
    customer_import.upload.save(name, upload, save=False)
    try:
        with transaction.atomic():
            customer_import.save()
            validate_import.enqueue(str(customer_import.pk))
    except BaseException:
        customer_import.upload.delete(save=False)
        raise
    return customer_import


def customer_import_start(*, customer_import: CustomerImport) -> bool:
    """Queue the import of a validated file; ``False`` if it is no longer waiting to start
    (started already, by a second click or another person)."""
    from .tasks import run_import

    with transaction.atomic():
        queued = CustomerImport.objects.filter(
            pk=customer_import.pk, status=Status.VALIDATED
        ).update(status=Status.QUEUED)
        if queued:
            run_import.enqueue(str(customer_import.pk))
    return bool(queued)


def customer_import_cancel(*, customer_import: CustomerImport) -> bool:
    """Forget an import that has not started, and its stored file; ``False`` once started."""
    deleted, _ = CustomerImport.objects.filter(
        pk=customer_import.pk, status__in=[Status.VALIDATING, Status.VALIDATED]
    ).delete()
    if deleted:
        customer_import.upload.delete(save=False)
    return bool(deleted)


# --- the background work ------------------------------------------------------------------------


@contextmanager
def _stored_file(customer_import: CustomerImport) -> Iterator[IO[bytes]]:
    if not customer_import.upload:
        raise FileNotFoundError(customer_import.file_name)
    with customer_import.upload.storage.open(customer_import.upload.name, "rb") as stored:
        yield stored.file


def failure_message(error: BaseException, *, rows_done: int, importing: bool) -> str:
    """What a person reads when the task stopped: why, and what to do."""
    if isinstance(error, ImportRefused):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return "The uploaded file is no longer stored. Upload it again."
    kept = (
        f" The {rows_done} rows done before it are kept; import the same file again to go on "
        "(nothing is created twice)."
        if importing and rows_done
        else ""
    )
    return f"The import stopped on an unexpected error ({type(error).__name__}).{kept}"


def _progress(
    customer_import: CustomerImport, summary: ImportSummary, counts: Callable[[], dict[str, Any]]
) -> Callable[[int], None]:
    """Called by ``import_rows`` after each batch: one UPDATE of the import's row per batch."""

    def report(_rows: int) -> None:
        CustomerImport.objects.filter(pk=customer_import.pk).update(
            rows_done=summary.read, **counts()
        )

    return report


def _claim(import_id: str, *, waiting: str, working: str, **changes) -> CustomerImport | None:
    claimed = CustomerImport.objects.filter(pk=import_id, status=waiting).update(
        status=working, **changes
    )
    if not claimed:
        return None
    return CustomerImport.objects.select_related("merchant").get(pk=import_id)


def _fail(
    customer_import: CustomerImport, error: BaseException, *, importing: bool, **changes
) -> None:
    """Never left validating or running: the import says why it stopped."""
    logger.exception("Import %s failed", customer_import.pk)
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status=Status.FAILED,
        error=failure_message(error, rows_done=changes["rows_done"], importing=importing),
        finished_at=timezone.now(),
        **changes,
    )


def validate(import_id: str) -> str:
    """The dry run of the whole file: what the import would create, update, skip and reject,
    and the first rejected rows. Nothing is written but the import's own record."""
    customer_import = _claim(
        import_id, waiting=Status.VALIDATING, working=Status.VALIDATING, rows_done=0
    )
    if customer_import is None:
        return "not waiting for validation"
    summary = ImportSummary()

    def counts() -> dict[str, Any]:
        return {
            "would_create": summary.created,
            "would_update": summary.updated,
            "would_skip": summary.skipped,
            "would_reject": summary.rejected,
        }

    try:
        with _stored_file(customer_import) as source:
            table = read_file(source, customer_import.file_name)
            import_rows(
                customer_import.merchant,
                table,
                map_columns(table.header),
                actor=customer_import.actor,
                dry_run=True,
                update_existing=customer_import.update_existing,
                progress=_progress(customer_import, summary, counts),
                summary=summary,
            )
    except Exception as error:
        _fail(customer_import, error, importing=False, rows_done=summary.read)
        raise
    CustomerImport.objects.filter(pk=customer_import.pk, status=Status.VALIDATING).update(
        status=Status.VALIDATED,
        total_rows=summary.total,
        rows_done=summary.read,
        dry_run_rejects=[list(reject) for reject in summary.rejects],
        validated_at=timezone.now(),
        **counts(),
    )
    return summary.line()


def run(import_id: str) -> str:
    """The import itself, batch by batch, its counts kept up to date as batches commit; the
    rejected rows end up in the import's rejects file. Done, the stored upload is deleted."""
    customer_import = _claim(
        import_id,
        waiting=Status.QUEUED,
        working=Status.RUNNING,
        rows_done=0,
        started_at=timezone.now(),
    )
    if customer_import is None:
        return "not queued"
    summary = ImportSummary()

    def counts() -> dict[str, Any]:
        return {
            "created": summary.created,
            "updated": summary.updated,
            "skipped": summary.skipped,
            "rejected": summary.rejected,
        }

    try:
        with tempfile.TemporaryDirectory(prefix="customers-import-") as work:
            rejects_path = os.path.join(work, "rejects.csv")
            with _stored_file(customer_import) as source:
                table = read_file(source, customer_import.file_name)
                import_rows(
                    customer_import.merchant,
                    table,
                    map_columns(table.header),
                    actor=customer_import.actor,
                    update_existing=customer_import.update_existing,
                    rejects_path=rejects_path,
                    progress=_progress(customer_import, summary, counts),
                    summary=summary,
                )
            if summary.rejects_path:
                with open(rejects_path, "rb") as rejects:
                    customer_import.rejects_file.save("rejects.csv", File(rejects), save=False)
    except Exception as error:
        _fail(customer_import, error, importing=True, rows_done=summary.read, **counts())
        raise
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status=Status.DONE,
        rows_done=summary.read,
        rejects_file=customer_import.rejects_file.name or None,
        upload="",
        finished_at=timezone.now(),
        **counts(),
    )
    customer_import.upload.delete(save=False)
    return summary.line()
