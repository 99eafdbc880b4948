"""Organisations and users: the Users API rules and the CLI's user management."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from casebook.core.clock import new_id, now_us, parse_uuid
from casebook.core.entities import (
    USER_SORTS,
    Actor,
    KeyInfo,
    Org,
    Scope,
    User,
    UserSort,
    UserStatus,
)
from casebook.core.errors import (
    ConflictError,
    IdMismatchError,
    InvalidRequestError,
    InvalidValueError,
    OrgNotFoundError,
    UserNotFoundError,
)
from casebook.domain import limits
from casebook.domain.access import require_scope
from casebook.domain.keys import KeyPair, digest, issue_keys, load_secret, parse_scopes, revoke
from casebook.storage.base import Store, Transaction

DEFAULT_ORG = "default"
BOOTSTRAP_ADMIN_EMAIL = "admin@casebook.local"
_EMAIL = re.compile(r"[^@\s<>]+@[^@\s<>]+")
_ORG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > limits.MAX_EMAIL_CHARS or not _EMAIL.fullmatch(email):
        raise InvalidValueError(f"invalid email {email!r}")
    return email


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    if len(name) > limits.MAX_USER_NAME_CHARS or "<" in name or ">" in name:
        raise InvalidValueError(
            f"invalid name: at most {limits.MAX_USER_NAME_CHARS} characters, no < or >"
        )
    return name


def _check_title(title: str | None) -> str | None:
    if title is not None and len(title) > limits.MAX_USER_TITLE_CHARS:
        raise InvalidValueError(f"title is longer than {limits.MAX_USER_TITLE_CHARS} characters")
    return title


_KEY = re.compile(r"[\x21-\x7e]{1,256}")


# --- organisations ------------------------------------------------------------
def ensure_org(tx: Transaction, name: str) -> Org:
    org = tx.orgs.by_name(name)
    if org is None:
        org = Org(id=new_id(), name=name, created_at=now_us())
        tx.orgs.insert(org)
    return org


def create_org(store: Store, name: str) -> Org:
    if not _ORG_NAME.fullmatch(name):
        raise InvalidValueError(
            f"invalid organisation name {name!r}: 1-64 letters, digits, '.', '_' or '-'"
        )
    with store.write() as tx:
        if tx.orgs.by_name(name) is not None:
            raise ConflictError(f"organization {name!r} already exists")
        return ensure_org(tx, name)


def get_org(tx: Transaction, name: str) -> Org:
    org = tx.orgs.by_name(name)
    if org is None:
        raise OrgNotFoundError(name)
    return org


def ensure_default_org(store: Store) -> Org:
    with store.write() as tx:
        return ensure_org(tx, DEFAULT_ORG)


def list_orgs(store: Store) -> list[Org]:
    """Every organisation, by name (CLI)."""
    with store.read() as tx:
        return tx.orgs.list()


# --- users: CLI -----------------------------------------------------------------
def _new_user(
    org_id: str,
    email: str,
    name: str | None,
    title: str | None,
    *,
    is_admin: bool,
    status: UserStatus,
) -> User:
    at = now_us()
    email = normalise_email(email)
    return User(
        id=new_id(),
        org_id=org_id,
        email=email,
        handle=email,
        name=_check_name(name),
        title=_check_title(title),
        status=status,
        is_admin=is_admin,
        service_account=False,
        created_at=at,
        modified_at=at,
    )


def add_user(
    store: Store, *, org_name: str, email: str, name: str | None = None, admin: bool = False
) -> User:
    """Create an active user from the CLI (an operator vouches for them)."""
    with store.write() as tx:
        org = get_org(tx, org_name)
        user = _new_user(org.id, email, name, None, is_admin=admin, status=UserStatus.ACTIVE)
        tx.users.insert(user)
        return user


def create_keys(
    store: Store, secret: bytes, *, org_name: str, email: str, scopes: str | None = None
) -> KeyPair:
    parsed = parse_scopes(scopes)
    with store.write() as tx:
        org = get_org(tx, org_name)
        user = tx.users.by_email(org.id, normalise_email(email))
        if user is None:
            raise UserNotFoundError(email)
        if user.disabled:
            raise InvalidValueError(f"user {user.email} is disabled")
        return issue_keys(tx, secret, user, scopes=parsed)


def list_org_keys(store: Store, *, org_name: str) -> list[KeyInfo]:
    """The keys of an organisation named in the CLI."""
    with store.read() as tx:
        return tx.keys.list(get_org(tx, org_name).id)


def revoke_org_key(store: Store, *, org_name: str, key_id: str) -> None:
    """Revoke a key of an organisation named in the CLI; another organisation's is not found."""
    with store.write() as tx:
        revoke(tx, get_org(tx, org_name).id, key_id)


