"""Settings from the environment: defaults, and a clear error naming each bad value."""

from __future__ import annotations

import socket

import pytest

from casebook.config import load_settings
from casebook.core.errors import InvalidRequestError

PASSWORD = "hunter2-smtp-secret"


def test_email_is_off_until_an_smtp_host_is_set() -> None:
    settings = load_settings({})
    assert settings.smtp is None
    assert (settings.smtp_port, settings.smtp_starttls, settings.smtp_tls) == (587, True, False)
    assert settings.smtp_from == f"casebook@{socket.gethostname()}"


def test_smtp_settings() -> None:
    smtp = load_settings(
        {
            "CASEBOOK_SMTP_HOST": "smtp.example.com",
            "CASEBOOK_SMTP_USERNAME": "casebook",
            "CASEBOOK_SMTP_PASSWORD": PASSWORD,
            "CASEBOOK_SMTP_FROM": " Casebook  <cases@example.com> ",
            "CASEBOOK_EGRESS_TIMEOUT_SECONDS": "3",
        }
    ).smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.starttls, smtp.tls) == ("smtp.example.com", 587, True, False)
    assert (smtp.username, smtp.password) == ("casebook", PASSWORD)
    assert (smtp.sender, smtp.sender_address) == (
        "Casebook <cases@example.com>",
        "cases@example.com",
    )
    assert smtp.timeout_seconds == 3


def test_tls_from_the_start_takes_port_465_and_no_starttls() -> None:
    settings = load_settings({"CASEBOOK_SMTP_HOST": "smtp.example.com", "CASEBOOK_SMTP_TLS": "1"})
    assert (settings.smtp_port, settings.smtp_starttls, settings.smtp_tls) == (465, False, True)
    explicit = load_settings({"CASEBOOK_SMTP_TLS": "1", "CASEBOOK_SMTP_PORT": "2465"})
    assert explicit.smtp_port == 2465


def test_the_password_is_in_no_repr() -> None:
    settings = load_settings(
        {
            "CASEBOOK_SMTP_HOST": "smtp.example.com",
            "CASEBOOK_SMTP_USERNAME": "casebook",
            "CASEBOOK_SMTP_PASSWORD": PASSWORD,
        }
    )
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in repr(settings.smtp)


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"CASEBOOK_SMTP_PORT": "smtp"}, "CASEBOOK_SMTP_PORT must be a port number"),
        ({"CASEBOOK_SMTP_PORT": "0"}, "CASEBOOK_SMTP_PORT must be a port number"),
        ({"CASEBOOK_SMTP_PORT": "70000"}, "CASEBOOK_SMTP_PORT must be a port number"),
        ({"CASEBOOK_SMTP_STARTTLS": "yes"}, "CASEBOOK_SMTP_STARTTLS must be 0 or 1"),
        ({"CASEBOOK_SMTP_TLS": "true"}, "CASEBOOK_SMTP_TLS must be 0 or 1"),
        (
            {"CASEBOOK_SMTP_TLS": "1", "CASEBOOK_SMTP_STARTTLS": "1"},
            "exclude each other",
        ),
        ({"CASEBOOK_SMTP_USERNAME": "casebook"}, "set both CASEBOOK_SMTP_USERNAME"),
        ({"CASEBOOK_SMTP_PASSWORD": PASSWORD}, "set both CASEBOOK_SMTP_USERNAME"),
        ({"CASEBOOK_SMTP_FROM": "not an address"}, "CASEBOOK_SMTP_FROM must be an address"),
        ({"CASEBOOK_SMTP_FROM": "a@example.com, b@example.com"}, "CASEBOOK_SMTP_FROM"),
        ({"CASEBOOK_SMTP_FROM": "Ops <ops@example.com>\nBcc: x@example.com"}, "CASEBOOK_SMTP_FROM"),
        ({"CASEBOOK_SMTP_HOST": "smtp.example.com/x"}, "CASEBOOK_SMTP_HOST must be a host name"),
        ({"CASEBOOK_SMTP_HOST": "two words"}, "CASEBOOK_SMTP_HOST must be a host name"),
    ],
)
def test_bad_smtp_settings_are_refused_by_name(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        load_settings(environ)
    assert fragment in caught.value.message
    assert PASSWORD not in caught.value.message
