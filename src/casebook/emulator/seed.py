"""Loading a state document into an organisation, through the domain's own commands.

A state document (JSON, or YAML) has top-level lists, loaded in this order:
``users``, ``projects``, ``case_types``, ``custom_attributes``, ``webhooks``, ``views``,
``rules`` and ``cases`` (each with its ``comments`` and ``history``). Every object is made
by the command the API would call (``create_project``, ``create_case``...), so it is
checked as a request would be and writes the same history; an ``id`` given is the id the
object gets (the command's first new id is pinned to it), a time given (``created_at``,
a comment's or history entry's ``at``) is the time the command runs at, and a case or
comment acts as its ``created_by``/``author`` (an email, default: the admin).

All or nothing: the database is copied first, and put back when anything fails; the
error (400) names the path of what failed (``cases[2].project``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from casebook.core.clock import new_id, parse_uuid, rfc3339, using
from casebook.core.entities import Actor, RuleAction, RuleRecipient, RuleTrigger
from casebook.core.errors import CasebookError, InvalidRequestError, NotFoundError
from casebook.domain import automation_rules, case_types, cases, comments, notification_rules
from casebook.domain import projects as projects_domain
from casebook.domain import users as users_domain
from casebook.domain import views as views_domain
from casebook.domain import webhooks as webhooks_domain
from casebook.domain.keys import role_scopes, user_ref
from casebook.emulator.tenants import SECRET, Tenant, parse_instant

SECTIONS: dict[str, frozenset[str]] = {
    "users": frozenset({"id", "email", "name", "admin", "app_key"}),
    "projects": frozenset({"id", "key", "name", "settings"}),
    "case_types": frozenset({"id", "name", "description", "emoji", "statuses"}),
    "custom_attributes": frozenset(
        {"id", "type", "key", "display_name", "kind", "is_multi", "description", "options"}
    ),
    "webhooks": frozenset({"name", "url", "payload", "custom_headers", "encode_as"}),
    "views": frozenset({"id", "project", "name", "query"}),
    "rules": frozenset(
        {
            "id",
            "project",
            "kind",
            "name",
            "triggers",
            "trigger",
            "recipients",
            "action",
            "query",
            "enabled",
        }
    ),
    "cases": frozenset(
        {
            "id",
            "project",
            "title",
            "description",
            "type",
            "priority",
            "status",
            "status_name",
            "assignee",
            "due_date",
            "archived",
            "custom_attributes",
            "created_at",
            "created_by",
            "comments",
            "history",
        }
    ),
}
_COMMENT = frozenset({"comment", "author", "at"})
_HISTORY = frozenset(
    {
        "at",
        "by",
        "status",
        "status_name",
        "priority",
        "assignee",
        "title",
        "description",
        "due_date",
        "archived",
        "comment",
    }
)


class _Pinned:
    """Ids as the tenant makes them, but the next ones pinned first (fixed ids)."""

    def __init__(self, fallback: Callable[[], str] | None) -> None:
        self.fallback = fallback
        self.next: list[str] = []

    def __call__(self) -> str:
        if self.next:
            return self.next.pop(0)
        return self.fallback() if self.fallback is not None else _real_id()


def _real_id() -> str:
    with using():
        return new_id()


class _Loader:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.store = tenant.store
        self.ids = _Pinned(tenant.ids)
        self.at: int | None = None
        self.org_id = tenant.org_id()
        self.admin = self._actor(users_domain.BOOTSTRAP_ADMIN_EMAIL, "admin")
        self.created: dict[str, list[dict[str, Any]]] = {}

    def now(self) -> int:
        return self.at if self.at is not None else self.tenant.clock.now()

    # --- references -----------------------------------------------------------
    def _actor(self, ref: str, path: str) -> Actor:
        with self.store.read() as tx:
            uuid = parse_uuid(ref)
            user = (
                tx.users.get(self.org_id, uuid)
                if uuid is not None
                else tx.users.by_email(self.org_id, users_domain.normalise_email(ref))
            )
        if user is None:
            raise InvalidRequestError(f"{path}: no user {ref!r}")
        return Actor(
            user=user_ref(user),
            org_id=self.org_id,
            is_admin=user.is_admin,
            key_id="seed",
            scopes=role_scopes(user),
        )

    def _project_id(self, ref: Any, path: str) -> str:
        if not isinstance(ref, str):
            raise InvalidRequestError(f"{path}: a project key or id is required")
        if parse_uuid(ref) is not None:
            return ref
        with self.store.read() as tx:
            project = tx.projects.by_key(self.org_id, ref.upper())
        if project is None:
            raise InvalidRequestError(f"{path}: no project {ref!r}")
        return project.id

    def _type_id(self, ref: Any, path: str) -> str:
        if not isinstance(ref, str):
            raise InvalidRequestError(f"{path}: a case type name or id is required")
        if parse_uuid(ref) is not None:
            return ref
        for kind in case_types.list_types(self.store, actor=self.admin):
            if kind.name.lower() == ref.lower():
                return kind.id
        raise InvalidRequestError(f"{path}: no case type {ref!r}")

    def _user_id(self, ref: Any, path: str) -> str:
        if not isinstance(ref, str):
            raise InvalidRequestError(f"{path}: a user's email or id is required")
        return self._actor(ref, path).user_id

    # --- running commands -----------------------------------------------------
    @contextmanager
    def making(
        self, item: dict[str, Any], path: str, *, at: Any = None, at_name: str = "created_at"
    ) -> Iterator[None]:
        """Run the commands of one object: its fixed id pinned, at its time; errors named
        by ``path``."""
        fixed = item.get("id")
        if fixed is not None:
            if not isinstance(fixed, str) or parse_uuid(fixed) is None:
                raise InvalidRequestError(f"{path}.id: expected a UUID, got {fixed!r}")
            self.ids.next = [parse_uuid(fixed) or fixed]
        self.at = None if at is None else _instant(at, f"{path}.{at_name}")
        try:
            yield
        except InvalidRequestError as exc:
            if exc.message.startswith(path):
                raise
            raise InvalidRequestError(f"{path}: {exc.message}") from None
        except NotFoundError as exc:
            raise InvalidRequestError(f"{path}: {exc.resource} {exc.ref!r} not found") from None
        except CasebookError as exc:
            raise InvalidRequestError(f"{path}: {exc.message}") from None
        finally:
            self.ids.next = []
            self.at = None

    def record(self, section: str, made: dict[str, Any], path: str, fixed: Any) -> None:
        if fixed is not None and made.get("id") != parse_uuid(str(fixed)):
            raise InvalidRequestError(f"{path}.id: this kind of object cannot take a fixed id")
        self.created.setdefault(section, []).append(made)

    # --- sections -------------------------------------------------------------
    def users(self, item: dict[str, Any], path: str) -> None:
        with self.making(item, path):
            user = users_domain.add_user(
                self.store,
                org_name=users_domain.DEFAULT_ORG,
                email=_text(item, "email", path),
                name=item.get("name"),
                admin=bool(item.get("admin", False)),
            )
            if item.get("app_key") is not None:
                key = _text(item, "app_key", path)
                if not users_domain.add_app_key(self.store, SECRET, user, app_key=key):
                    raise InvalidRequestError(f"{path}.app_key: another user holds this key")
                self.tenant.app_keys.add(key)
        self.record("users", {"id": user.id, "email": user.email}, path, item.get("id"))

    def projects(self, item: dict[str, Any], path: str) -> None:
        with self.making(item, path):
            project = projects_domain.create_project(
                self.store,
                actor=self.admin,
                key=_text(item, "key", path),
                name=_text(item, "name", path),
            )
            if item.get("settings") is not None:
                projects_domain.update_project(
                    self.store, project.id, actor=self.admin, settings=item["settings"]
                )
        made = {"id": project.id, "key": project.key}
        self.record("projects", made, path, item.get("id"))

    def case_types(self, item: dict[str, Any], path: str) -> None:
        statuses = item.get("statuses")
        with self.making({}, path):
            kind = case_types.create_type(
                self.store,
                actor=self.admin,
                name=_text(item, "name", path),
                description=item.get("description") or "",
                emoji=item.get("emoji") or "",
                statuses=None
                if statuses is None
                else msgspec.convert(statuses, list[case_types.StatusIn]),
            )
        self.record("case_types", {"id": kind.id, "name": kind.name}, path, None)

    def custom_attributes(self, item: dict[str, Any], path: str) -> None:
        with self.making(item, path):
            config = case_types.create_config(
                self.store,
                self._type_id(item.get("type"), f"{path}.type"),
                actor=self.admin,
                key=_text(item, "key", path),
                display_name=item.get("display_name") or _text(item, "key", path),
                type=item.get("kind") or "TEXT",
                is_multi=bool(item.get("is_multi", False)),
                description=item.get("description") or "",
                options=item.get("options"),
            )
        self.record("custom_attributes", {"id": config.id, "key": config.key}, path, item.get("id"))

    def webhooks(self, item: dict[str, Any], path: str) -> None:
        with self.making({}, path):
            webhook = webhooks_domain.create_webhook(
                self.store,
                actor=self.admin,
                name=_text(item, "name", path),
                url=_text(item, "url", path),
                payload=item.get("payload"),
                custom_headers=item.get("custom_headers"),
                encode_as=item.get("encode_as"),
            )
        self.record("webhooks", {"name": webhook.name}, path, None)

    def views(self, item: dict[str, Any], path: str) -> None:
        with self.making(item, path):
            view = views_domain.create_view(
                self.store,
                actor=self.admin,
                project_id=self._project_id(item.get("project"), f"{path}.project"),
                name=_text(item, "name", path),
                query=item.get("query") or "",
            )
        self.record("views", {"id": view.id, "name": view.name}, path, item.get("id"))

    def rules(self, item: dict[str, Any], path: str) -> None:
        kind = item.get("kind") or ("automation" if "action" in item else "notification")
        project_id = self._project_id(item.get("project"), f"{path}.project")
        with self.making(item, path):
            if kind == "notification":
                triggers = item.get("triggers") or [{"type": "CASE_CREATED"}]
                made = notification_rules.create_notification_rule(
                    self.store,
                    project_id,
                    actor=self.admin,
                    triggers=_convert(triggers, list[RuleTrigger], f"{path}.triggers"),
                    recipients=_convert(
                        item.get("recipients") or [], list[RuleRecipient], f"{path}.recipients"
                    ),
                    query=item.get("query") or "",
                    is_enabled=bool(item.get("enabled", True)),
                )
                self.record("rules", {"id": made.id, "kind": kind}, path, item.get("id"))
            elif kind == "automation":
                trigger = item.get("trigger") or {"type": "CASE_CREATED"}
                rule = automation_rules.create_automation_rule(
                    self.store,
                    project_id,
                    actor=self.admin,
                    name=_text(item, "name", path),
                    trigger=_convert(trigger, RuleTrigger, f"{path}.trigger"),
                    action=_convert(item.get("action"), RuleAction, f"{path}.action"),
                    is_enabled=item.get("enabled"),
                )
                self.record("rules", {"id": rule.id, "kind": kind}, path, item.get("id"))
            else:
                raise InvalidRequestError(f"{path}.kind: notification or automation")

    def cases(self, item: dict[str, Any], path: str) -> None:
        actor = self.admin
        if item.get("created_by") is not None:
            actor = self._actor(str(item["created_by"]), f"{path}.created_by")
        project_id = self._project_id(item.get("project"), f"{path}.project")
        type_id = None if item.get("type") is None else self._type_id(item["type"], f"{path}.type")
        assignee = item.get("assignee")
        with self.making(item, path, at=item.get("created_at")):
            case = cases.create_case(
                self.store,
                actor=actor,
                project_id=project_id,
                title=_text(item, "title", path),
                type_id=type_id,
                priority=item.get("priority") or "NOT_DEFINED",
                description=item.get("description") or "",
                status_name=item.get("status_name"),
                assignee_id=None
                if assignee is None
                else self._user_id(assignee, f"{path}.assignee"),
                custom_attributes=item.get("custom_attributes"),
            )
            if item.get("status") is not None:
                cases.update_status(
                    self.store, case.id, actor=actor, status=item["status"], status_name=None
                )
            if item.get("due_date") is not None:
                cases.update_due_date(self.store, case.id, actor=actor, due_date=item["due_date"])
        self.record("cases", {"id": case.id, "key": case.key}, path, item.get("id"))
        for i, comment in enumerate(_list(item, "comments", path)):
            where = f"{path}.comments[{i}]"
            _known(comment, _COMMENT, where)
            self._history(case.id, {"comment": comment.get("comment"), **comment}, where)
        for i, entry in enumerate(_list(item, "history", path)):
            where = f"{path}.history[{i}]"
            _known(entry, _HISTORY, where)
            self._history(case.id, entry, where)
        if item.get("archived"):
            with self.making({}, path):
                cases.archive_case(self.store, case.id, actor=actor)

    def _history(self, case_id: str, entry: dict[str, Any], path: str) -> None:
        who = entry.get("by") or entry.get("author")
        actor = self.admin if who is None else self._actor(str(who), f"{path}.by")
        with self.making({}, path, at=entry.get("at"), at_name="at"):
            if entry.get("title") is not None:
                cases.update_title(self.store, case_id, actor=actor, title=entry["title"])
            if entry.get("description") is not None:
                cases.update_description(
                    self.store, case_id, actor=actor, description=entry["description"]
                )
            if entry.get("priority") is not None:
                cases.update_priority(self.store, case_id, actor=actor, priority=entry["priority"])
            if entry.get("assignee") is not None:
                cases.assign_case(
                    self.store,
                    case_id,
                    actor=actor,
                    assignee_id=self._user_id(entry["assignee"], f"{path}.assignee"),
                )
            if entry.get("status") is not None or entry.get("status_name") is not None:
                cases.update_status(
                    self.store,
                    case_id,
                    actor=actor,
                    status=entry.get("status"),
                    status_name=entry.get("status_name"),
                )
            if "due_date" in entry:
                cases.update_due_date(self.store, case_id, actor=actor, due_date=entry["due_date"])
            if entry.get("archived") is True:
                cases.archive_case(self.store, case_id, actor=actor)
            elif entry.get("archived") is False:
                cases.unarchive_case(self.store, case_id, actor=actor)
            if entry.get("comment") is not None:
                comments.comment_case(
                    self.store, case_id, actor=actor, comment=str(entry["comment"])
                )


def _instant(value: Any, path: str) -> int:
    try:
        return parse_instant(value)
    except InvalidRequestError:
        raise InvalidRequestError(
            f"{path}: an RFC 3339 instant with an offset, got {value!r}"
        ) from None


def _text(item: dict[str, Any], name: str, path: str) -> str:
    value = item.get(name)
    if not isinstance(value, str):
        raise InvalidRequestError(f"{path}.{name}: a string is required")
    return value


def _list(item: dict[str, Any], name: str, path: str) -> list[dict[str, Any]]:
    value = item.get(name) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InvalidRequestError(f"{path}.{name}: expected a list of objects")
    return value


def _known(item: dict[str, Any], fields: frozenset[str], path: str) -> None:
    unknown = sorted(set(item) - fields)
    if unknown:
        raise InvalidRequestError(f"{path}.{unknown[0]}: unknown field")


def _convert(value: Any, kind: Any, path: str) -> Any:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"{path}: {exc}") from None


def check(document: dict[str, Any]) -> None:
    """Refuse a document whose shape is wrong before anything is loaded."""
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise InvalidRequestError(f"{unknown[0]}: unknown section; known: {', '.join(SECTIONS)}")
    for section, fields in SECTIONS.items():
        items = document.get(section) or []
        if not isinstance(items, list):
            raise InvalidRequestError(f"{section}: expected a list")
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise InvalidRequestError(f"{section}[{i}]: expected an object")
            _known(item, fields, f"{section}[{i}]")


def load(tenant: Tenant, document: dict[str, Any]) -> dict[str, Any]:
    """Load ``document`` into the organisation, all or nothing; what was made, by section.
    Call it inside ``tenant.context()``."""
    check(document)
    snapshot = tenant.store.copy()
    app_keys = set(tenant.app_keys)
    loader = _Loader(tenant)
    try:
        with using(loader.now, loader.ids):
            for section in SECTIONS:
                for i, item in enumerate(document.get(section) or []):
                    getattr(loader, section)(item, f"{section}[{i}]")
    except BaseException:
        tenant.store.restore(snapshot)
        tenant.app_keys = app_keys
        raise
    finally:
        snapshot.close()
    return {"data": loader.created, "at": rfc3339(tenant.clock.now())}
