"""Misconfiguration fails loudly, at start-up, with a message that says what to fix."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from customers.api.throttling import parse_rate

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh interpreter with only ``env`` set."""
    variables = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
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


@pytest.mark.parametrize("rate", ["1000", "1000/fortnight", "many/minute", "/minute"])
def test_a_malformed_throttle_rate_is_refused(rate):
    with pytest.raises(ImproperlyConfigured, match="A throttle rate looks like '1000/minute'"):
        parse_rate(rate)


@pytest.mark.parametrize(
    ("rate", "parsed"), [("1000/minute", (1000, 60)), ("5/s", (5, 1)), ("20/day", (20, 86400))]
)
def test_a_throttle_rate_is_read_from_its_first_letter(rate, parsed):
    assert parse_rate(rate) == parsed
