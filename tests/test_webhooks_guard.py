"""Where a webhook may go: https, public addresses; the rest refused with a reason."""

import pytest

from webhooks.urls_guard import UnsafeURL, resolve


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE = False
    return settings


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://127.0.0.1/hook", "a loopback address"),
        ("https://localhost/hook", "a loopback address"),  # a name that resolves to loopback
        ("https://[::1]/hook", "a loopback address"),
        ("https://[::ffff:10.0.0.1]/hook", "a private address"),
        ("https://10.1.2.3/hook", "a private address"),
        ("https://192.168.0.10/hook", "a private address"),
        ("https://172.16.5.4/hook", "a private address"),
        ("https://100.64.0.1/hook", "a private address"),  # carrier-grade NAT
        ("https://0.0.0.0/hook", "a reserved address"),
        ("https://224.0.0.1/hook", "a multicast address"),
        ("https://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[fe80::1]/hook", "a link-local address"),
    ],
)
def test_hosts_that_are_not_public_are_refused(production, url, reason):
    with pytest.raises(UnsafeURL) as refused:
        resolve(url)
    assert reason in str(refused.value)


def test_link_local_and_cloud_metadata_are_refused_even_when_private_hosts_are_allowed(settings):
    settings.WEBHOOKS_ALLOW_HTTP = settings.WEBHOOKS_ALLOW_PRIVATE = True
    with pytest.raises(UnsafeURL, match="link-local"):
        resolve("http://169.254.169.254/latest/meta-data/")
    assert resolve("http://127.0.0.1:8080/hook").addresses == ["127.0.0.1"]


def test_plain_http_is_refused_unless_allowed(production, settings):
    with pytest.raises(UnsafeURL, match=r"Enter an https:// URL\."):
        resolve("http://93.184.215.14/hook")
    settings.WEBHOOKS_ALLOW_HTTP = True
    assert resolve("http://93.184.215.14/hook").addresses == ["93.184.215.14"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "Enter an https:// URL."),
        ("https:///hook", "Enter a URL with a host name."),
        ("https://user:pass@93.184.215.14/hook", "Enter a URL without a user name or password."),
        ("https://93.184.215.14:99999/hook", "Enter a URL with a valid port."),
        ("https://no-such-host.invalid/hook", "The host no-such-host.invalid could not be found."),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(production, url, message):
    with pytest.raises(UnsafeURL) as refused:
        resolve(url)
    assert str(refused.value) == message


def test_a_public_address_is_called_with_its_path_and_query(production):
    target = resolve("https://93.184.215.14:8443/hooks/customers?tenant=1")
    assert (target.scheme, target.host, target.port, target.path, target.addresses) == (
        "https",
        "93.184.215.14",
        8443,
        "/hooks/customers?tenant=1",
        ["93.184.215.14"],
    )
