"""The background work of webhooks, run by the task framework's workers (``make worker``)."""

from django_tasks import task

from . import delivery


@task()
def deliver(delivery_id: str) -> str:
    """Make the due attempt of one delivery (a no-op if another worker holds it or it is done)."""
    return delivery.attempt(delivery_id)
