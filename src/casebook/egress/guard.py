"""The SSRF guard: which URLs casebook may call on a user's behalf.

A URL that an organisation configures (a Jira or ServiceNow base URL, a webhook) is
called by the server, from the server's network: without a check, it reaches what the
organisation itself cannot — the loopback interface, the private network behind the
server, a cloud's metadata address (169.254.169.254). ``check_url`` refuses:

- a scheme other than ``http`` or ``https``, and a URL without a host;
- a host that does not resolve;
- a host any of whose addresses is not a global unicast address: loopback
  (127.0.0.0/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local
  (169.254/16, fe80::/10), multicast, reserved, unspecified, shared (100.64/10), and
  IPv4 addresses mapped into IPv6 of any of those;

unless ``allow_private`` (the setting ``CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1``, for tests
and for teams whose receivers are on their own network), which skips the address
check. Every address a name resolves to is checked, so a name with one public and one
private address is refused.

Call it right before each request, not only when the URL is saved: what a name
resolves to changes. A name can still resolve differently between the check and the
client's own lookup (DNS rebinding); the clients do not follow redirects, so a
checked host cannot send the request on to an unchecked one.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from casebook.core.errors import UnsafeUrlError

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrlError(f"refused URL: the host {host!r} does not resolve") from None
    # An IPv6 address may carry a zone (fe80::1%eth0): the address is what precedes it.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_url(url: str, *, allow_private: bool) -> None:
    """Return if casebook may call ``url``; raise UnsafeUrlError saying why not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrlError(f"refused URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeUrlError(f"refused URL: the scheme must be http or https, not {scheme!r}")
    host = parts.hostname
    if not host:
        raise UnsafeUrlError("refused URL: it has no host")
    if allow_private:
        return
    for address in _addresses(host, port or _DEFAULT_PORTS[scheme]):
        if _refused(address):
            raise UnsafeUrlError(
                f"refused URL: the host {host!r} resolves to {address}, a loopback, private,"
                " link-local, multicast or reserved address"
                " (CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1 allows them)"
            )
