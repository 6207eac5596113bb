"""Guessing passwords: the dashboard's and the admin's logins lock a username out, from one
client address, after LOGIN_FAILURE_LIMIT wrong passwords, for LOGIN_LOCKOUT_MINUTES."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertTemplateUsed

from tests.factories import make_user

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
PASSWORD = "a-long-passphrase"
ATTACKER = "203.0.113.7"


@pytest.fixture(autouse=True)
def three_failures_for_fifteen_minutes(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)


@pytest.fixture
def vera(merchant):
    return make_user(merchant, group="Viewer", username="vera", password=PASSWORD)


def log_in(url, username, password, address=ATTACKER, **headers):
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(url, {"username": username, "password": password})
    response.logged_in = "_auth_user_id" in client.session
    return response


def fail(times, url=LOGIN, username="vera", address=ATTACKER):
    return [log_in(url, username, f"wrong-{n}", address).status_code for n in range(times)]


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_wrong_passwords_up_to_the_limit_lock_out_even_the_right_one(vera, url):
    assert fail(3, url) == [200, 200, 429]

    right = log_in(url, "vera", PASSWORD)

    assert right.status_code == 429
    assert not right.logged_in


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN])
def test_the_lockout_page_says_what_happened_in_the_dashboards_layout(vera, url):
    fail(2, url)

    response = log_in(url, "vera", "wrong-again")

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assertTemplateUsed(response, "registration/locked_out.html")
    assertTemplateUsed(response, "base.html")
    page = " ".join(response.content.decode().split())
    assert "<h1>Too many failed logins</h1>" in page
    assert (
        "Logging in as <strong>vera</strong> from your address is paused after 3 wrong "
        "passwords in a row." in page
    )
    assert "Try again in 15 minutes: each new attempt before then starts the wait again." in page
    assert f'href="{url}">Back to the login page</a>' in page


def test_the_lockout_page_escapes_the_username_it_was_sent():
    fail(3, username="<b>eve</b>")

    response = log_in(LOGIN, "<b>eve</b>", "guess")

    assert response.status_code == 429
    assert "Logging in as <strong>&lt;b&gt;eve&lt;/b&gt;</strong>" in response.content.decode()


def test_the_passwords_tried_are_never_stored(vera):
    fail(2)

    (attempt,) = AccessAttempt.objects.all()
    assert "wrong-" not in attempt.post_data
    assert "password=********************" in attempt.post_data


def test_a_username_that_does_not_exist_is_locked_out_the_same_way():
    assert fail(3, username="nobody") == [200, 200, 429]


def test_the_dashboard_and_the_admin_share_one_count(vera):
    fail(2, LOGIN)

    assert fail(1, ADMIN_LOGIN) == [429]


def test_the_same_username_from_another_address_still_logs_in(vera):
    fail(3)

    response = log_in(LOGIN, "vera", PASSWORD, address="198.51.100.20")

    assert response.status_code == 302
    assert response.logged_in


def test_another_username_from_the_same_address_still_logs_in(merchant, vera):
    make_user(merchant, group="Viewer", username="binta", password=PASSWORD)
    fail(3)

    response = log_in(LOGIN, "binta", PASSWORD)

    assert response.status_code == 302
    assert response.logged_in


def test_a_forwarded_for_header_does_not_change_the_address_by_default(vera):
    fail(3)

    response = log_in(LOGIN, "vera", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_is_the_one_it_forwards(vera, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(3):
        log_in(LOGIN, "vera", f"wrong-{n}", proxy, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, {ATTACKER}")

    locked = log_in(LOGIN, "vera", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=ATTACKER)
    other_client = log_in(LOGIN, "vera", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")

    assert locked.status_code == 429
    assert other_client.status_code == 302


def test_the_lockout_lifts_once_the_wait_is_over(vera):
    fail(3)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))

    response = log_in(LOGIN, "vera", PASSWORD)

    assert response.status_code == 302
    assert response.logged_in


def test_an_attempt_during_the_lockout_starts_the_wait_again(vera):
    fail(3)
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=10))
    assert fail(1) == [429]
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=10))

    assert log_in(LOGIN, "vera", PASSWORD).status_code == 429


def test_a_successful_login_before_the_limit_starts_the_count_again(vera):
    fail(2)
    assert log_in(LOGIN, "vera", PASSWORD).status_code == 302

    assert fail(2) == [200, 200]


def test_deleting_the_attempts_in_the_admin_unlocks_at_once(merchant, vera):
    fail(3)
    admin = Client()
    admin.force_login(make_user(merchant, is_superuser=True))
    attempt = AccessAttempt.objects.get(username="vera")

    admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}, follow=True
    )

    assert log_in(LOGIN, "vera", PASSWORD).status_code == 302
