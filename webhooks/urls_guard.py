"""Where a webhook may be sent: ``https://`` (``http://`` only with ``WEBHOOKS_ALLOW_HTTP``), to
a host whose every address is public (loopback, private and multicast only with
``WEBHOOKS_ALLOW_PRIVATE``; link-local and cloud metadata never).

Checked when an endpoint is registered, and again before each delivery, against the addresses
the name resolves to then: the delivery connects to one of exactly those addresses, so a name
that is made to point somewhere else between the check and the call gains nothing.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

#: Never a target, whatever the settings: link-local (where clouds serve instance metadata).
ALWAYS_REFUSED = [ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10")]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """A URL a webhook may not be sent to; the message says why, for the person who gave it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: list[str]


#: Why a host's address cannot receive webhooks, by the kind of address.
REFUSALS = {
    "link-local": gettext_lazy(
        "The host %(host)s resolves to a link-local address, which cannot receive webhooks."
    ),
    "loopback": gettext_lazy(
        "The host %(host)s resolves to a loopback address, which cannot receive webhooks."
    ),
    "multicast": gettext_lazy(
        "The host %(host)s resolves to a multicast address, which cannot receive webhooks."
    ),
    "reserved": gettext_lazy(
        "The host %(host)s resolves to a reserved address, which cannot receive webhooks."
    ),
    "private": gettext_lazy(
        "The host %(host)s resolves to a private address, which cannot receive webhooks."
    ),
}


def _refusal(address: Address) -> str | None:
    """The kind of ``address`` that no webhook may be sent to (a key of ``REFUSALS``), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address in network for network in ALWAYS_REFUSED) or address.is_link_local:
        return "link-local"
    if settings.WEBHOOKS_ALLOW_PRIVATE:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_multicast:
        return "multicast"
    if address.is_unspecified or address.is_reserved:
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"
    return None


def check_scheme(url: str) -> None:
    """The scheme rule alone, which needs no network: for validating input early."""
    scheme = urlsplit(url).scheme.lower()
    if scheme == "https" or (scheme == "http" and settings.WEBHOOKS_ALLOW_HTTP):
        return
    raise UnsafeURL(_("Enter an https:// URL."))


def resolve(url: str) -> Target:
    """The URL's parts and the addresses to call, or ``UnsafeURL`` saying why none may be."""
    check_scheme(url)
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise UnsafeURL(_("Enter a URL with a host name."))
    if parts.username or parts.password:
        raise UnsafeURL(_("Enter a URL without a user name or password."))
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as error:
        raise UnsafeURL(_("Enter a URL with a valid port.")) from error
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(_("The host %(host)s could not be found.") % {"host": host}) from error
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    for text in addresses:
        refusal = _refusal(ipaddress.ip_address(text.split("%", 1)[0]))
        if refusal:
            raise UnsafeURL(REFUSALS[refusal] % {"host": host})
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=parts.scheme.lower(), host=host, port=port, path=path, addresses=addresses)
