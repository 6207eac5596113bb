"""Imports from the dashboard (``CustomerImport``): an uploaded file validated in full by a dry
run, then, once the person confirms, imported by a background task.

The rules are ``customers.imports``' (reading, columns, rows), the writes
``services.customers_import_batch``'; this module keeps the record of one import: where its file
is, what the dry run found, how far the task has gone and what it did. Workers of the task
framework run ``validate`` and ``run`` (``customers.tasks``); each first claims the import with
a conditional UPDATE, so a task enqueued twice, or for an import cancelled meanwhile, does
nothing.
"""

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, cast

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from .imports import ImportRefused, ImportSummary, import_rows, map_columns, read_file
from .models import CustomerImport, Merchant
from .services import actor_label

logger = logging.getLogger(__name__)

Status = CustomerImport.Status

#: How long a worker holds an import without showing it is alive (it does with every batch of
#: rows, and a batch takes a second or so): past this, it is taken for stopped (killed,
#: restarted, out of memory) and another worker takes the import over.
LEASE = timedelta(minutes=10)
#: Taken over this many times, an import that stops again is failed: a file that kills its
#: worker every time is not tried for ever.
MAX_TAKEOVERS = 3


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
        language=translation.get_language() or settings.LANGUAGE_CODE,
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


def stopped_message(rows_done: int, *, importing: bool) -> str:
    """What a person reads when the worker stopped again and again (``MAX_TAKEOVERS``)."""
    if not importing:
        return "The validation stopped unexpectedly; upload the file again."
    return (
        f"The import stopped unexpectedly after {rows_done} rows; re-run it: rows already "
        "imported are skipped."
    )


def _claim(import_id: str, *, waiting: str, working: str, task, **changes) -> CustomerImport | None:
    """The import, now held by this worker: it was ``waiting``, or it is ``working`` still but
    its worker stopped showing it was alive (``LEASE``) and this one takes it over. ``None`` if
    there is nothing to do (finished, cancelled, or alive in another worker: then ``task`` is
    enqueued again for when that worker's lease runs out).

    Held means ``heartbeat_at`` is this worker's; ``task`` is enqueued for when the lease runs
    out, in the same transaction, so that a worker that dies leaves the import to be taken
    over, as webhook deliveries are."""
    now = timezone.now()
    with transaction.atomic():
        # Waiting, and nobody's: a validation's status is the same before and while it runs.
        won = CustomerImport.objects.filter(pk=import_id, status=waiting, heartbeat_at=None).update(
            status=working, heartbeat_at=now, **changes
        )
        if not won:
            current = (
                CustomerImport.objects.filter(pk=import_id, status=working)
                .only("heartbeat_at", "takeovers", "rows_done")
                .first()
            )
            if current is None:
                return None
            if current.heartbeat_at is not None and current.heartbeat_at > now - LEASE:
                task.using(run_after=current.heartbeat_at + LEASE).enqueue(import_id)
                return None
            if current.takeovers >= MAX_TAKEOVERS:
                CustomerImport.objects.filter(
                    pk=import_id, status=working, heartbeat_at=current.heartbeat_at
                ).update(
                    status=Status.FAILED,
                    error=stopped_message(current.rows_done, importing=working == Status.RUNNING),
                    finished_at=now,
                )
                return None
            won = CustomerImport.objects.filter(
                pk=import_id, status=working, heartbeat_at=current.heartbeat_at
            ).update(heartbeat_at=now, takeovers=F("takeovers") + 1)
            if not won:
                return None
            logger.warning("Import %s: its worker stopped; taken over", import_id)
        task.using(run_after=now + LEASE).enqueue(import_id)
    return CustomerImport.objects.select_related("merchant").get(pk=import_id)


class LeaseLost(Exception):
    """Another worker took the import over (this one was taken for dead): stop, writing
    nothing more."""


