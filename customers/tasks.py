"""The background work of the dashboard's imports, run by the task framework's workers
(``make worker``)."""

from django_tasks import task

from . import import_jobs


@task()
def validate_import(import_id: str) -> str:
    """The dry run of an uploaded file (a no-op unless it is waiting for one, or its worker
    stopped: then it starts again)."""
    return import_jobs.validate(import_id)


@task()
def run_import(import_id: str) -> str:
    """The import of a validated file once confirmed (a no-op unless it is queued, or its
    worker stopped: then it goes on from the last committed batch)."""
    return import_jobs.run(import_id)
