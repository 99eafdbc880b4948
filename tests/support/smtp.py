"""An SMTP server on loopback, for email delivery tests (aiosmtpd, in a thread of its own):
records every message it is given, answers with the replies it is told to (then 250), and,
if asked, offers STARTTLS with a self-signed certificate and requires a login."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.postgres import free_port


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    accepted: list[Mail] = field(default_factory=list)
    tried: list[Mail] = field(default_factory=list)  # every DATA, refused ones included
    replies: list[str] = field(default_factory=list)  # DATA replies to give first, in order
    logins: list[str] = field(default_factory=list)  # the user names that logged in
    lock: threading.Lock = field(default_factory=threading.Lock)

    def env(self) -> dict[str, str]:
        """The settings that point casebook at this server (plain SMTP, no login)."""
        return {
            "CASEBOOK_SMTP_HOST": self.host,
            "CASEBOOK_SMTP_PORT": str(self.port),
            "CASEBOOK_SMTP_STARTTLS": "0",
            "CASEBOOK_SMTP_FROM": "Casebook <casebook@example.com>",
        }


class _Handler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), message)
        with self.mailbox.lock:
            self.mailbox.tried.append(mail)
            if self.mailbox.replies:
                return self.mailbox.replies.pop(0)
            self.mailbox.accepted.append(mail)
        return "250 2.0.0 OK"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, written to ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "casebook test SMTP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def running_smtp(
    *, starttls_cert: tuple[Path, Path] | None = None, login: tuple[str, str] | None = None
) -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port. With ``starttls_cert`` (a certificate and
    its key) it offers STARTTLS and refuses mail before it; with ``login`` (user,
    password) it requires that login, or, with no certificate, offers it on the plain
    connection."""
    mailbox = Mailbox(port=free_port())
    options: dict[str, Any] = {}
    if starttls_cert is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*starttls_cert)
        options.update(tls_context=context, require_starttls=True)
    if login is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and (
                    data.login.decode(),
                    data.password.decode(),
                )
                == login
            )
            if ok:
                with mailbox.lock:
                    mailbox.logins.append(login[0])
            return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535

        # Over plain SMTP it offers the login without requiring it (aiosmtpd warns on
        # the other way round); ``logins`` tells whether the client logged in.
        tls = starttls_cert is not None
        options.update(authenticator=authenticate, auth_required=tls, auth_require_tls=tls)
    controller = Controller(
        _Handler(mailbox),
        hostname=mailbox.host,
        port=mailbox.port,
        server_hostname="mail.test",
        **options,
    )
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
