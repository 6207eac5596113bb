"""A real Chromium driven by Playwright against pytest-django's live server.

Debian's Chromium is launched by path (Playwright's own browser download is not used): its
``chromium-headless-shell``, the same engine without the desktop browser around it (a third
lighter on CPU than ``chromium --headless``, which keeps ``make test`` fast), or else
``chromium``. A missing browser skips these tests on a workstation, and fails them in CI.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client
from django.test.testcases import QuietWSGIRequestHandler

from tests.factories import STAFF_GROUPS, staff_group

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The live server answers a request in a few writes (the headers, then the body). On a kept-alive
# connection, Nagle's algorithm held the body back until the browser acknowledged the headers,
# which it delays by 40 ms: every page and every request of a page waited 40 ms for nothing.
QuietWSGIRequestHandler.disable_nagle_algorithm = True


CHROMIUM_EXECUTABLES = ["chromium-headless-shell", "chromium"]


def chromium_path() -> str | None:
    for name in CHROMIUM_EXECUTABLES:
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        reason = (
            "Chromium is not installed (apt-get install chromium-headless-shell); "
            "browser tests need it."
        )
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test code still
    # talks to the database synchronously, which is safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def context(browser, live_server, transactional_db):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture(autouse=True)
def staff_groups(transactional_db):
    """The groups the data migration makes: a live-server test starts from a flushed database,
    where only what ``post_migrate`` rebuilds (content types, permissions) is back."""
    for name in STAFF_GROUPS:
        staff_group(name)


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def log_in(context, live_server):
    """Give the browser a session for ``user``, as if they had logged in."""

    def log_in(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )
        return user

    return log_in