@dataclass(frozen=True, slots=True)
class Bootstrap:
    """What ``serve`` did at start: the key pair to print, if it made one."""

    created_keys: KeyPair | None


def bootstrap(store: Store, secret_setting: str, *, api_key: str, app_key: str) -> Bootstrap:
    """Make the server usable at once.

    With keys from the environment, an admin of the default organisation owns
    exactly those keys (idempotent). Without, on a database with no users yet,
    an admin is created with a fresh key pair, returned so it can be printed once.
    """
    secret = load_secret(store, secret_setting)
    with store.write() as tx:
        org = ensure_org(tx, DEFAULT_ORG)
        if api_key:
            admin = tx.users.by_email(org.id, BOOTSTRAP_ADMIN_EMAIL)
            if admin is None:
                admin = _insert_bootstrap_admin(tx, org.id)
            have_api = tx.keys.find_api_key(digest(secret, api_key))
            have_app = tx.keys.find_app_key(digest(secret, app_key))
            if have_api is not None and have_app is not None:
                if have_api[1] != org.id or have_app[2].id != admin.id:
                    raise ConflictError("CASEBOOK_API_KEY/APP_KEY already belong to someone else")
                return Bootstrap(None)
            if have_api is not None or have_app is not None:
                raise ConflictError("only one of CASEBOOK_API_KEY/APP_KEY is known; set both anew")
            issue_keys(tx, secret, admin, scopes=None, api_key=api_key, app_key=app_key)
            return Bootstrap(None)
        if tx.users.count(org.id) > 0:
            return Bootstrap(None)
        admin = _insert_bootstrap_admin(tx, org.id)
        return Bootstrap(issue_keys(tx, secret, admin, scopes=None))


def add_admin_app_key(store: Store, secret_setting: str, *, app_key: str) -> None:
    """Give the default organisation's admin the application key ``app_key`` unless some
    user holds it already (the emulator: any key a caller presents works)."""
    with store.read() as tx:
        org = tx.orgs.by_name(DEFAULT_ORG)
        admin = None if org is None else tx.users.by_email(org.id, BOOTSTRAP_ADMIN_EMAIL)
    if admin is None:
        raise UserNotFoundError(BOOTSTRAP_ADMIN_EMAIL)
    add_app_key(store, secret_setting, admin, app_key=app_key)


def add_app_key(store: Store, secret_setting: str, user: User, *, app_key: str) -> bool:
    """Give ``user`` the application key ``app_key`` (chosen by the caller: the emulator's
    fixtures) unless some user holds it already; whether it was added."""
    if not _KEY.fullmatch(app_key):
        raise InvalidValueError("invalid application key: 1 to 256 printable ASCII characters")
    secret = load_secret(store, secret_setting)
    with store.write() as tx:
        if tx.keys.find_app_key(digest(secret, app_key)) is not None:
            return False
        tx.keys.insert_app_key(
            new_id(), user.org_id, user.id, digest(secret, app_key), app_key[-4:], None, now_us()
        )
        return True


def _insert_bootstrap_admin(tx: Transaction, org_id: str) -> User:
    admin = _new_user(
        org_id,
        BOOTSTRAP_ADMIN_EMAIL,
        "casebook admin",
        None,
        is_admin=True,
        status=UserStatus.ACTIVE,
    )
    tx.users.insert(admin)
    return admin


# --- users: the Users API ---------------------------------------------------------
def _access_user(tx: Transaction, actor: Actor, user_id: str) -> User:
    canonical = parse_uuid(user_id)
    user = None if canonical is None else tx.users.get(actor.org_id, canonical)
    if user is None:
        raise UserNotFoundError(user_id)
    return user


