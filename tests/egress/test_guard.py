"""The SSRF guard (``casebook.egress.guard.check_url``): a table of URLs, refused or not,
with and without ``allow_private``."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from casebook.core.errors import UnsafeUrlError
from casebook.egress.guard import check_url

PUBLIC = [
    "https://8.8.8.8/",
    "http://1.1.1.1:8080/rest/api/2/issue",
    "HTTPS://8.8.4.4",
    "https://[2606:4700:4700::1111]/",
    "https://user:pass@8.8.8.8/",  # credentials are the caller's business, not the guard's
]
PRIVATE = [
    "http://127.0.0.1/",
    "http://127.0.0.53:8080/",
    "http://localhost:8080/hook",
    "http://[::1]/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata address: link-local
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "http://0.0.0.0/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://255.255.255.255/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:10.1.2.3]/",
    "http://2130706433/",  # 127.0.0.1 written as one number
    "http://0x7f.1/",  # ... and in hex
    "http://127.1/",
]
NEVER = [
    "ftp://8.8.8.8/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
    "javascript:alert(1)",
    "//8.8.8.8/",
    "https:///path",
    "8.8.8.8",
    "",
    "http://8.8.8.8:99999/",  # a port out of range
    "http://[::1/",
]


@pytest.mark.parametrize("url", PUBLIC)
def test_public_addresses_pass(url: str) -> None:
    check_url(url, allow_private=False)
    check_url(url, allow_private=True)


@pytest.mark.parametrize("url", PRIVATE)
def test_private_addresses_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrlError) as refused:
        check_url(url, allow_private=False)
    assert "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1 allows them" in refused.value.message
    check_url(url, allow_private=True)


@pytest.mark.parametrize("url", NEVER)
def test_other_schemes_and_hostless_urls_are_always_refused(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(UnsafeUrlError):
            check_url(url, allow_private=allow_private)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeUrlError, match="does not resolve"):
        check_url("https://no-such-host.invalid/", allow_private=False)


def _resolver(addresses: dict[str, list[str]]) -> Any:
    """A stand-in for the system's resolver (an external system), answering ``addresses``."""

    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses[host]
        ]

    return getaddrinfo


def test_every_address_of_a_name_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        _resolver(
            {
                "jira.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
                "split.example.com": ["93.184.215.14", "10.0.0.7"],
                "internal.example.com": ["192.168.10.20"],
                "zoned.example.com": ["fe80::1%eth0"],
            }
        ),
    )
    check_url("https://jira.example.com/", allow_private=False)
    for host in ("split", "internal", "zoned"):
        with pytest.raises(UnsafeUrlError, match="resolves to"):
            check_url(f"https://{host}.example.com/", allow_private=False)
        check_url(f"https://{host}.example.com/", allow_private=True)
