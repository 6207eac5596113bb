"""Misconfiguration fails loudly, at start-up, with a message that says what to fix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from customers.api.throttling import parse_rate

ROOT = Path(__file__).resolve().parent.parent


def load_settings(*, then: str = "", **env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with only ``env`` set, then run ``then``."""
    variables = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, "-c", f"import config.settings as s; {then}"],
        cwd=ROOT, env=variables, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_settings_load_for_development_with_nothing_set():
    assert load_settings(DEBUG="true").returncode == 0


def test_production_without_a_secret_key_refuses_to_start():
    result = load_settings(DEBUG="false")
    assert result.returncode == 1
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize("name", ["DEBUG", "SECURE_SSL_REDIRECT"])
def test_a_switch_that_is_not_true_or_false_refuses_to_start(name):
    result = load_settings(**{"DEBUG": "true", name: "maybe"})
    assert result.returncode == 1
    assert f"ImproperlyConfigured: {name} must be true or false, not 'maybe'." in result.stderr


def test_the_login_lockout_and_the_client_address_are_read_from_the_environment():
    show = "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME, s.TRUSTED_PROXY_COUNT)"
    configured = {
        "LOGIN_FAILURE_LIMIT": "8",
        "LOGIN_LOCKOUT_MINUTES": "30",
        "TRUSTED_PROXY_COUNT": "1",
    }

    assert load_settings(DEBUG="true", then=show).stdout == "5 0:15:00 0\n"
    assert load_settings(DEBUG="true", then=show, **configured).stdout == "8 0:30:00 1\n"


@pytest.mark.parametrize(
    ("name", "value", "minimum"),
    [
        ("LOGIN_FAILURE_LIMIT", "many", 1),
        ("LOGIN_FAILURE_LIMIT", "0", 1),
        ("LOGIN_LOCKOUT_MINUTES", "0", 1),
        ("LOGIN_LOCKOUT_MINUTES", "1.5", 1),
        ("TRUSTED_PROXY_COUNT", "-1", 0),
    ],
)
def test_a_count_that_is_not_a_whole_number_in_range_refuses_to_start(name, value, minimum):
    result = load_settings(**{"DEBUG": "true", name: value})
    assert result.returncode == 1
    assert (
        f"ImproperlyConfigured: {name} must be a whole number of at least {minimum}, not {value!r}."
        in result.stderr
    )


@pytest.mark.parametrize("rate", ["1000", "1000/fortnight", "many/minute", "/minute"])
def test_a_malformed_throttle_rate_is_refused(rate):
    with pytest.raises(ImproperlyConfigured, match="A throttle rate looks like '1000/minute'"):
        parse_rate(rate)


@pytest.mark.parametrize(
    ("rate", "parsed"), [("1000/minute", (1000, 60)), ("5/s", (5, 1)), ("20/day", (20, 86400))]
)
def test_a_throttle_rate_is_read_from_its_first_letter(rate, parsed):
    assert parse_rate(rate) == parsed


def test_postgresql_connections_are_bounded_in_time_from_the_environment():
    result = load_settings(
        then="print(s.DATABASES['default']['OPTIONS'])",
        DEBUG="true",
        DATABASE_URL="postgres://app@db.example.com:5432/customers",
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_STATEMENT_TIMEOUT="7",
    )
    assert result.stdout.strip() == "{'connect_timeout': 3, 'options': '-c statement_timeout=7s'}"


def test_the_web_app_limits_statements_by_default_and_commands_do_not():
    env = {
        "PATH": os.environ["PATH"],
        "DEBUG": "true",
        "DATABASE_URL": "postgres://app@db.example.com:5432/customers",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    show = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    web, command = (
        subprocess.run(
            [sys.executable, "-c", f"{first}; {show}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        ).stdout.strip()
        for first in ("import config.wsgi", "import django; django.setup()")
    )  # fmt: skip
    assert "'options': '-c statement_timeout=15s'" in web
    assert "'options': '-c statement_timeout=0s'" in command
