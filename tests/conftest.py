import gc
import os

import pytest
from django.conf import settings

from tests.factories import make_merchant, make_user


@pytest.fixture
def merchant(db):
    return make_merchant("Teranga Shop", slug="teranga")


@pytest.fixture
def other_merchant(db):
    return make_merchant("Lagos Goods", slug="lagos-goods")


# Staff of ``merchant``, one per staff group.


@pytest.fixture
def viewer(merchant):
    return make_user(merchant, group="Viewer", username="vera")


@pytest.fixture
def editor(merchant):
    return make_user(merchant, group="Editor", username="eddie")


@pytest.fixture
def manager(merchant):
    return make_user(merchant, group="Manager", username="mona")


def pytest_sessionstart(session):
    """The suite makes millions of short-lived objects, few of them in cycles: the objects
    alive once Django and the tests are loaded are moved out of the collector's sight, and it
    runs less often (about a tenth of the suite's time went into collections that freed
    nothing)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL's own behaviour (real concurrency, trigram
    indexes); on SQLite they are deselected, visibly, and run in the PostgreSQL pass of CI.
    Tests marked ``sqlite`` are about SQLite itself, the other way round."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    other = "sqlite" if on_postgres else "postgres"
    selected = [item for item in items if other not in item.keywords]
    deselected = [item for item in items if other in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """In CI a skipped test is a failure: nothing may silently not run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if os.environ.get("CI") and skipped and not hasattr(session.config, "workerinput"):
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every test must run.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (throttle counters, cached filter choices)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def deleted_meanwhile(monkeypatch):
    """Another request deletes the customer between a door's read and its write: each door's
    call to the update and delete services first deletes the customer behind its back."""
    from customers import admin, forms, views
    from customers.api import serializers
    from customers.models import Customer

    def deleting_first(service):
        def run(*, customer, **kwargs):
            Customer.objects.filter(pk=customer.pk).delete()
            return service(customer=customer, **kwargs)

        return run

    for module, name in [
        (forms, "customer_update"), (serializers, "customer_update"),
        (views, "customer_delete"), (admin, "customer_delete"),
    ]:  # fmt: skip
        monkeypatch.setattr(module, name, deleting_first(getattr(module, name)))
