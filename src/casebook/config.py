"""Settings: built once at start from ``CASEBOOK_*`` environment variables, then passed in.

Each setting is declared once in ``SETTINGS`` with its default and help text;
the README's Settings table lists them all (tests/test_docs.py checks).
"""

from __future__ import annotations

import email.utils
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

from casebook.core.errors import InvalidRequestError
from casebook.core.faults import Faults
from casebook.ratelimit import RateLimit
from casebook.storage.urls import DatabaseUrl


@dataclass(frozen=True, slots=True)
class SettingSpec:
    name: str
    default: str
    help: str


SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS",
        "5",
        "How long a failed delivery waits before its second attempt; each later wait doubles"
        " (with jitter), up to an hour, ten attempts in all.",
    ),
    SettingSpec(
        "CASEBOOK_DELIVERY_WORKER",
        "1",
        "`1`: each `serve` process runs the delivery worker, which reads the outbox of case"
        " changes (one process of the deployment at a time holds it, by a lease in the"
        " database). `0`: this process does not (another one must).",
    ),
    SettingSpec(
        "CASEBOOK_DATABASE_URL",
        "sqlite:///casebook.db",
        "Where data lives: `sqlite:///PATH` (a file, relative to the working directory"
        " unless absolute: `sqlite:////var/lib/casebook.db`) or `postgresql://USER:PASS@HOST/DB`.",
    ),
    SettingSpec(
        "CASEBOOK_API_KEY",
        "",
        "With CASEBOOK_APP_KEY: `serve` makes sure an admin of the `default` organisation owns"
        " exactly this key pair (for CI and scripts that set their own keys).",
    ),
    SettingSpec("CASEBOOK_APP_KEY", "", "The application key paired with CASEBOOK_API_KEY."),
    SettingSpec(
        "CASEBOOK_SECRET_KEY",
        "",
        "Secret used to hash stored keys (HMAC-SHA256). Unset: one is generated and kept in"
        " the database. Set it (≥ 32 characters) to keep the secret apart from the hashes.",
    ),
    SettingSpec(
        "CASEBOOK_SQLITE_SYNCHRONOUS",
        "FULL",
        "SQLite durability: FULL survives power loss, NORMAL survives a killed process only.",
    ),
    SettingSpec(
        "CASEBOOK_BUSY_TIMEOUT_MS",
        "5000",
        "How long a write waits for another writer (SQLite) before answering 503.",
    ),
    SettingSpec(
        "CASEBOOK_MAX_BODY_BYTES",
        "1048576",
        "Largest request body accepted; larger ones get 413 before being read.",
    ),
    SettingSpec(
        "CASEBOOK_RATE_LIMIT",
        "1000/10s",
        "Requests allowed per application key and period, as `<requests>/<seconds>s`;"
        " `off` disables. Shared by the processes of one machine.",
    ),
    SettingSpec(
        "CASEBOOK_AUTH_FAILURE_LIMIT",
        "60/60s",
        "Failed authentications allowed per client address and period before it gets 429;"
        " `off` disables.",
    ),
    SettingSpec(
        "CASEBOOK_FAULTS",
        "",
        "Testing aid: inject faults, e.g. `create_after_allocate=0.1,request_503=0.05`"
        " (see docs/reliability.md). Never set it in production.",
    ),
    SettingSpec(
        "CASEBOOK_AUTH_CACHE_SECONDS",
        "1",
        "How long a process trusts a verified key pair; a revoked key stops working"
        " on every process within this many seconds.",
    ),
    SettingSpec(
        "CASEBOOK_ALLOW_PRIVATE_WEBHOOKS",
        "0",
        "`1`: let outbound calls (Jira, ServiceNow, webhooks) reach loopback, private,"
        " link-local and other non-public addresses, which are refused by default (SSRF;"
        " see docs/security.md). For tests, and for teams whose systems are on their own"
        " network.",
    ),
    SettingSpec(
        "CASEBOOK_EGRESS_TIMEOUT_SECONDS",
        "10",
        "How long an outbound call (Jira, ServiceNow) may wait to connect, for each part of"
        " the answer, and for the whole answer, before the request answers 504. Email"
        " deliveries wait as long for each step of the SMTP conversation.",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_HOST",
        "",
        "The SMTP server that email deliveries (notification rules' `EMAIL` recipients) go"
        " through. Unset: email is not configured, and those deliveries fail, visibly.",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_PORT",
        "587",
        "The SMTP server's port (465 when CASEBOOK_SMTP_TLS=1 and this is unset).",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_STARTTLS",
        "1",
        "`1`: upgrade the connection with STARTTLS, and fail if the server does not offer it"
        " (the default unless CASEBOOK_SMTP_TLS=1). `0`: plain SMTP (credentials, if set,"
        " then travel in clear).",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_TLS",
        "0",
        "`1`: connect over TLS from the start (SMTPS, port 465) instead of upgrading with"
        " STARTTLS (setting both to 1 is an error). Either way the server's certificate is"
        " checked against the system's trusted CAs (`SSL_CERT_FILE` names another bundle).",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_USERNAME",
        "",
        "With CASEBOOK_SMTP_PASSWORD: log in to the SMTP server (AUTH). Unset: no login.",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_PASSWORD",
        "",
        "The SMTP login's password; never logged, recorded or shown.",
    ),
    SettingSpec(
        "CASEBOOK_SMTP_FROM",
        "",
        "The sender of email deliveries, `addr@example.com` or `Name <addr@example.com>`."
        " Unset: `casebook@<this machine's host name>`.",
    ),
    SettingSpec(
        "CASEBOOK_LOG_FORMAT",
        "",
        "Request logs (one line per request, on standard error): `json` or `text`. Unset:"
        " text when standard error is a terminal, JSON otherwise. `serve --log-format` sets it.",
    ),
    SettingSpec(
        "CASEBOOK_SESSION_IDLE_MINUTES",
        "720",
        "The web UI: a signed-in browser unused for this many minutes is signed out"
        " (its session is ended on the server).",
    ),
    SettingSpec(
        "CASEBOOK_METRICS",
        "1",
        "`1`: count requests for `GET /metrics` (Prometheus, admins' keys; see"
        " docs/operations.md). `0`: no metrics, and no `/metrics`.",
    ),
)