def _progress(
    customer_import: CustomerImport, summary: ImportSummary, counts: Callable[[], dict[str, Any]]
) -> Callable[[int], None]:
    """Called by ``import_rows`` after each batch (inside its transaction when it has one): one
    UPDATE of the import's row per batch, which also renews this worker's lease. Should the
    lease be another worker's now, ``LeaseLost``, and the batch is rolled back with it."""

    def report(_rows: int) -> None:
        now = timezone.now()
        held = CustomerImport.objects.filter(
            pk=customer_import.pk, heartbeat_at=customer_import.heartbeat_at
        ).update(rows_done=summary.read, heartbeat_at=now, **counts())
        if not held:
            raise LeaseLost(customer_import.pk)
        customer_import.heartbeat_at = now

    return report


def _fail(
    customer_import: CustomerImport, error: BaseException, *, importing: bool, **changes
) -> None:
    """Never left validating or running: the import says why it stopped."""
    logger.exception("Import %s failed", customer_import.pk)
    CustomerImport.objects.filter(
        pk=customer_import.pk, heartbeat_at=customer_import.heartbeat_at
    ).update(
        status=Status.FAILED,
        error=failure_message(error, rows_done=changes["rows_done"], importing=importing),
        finished_at=timezone.now(),
        **changes,
    )


def _in_authors_language(work: Callable[[str], str]) -> Callable[[str], str]:
    """``work(import_id)`` in the language of the import's author, who reads what it writes:
    the problems of the rejected rows (on the review page and in the rejects file) and why it
    failed."""

    @functools.wraps(work)
    def in_language(import_id: str) -> str:
        found = CustomerImport.objects.filter(pk=import_id).values_list("language", flat=True)
        with translation.override(found.first() or settings.LANGUAGE_CODE):
            return work(import_id)

    return in_language


@_in_authors_language
def validate(import_id: str) -> str:
    """The dry run of the whole file: what the import would create, update, skip and reject,
    and the first rejected rows. Nothing is written but the import's own record. Taken over
    from a worker that stopped, it starts again from the top."""
    from .tasks import validate_import

    customer_import = _claim(
        import_id,
        waiting=Status.VALIDATING,
        working=Status.VALIDATING,
        task=validate_import,
        rows_done=0,
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
    except LeaseLost:
        return "taken over by another worker"
    except Exception as error:
        _fail(customer_import, error, importing=False, rows_done=summary.read)
        raise
    CustomerImport.objects.filter(
        pk=customer_import.pk,
        status=Status.VALIDATING,
        heartbeat_at=customer_import.heartbeat_at,
    ).update(
        status=Status.VALIDATED,
        total_rows=summary.total,
        rows_done=summary.read,
        dry_run_rejects=[list(reject) for reject in summary.rejects],
        validated_at=timezone.now(),
        heartbeat_at=None,
        **counts(),
    )
    return summary.line()


@_in_authors_language
def run(import_id: str) -> str:
    """The import itself, batch by batch, its counts kept up to date as batches commit; the
    rejected rows end up in the import's rejects file. Done, the stored upload is deleted.

    Taken over from a worker that stopped, it goes on after the last committed batch, with the
    counts that batch recorded (``import_rows``' ``resume_after``)."""
    from .tasks import run_import

    customer_import = _claim(
        import_id,
        waiting=Status.QUEUED,
        working=Status.RUNNING,
        task=run_import,
        rows_done=0,
        started_at=timezone.now(),
    )
    if customer_import is None:
        return "not queued"
    summary = ImportSummary(
        read=customer_import.rows_done,
        created=customer_import.created,
        updated=customer_import.updated,
        skipped=customer_import.skipped,
        rejected=customer_import.rejected,
    )

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
                    resume_after=customer_import.rows_done,
                )
            if summary.rejects_path:
                with open(rejects_path, "rb") as rejects:
                    customer_import.rejects_file.save("rejects.csv", File(rejects), save=False)
    except LeaseLost:
        return "taken over by another worker"
    except Exception as error:
        _fail(customer_import, error, importing=True, rows_done=summary.read, **counts())
        raise
    CustomerImport.objects.filter(
        pk=customer_import.pk, heartbeat_at=customer_import.heartbeat_at
    ).update(
        status=Status.DONE,
        rows_done=summary.read,
        rejects_file=customer_import.rejects_file.name or None,
        upload="",
        finished_at=timezone.now(),
        heartbeat_at=None,
        **counts(),
    )
    customer_import.upload.delete(save=False)
    return summary.line()
