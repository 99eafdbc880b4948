"""Secrets casebook must use again later (a Jira API token, a ServiceNow password), sealed
before they reach the database.

Sealed with AES-256-GCM under a key derived from the server's secret
(``CASEBOOK_SECRET_KEY``, or the one kept in the database: ``keys.load_secret``) for
this use alone (HMAC-SHA256 of a fixed label), a fresh 96-bit nonce each time, and
associated data naming whose secret it is (``org_id/system``), so a sealed value moved
to another organisation's row no longer opens. Stored as ``v1.<base64url(nonce ||
ciphertext)>``.

A copy of the database yields no usable secret when ``CASEBOOK_SECRET_KEY`` is set
(the key is then not in the database); without it, the generated secret is in the
database beside what it seals, which keeps secrets out of logs and casual reads but
not from whoever holds the whole database. Changing ``CASEBOOK_SECRET_KEY`` makes the
sealed secrets unreadable: set the connections again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casebook.core.errors import NotConfiguredError

_LABEL = b"casebook sealed secrets v1"
_PREFIX = "v1."
_NONCE_BYTES = 12


def _key(server_secret: bytes) -> bytes:
    return hmac.new(server_secret, _LABEL, hashlib.sha256).digest()


def seal(server_secret: bytes, plaintext: str, context: str) -> str:
    """``plaintext`` sealed for ``context`` (who owns it: ``org_id/system``)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_key(server_secret)).encrypt(nonce, plaintext.encode(), context.encode())
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(server_secret: bytes, sealed: str, context: str) -> str:
    """The plaintext of ``seal(server_secret, plaintext, context)``. NotConfiguredError if it
    does not open: the server's secret changed, or the value was tampered with or moved."""
    try:
        if not sealed.startswith(_PREFIX):
            raise ValueError("unknown format")
        raw = base64.urlsafe_b64decode(sealed.removeprefix(_PREFIX))
        nonce, body = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return AESGCM(_key(server_secret)).decrypt(nonce, body, context.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise NotConfiguredError(
            "a stored credential does not open with the server's secret (was"
            " CASEBOOK_SECRET_KEY changed?): set the connection again"
        ) from exc