def invite_user(
    store: Store, *, actor: Actor, email: str, name: str | None, title: str | None
) -> User:
    """Create a pending user in the actor's organisation (Users API ``POST /users``)."""
    require_scope(actor, Scope.USER_ACCESS_INVITE)
    user = _new_user(actor.org_id, email, name, title, is_admin=False, status=UserStatus.PENDING)
    with store.write() as tx:
        tx.users.insert(user)
    return user


def get_user(store: Store, user_id: str, *, actor: Actor) -> User:
    require_scope(actor, Scope.USER_ACCESS_READ)
    with store.read() as tx:
        return _access_user(tx, actor, user_id)


def list_users(
    store: Store,
    *,
    actor: Actor,
    text: str | None,
    statuses: Sequence[UserStatus] | None,
    order_by: UserSort,
    descending: bool,
    page_size: int,
    page_number: int,
) -> tuple[list[User], int, int]:
    """A page of users (0-based ``page_number``), the filtered count and the org's count.

    ``text`` matches a substring of the email, handle or name; ``statuses``, when
    given, keeps users in those statuses only.
    """
    require_scope(actor, Scope.USER_ACCESS_READ)
    if order_by not in USER_SORTS:
        raise InvalidRequestError(f"invalid sort {order_by!r}: use name, modified_at or email")
    if text is not None and "\x00" in text:
        raise InvalidRequestError("invalid filter: NUL characters are not allowed")
    if not 1 <= page_size <= limits.MAX_USERS_PAGE_SIZE:
        raise InvalidRequestError(f"page[size] must be between 1 and {limits.MAX_USERS_PAGE_SIZE}")
    if page_number < 0:
        raise InvalidRequestError("page[number] must not be negative")
    with store.read(snapshot=True) as tx:
        users, filtered = tx.users.list(
            actor.org_id,
            text=text,
            statuses=statuses,
            order_by=order_by,
            descending=descending,
            limit=page_size,
            # Past MAX_OFFSET every page is empty anyway; clamping keeps the number bounded.
            offset=min(page_number * page_size, limits.MAX_OFFSET),
        )
        total = tx.users.count(actor.org_id)
    return users, filtered, total


def update_user(
    store: Store,
    user_id: str,
    *,
    actor: Actor,
    body_id: str,
    changes: dict[str, object],
) -> User:
    """Change a user's name, title, email or disabled flag (Users API ``PATCH``)."""
    require_scope(actor, Scope.USER_ACCESS_MANAGE)
    with store.write() as tx:
        user = _access_user(tx, actor, user_id)
        if parse_uuid(body_id) != user.id:
            raise IdMismatchError("UUID's in the URL and request body do not match")
        if "name" in changes:
            user.name = _check_name(changes["name"])  # type: ignore[arg-type]
        if "title" in changes:
            user.title = _check_title(changes["title"])  # type: ignore[arg-type]
        if "email" in changes:
            user.email = normalise_email(str(changes["email"]))
            user.handle = user.email
        if "disabled" in changes:
            if changes["disabled"] and user.id == actor.user_id:
                raise InvalidValueError("you cannot disable your own account")
            if changes["disabled"]:
                user.status = UserStatus.DISABLED
            elif user.status is UserStatus.DISABLED:
                user.status = UserStatus.ACTIVE
        user.modified_at = now_us()
        tx.users.update(user)
        return user


def disable_user(store: Store, user_id: str, *, actor: Actor) -> None:
    """Disable a user (Users API ``DELETE``); a disabled user is not found again."""
    require_scope(actor, Scope.USER_ACCESS_MANAGE)
    with store.write() as tx:
        user = _access_user(tx, actor, user_id)
        if user.disabled:
            raise UserNotFoundError(user_id)
        if user.id == actor.user_id:
            # An organisation's last admin would lock everyone out of user management.
            raise InvalidValueError("you cannot disable your own account")
        user.status = UserStatus.DISABLED
        user.modified_at = now_us()
        tx.users.update(user)
