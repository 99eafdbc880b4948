"""Passwords and sessions of the web UI (``domain/sessions.py``)."""

from __future__ import annotations

import pytest

from casebook.core.entities import UserStatus
from casebook.core.errors import AuthenticationError, InvalidValueError, UserNotFoundError
from casebook.domain import sessions
from casebook.domain import users as users_domain
from casebook.storage import Store
from tests.support.ui import PASSWORD, give_password

SECRET = b"s" * 32
IDLE = 60_000_000


def _user(store: Store, org: str, email: str) -> str:
    if org not in {o.name for o in users_domain.list_orgs(store)}:
        users_domain.create_org(store, org)
    user = users_domain.add_user(store, org_name=org, email=email)
    give_password(store, user.org_id, user.id)
    return user.id


def test_passwords_are_checked_before_hashing(store: Store) -> None:
    _user(store, "acme", "ann@example.com")
    for bad in ("short", "x" * 1025, "nul\x00byte-password"):
        with pytest.raises(InvalidValueError):
            sessions.set_password(store, org_name="acme", email="ann@example.com", password=bad)
    with pytest.raises(UserNotFoundError):
        sessions.set_password(store, org_name="acme", email="bob@example.com", password=PASSWORD)


def test_sign_in_resume_and_sign_out(store: Store) -> None:
    user_id = _user(store, "acme", "ann@example.com")
    signed = sessions.sign_in(
        store, SECRET, email=" ANN@example.com", password=PASSWORD, idle_us=IDLE
    )
    assert signed.session.actor.user_id == user_id
    assert signed.session.org_name == "acme"
    resumed = sessions.resume(store, SECRET, signed.token, idle_us=IDLE)
    assert resumed.csrf == signed.session.csrf
    with store.read() as tx:  # only a digest of the token is stored
        assert tx.sessions.get(signed.token) is None
    sessions.sign_out(store, SECRET, signed.token)
    with pytest.raises(AuthenticationError):
        sessions.resume(store, SECRET, signed.token, idle_us=IDLE)


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ann@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ],
)
def test_wrong_credentials_are_refused_alike(store: Store, email: str, password: str) -> None:
    _user(store, "acme", "ann@example.com")
    with pytest.raises(AuthenticationError, match="wrong email or password"):
        sessions.sign_in(store, SECRET, email=email, password=password, idle_us=IDLE)


def test_the_same_email_in_two_organisations(store: Store) -> None:
    first = _user(store, "acme", "ann@example.com")
    _user(store, "globex", "ann@example.com")
    signed = sessions.sign_in(
        store, SECRET, email="ann@example.com", password=PASSWORD, idle_us=IDLE
    )
    assert signed.session.actor.user_id == first  # the oldest user with that password


def test_a_disabled_user_is_signed_out(store: Store) -> None:
    _user(store, "acme", "ann@example.com")
    signed = sessions.sign_in(
        store, SECRET, email="ann@example.com", password=PASSWORD, idle_us=IDLE
    )
    with store.write() as tx:
        org = tx.orgs.by_name("acme")
        assert org is not None
        user = tx.users.by_email(org.id, "ann@example.com")
        assert user is not None
        user.status = UserStatus.DISABLED
        tx.users.update(user)
    with pytest.raises(AuthenticationError):
        sessions.resume(store, SECRET, signed.token, idle_us=IDLE)
    with pytest.raises(AuthenticationError):
        sessions.sign_in(store, SECRET, email="ann@example.com", password=PASSWORD, idle_us=IDLE)