LogFormat = Literal["json", "text"]

_DEFAULTS = {s.name: s.default for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: DatabaseUrl
    api_key: str
    app_key: str
    secret_key: str
    sqlite_synchronous: str
    busy_timeout_ms: int
    max_body_bytes: int
    rate_limit: RateLimit | None
    auth_failure_limit: RateLimit | None
    faults: Faults
    auth_cache_seconds: float
    delivery_worker: bool
    delivery_first_retry_seconds: float
    allow_private_webhooks: bool
    egress_timeout_seconds: float
    smtp_host: str
    smtp_port: int
    smtp_starttls: bool
    smtp_tls: bool
    smtp_username: str
    smtp_password: str = field(repr=False)
    smtp_from: str
    log_format: LogFormat | None  # None: decide by whether standard error is a terminal
    metrics: bool
    session_idle_minutes: int

    @property
    def smtp(self) -> SmtpSettings | None:
        """How email deliveries are sent; None when no SMTP server is configured."""
        if not self.smtp_host:
            return None
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            starttls=self.smtp_starttls,
            tls=self.smtp_tls,
            username=self.smtp_username,
            password=self.smtp_password,
            sender=self.smtp_from,
            timeout_seconds=self.egress_timeout_seconds,
        )


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The SMTP server email deliveries go through (``CASEBOOK_SMTP_*``)."""

    host: str
    port: int
    starttls: bool
    tls: bool
    username: str
    password: str = field(repr=False)
    sender: str
    """The From header: ``addr@example.com`` or ``Name <addr@example.com>``."""
    timeout_seconds: float

    @property
    def sender_address(self) -> str:
        """The bare address of ``sender`` (the envelope's MAIL FROM)."""
        return email.utils.parseaddr(self.sender)[1]


def _int(environ: Mapping[str, str], name: str) -> int:
    raw = environ.get(name, _DEFAULTS[name])
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequestError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise InvalidRequestError(f"{name} must not be negative, got {raw!r}")
    return value


def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidRequestError(f"{name} must be a number of seconds") from None
    if not 0 < seconds <= 3600:
        raise InvalidRequestError(f"{name} must be between 0 and 3600 seconds")
    return seconds


def _flag(value: str, name: str) -> bool:
    if value not in ("0", "1"):
        raise InvalidRequestError(f"{name} must be 0 or 1")
    return value == "1"


_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+")


def _log_format(value: str) -> LogFormat | None:
    folded = value.strip().lower()
    if folded == "":
        return None
    if folded == "json":
        return "json"
    if folded == "text":
        return "text"
    raise InvalidRequestError(f"CASEBOOK_LOG_FORMAT must be json or text, got {value!r}")


def _smtp_from(value: str) -> str:
    if not value:
        return f"casebook@{socket.gethostname()}"
    found = email.utils.getaddresses([value])
    name, address = found[0] if len(found) == 1 else ("", "")
    if not _ADDRESS.fullmatch(address) or not value.isprintable():
        raise InvalidRequestError(
            "CASEBOOK_SMTP_FROM must be an address, `addr@example.com` or `Name <addr@example.com>`"
        )
    return email.utils.formataddr((name, address)) if name else address


def _smtp(environ: Mapping[str, str], timeout: float) -> SmtpSettings:
    """The ``CASEBOOK_SMTP_*`` settings (``host`` empty: not configured). No error names
    the password's value."""

    def get(name: str) -> str:
        return environ.get(name, _DEFAULTS[name]).strip()

    host = get("CASEBOOK_SMTP_HOST")
    if host and (not host.isprintable() or " " in host or "/" in host):
        raise InvalidRequestError("CASEBOOK_SMTP_HOST must be a host name or an IP address")
    tls = _flag(get("CASEBOOK_SMTP_TLS"), "CASEBOOK_SMTP_TLS")
    # STARTTLS is the default only where TLS from the start is not asked for.
    raw_starttls = environ.get("CASEBOOK_SMTP_STARTTLS", "").strip() or ("0" if tls else "1")
    starttls = _flag(raw_starttls, "CASEBOOK_SMTP_STARTTLS")
    if starttls and tls:
        raise InvalidRequestError(
            "CASEBOOK_SMTP_TLS=1 (TLS from the start) and CASEBOOK_SMTP_STARTTLS=1 (upgrade a"
            " plain connection) exclude each other: set one of them"
        )
    raw_port = environ.get("CASEBOOK_SMTP_PORT", "").strip() or ("465" if tls else "587")
    try:
        port = int(raw_port)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise InvalidRequestError(
            f"CASEBOOK_SMTP_PORT must be a port number, 1 to 65535, got {raw_port!r}"
        )
    username = get("CASEBOOK_SMTP_USERNAME")
    password = environ.get("CASEBOOK_SMTP_PASSWORD", "")
    if bool(username) != bool(password):
        raise InvalidRequestError(
            "set both CASEBOOK_SMTP_USERNAME and CASEBOOK_SMTP_PASSWORD, or neither"
        )
    return SmtpSettings(
        host=host,
        port=port,
        starttls=starttls,
        tls=tls,
        username=username,
        password=password,
        sender=_smtp_from(get("CASEBOOK_SMTP_FROM")),
        timeout_seconds=timeout,
    )


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from ``environ``; raise InvalidRequestError naming a bad variable."""

    def get(name: str) -> str:
        return environ.get(name, _DEFAULTS[name])

    api_key, app_key = get("CASEBOOK_API_KEY"), get("CASEBOOK_APP_KEY")
    if bool(api_key) != bool(app_key):
        raise InvalidRequestError("set both CASEBOOK_API_KEY and CASEBOOK_APP_KEY, or neither")
    secret = get("CASEBOOK_SECRET_KEY")
    if secret and len(secret) < 32:
        raise InvalidRequestError("CASEBOOK_SECRET_KEY must be at least 32 characters")
    synchronous = get("CASEBOOK_SQLITE_SYNCHRONOUS").upper()
    if synchronous not in ("FULL", "NORMAL"):
        raise InvalidRequestError("CASEBOOK_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
    try:
        cache = float(get("CASEBOOK_AUTH_CACHE_SECONDS"))
    except ValueError:
        raise InvalidRequestError("CASEBOOK_AUTH_CACHE_SECONDS must be a number") from None
    allow_private = get("CASEBOOK_ALLOW_PRIVATE_WEBHOOKS").strip().lower()
    if allow_private not in ("0", "1", "false", "true", ""):
        raise InvalidRequestError("CASEBOOK_ALLOW_PRIVATE_WEBHOOKS must be 0 or 1")
    try:
        egress_timeout = float(get("CASEBOOK_EGRESS_TIMEOUT_SECONDS"))
    except ValueError:
        egress_timeout = -1.0
    if not 0 < egress_timeout <= 300:
        raise InvalidRequestError(
            "CASEBOOK_EGRESS_TIMEOUT_SECONDS must be a number of seconds, above 0 and at most 300"
        )
    smtp = _smtp(environ, egress_timeout)
    return Settings(
        database_url=DatabaseUrl.parse(get("CASEBOOK_DATABASE_URL")),
        api_key=api_key,
        app_key=app_key,
        secret_key=secret,
        sqlite_synchronous=synchronous,
        busy_timeout_ms=_int(environ, "CASEBOOK_BUSY_TIMEOUT_MS"),
        max_body_bytes=_int(environ, "CASEBOOK_MAX_BODY_BYTES"),
        rate_limit=RateLimit.parse(get("CASEBOOK_RATE_LIMIT"), "CASEBOOK_RATE_LIMIT"),
        auth_failure_limit=RateLimit.parse(
            get("CASEBOOK_AUTH_FAILURE_LIMIT"), "CASEBOOK_AUTH_FAILURE_LIMIT"
        ),
        faults=Faults.parse(get("CASEBOOK_FAULTS")),
        auth_cache_seconds=max(cache, 0.0),
        delivery_worker=_flag(get("CASEBOOK_DELIVERY_WORKER"), "CASEBOOK_DELIVERY_WORKER"),
        delivery_first_retry_seconds=_seconds(
            get("CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS"), "CASEBOOK_DELIVERY_FIRST_RETRY_SECONDS"
        ),
        allow_private_webhooks=allow_private in ("1", "true"),
        egress_timeout_seconds=egress_timeout,
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_starttls=smtp.starttls,
        smtp_tls=smtp.tls,
        smtp_username=smtp.username,
        smtp_password=smtp.password,
        smtp_from=smtp.sender,
        log_format=_log_format(get("CASEBOOK_LOG_FORMAT")),
        metrics=_flag(get("CASEBOOK_METRICS"), "CASEBOOK_METRICS"),
        session_idle_minutes=max(_int(environ, "CASEBOOK_SESSION_IDLE_MINUTES"), 1),
    )


assert {f.name for f in fields(Settings)} == {
    s.name.removeprefix("CASEBOOK_").lower() for s in SETTINGS
}
