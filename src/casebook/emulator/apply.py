"""``casebook apply``: make an organisation's configuration match a state document.

The document is the emulator's (``seed.py``): ``users``, ``projects``, ``case_types``,
``custom_attributes``, ``webhooks``, ``views`` and ``rules``. ``plan`` compares it with
what the organisation holds and lists the steps that would make them match — create,
change, delete — each run later by ``apply`` through the domain's own commands, so a
second ``apply`` of the same file plans nothing. Objects are matched by what names them:
a user by email, a project by key, a case type by name, a custom attribute by type and
key, a webhook by name, a view by project and name, an automation rule by project and
name, and a notification rule by project and what it does (triggers, recipients, query).

Deletes: the views, automation rules and notification rules of the projects the
document names that the document does not list (only when it has a ``views`` or
``rules`` section). Users, projects, case types, custom attributes and webhooks the
document leaves out are left alone; ``cases`` are data, not configuration: ``apply``
does not touch them (``casebook emulate --seed`` loads them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from casebook.core.entities import Actor, RuleAction, RuleRecipient, RuleTrigger
from casebook.core.errors import (
    InvalidRequestError,
    NotFoundError,
    ProjectNotFoundError,
    UserNotFoundError,
)
from casebook.domain import automation_rules, case_types, notification_rules
from casebook.domain import projects as projects_domain
from casebook.domain import users as users_domain
from casebook.domain import views as views_domain
from casebook.domain import webhooks as webhooks_domain
from casebook.domain.keys import role_scopes, user_ref
from casebook.emulator import seed
from casebook.storage.base import Store

MANAGED = ("users", "projects", "case_types", "custom_attributes", "webhooks", "views", "rules")


@dataclass(frozen=True, slots=True)
class Step:
    """One change: ``sign`` is ``+`` (create), ``~`` (change) or ``-`` (delete)."""

    sign: str
    kind: str
    name: str
    detail: str
    run: Callable[[], object]

    def line(self) -> str:
        return f"{self.sign} {self.kind} {self.name}" + (f": {self.detail}" if self.detail else "")


def admin_actor(store: Store, org_name: str, email: str) -> Actor:
    """The admin ``apply`` acts as."""
    with store.read() as tx:
        org = users_domain.get_org(tx, org_name)
        user = tx.users.by_email(org.id, users_domain.normalise_email(email))
    if user is None or not user.is_admin:
        raise UserNotFoundError(email)
    return Actor(
        user=user_ref(user), org_id=org.id, is_admin=True, key_id="apply", scopes=role_scopes(user)
    )


class _Planner:
    def __init__(self, store: Store, actor: Actor, document: dict[str, Any], org_name: str) -> None:
        self.org_name = org_name
        self.store = store
        self.actor = actor
        self.document = document
        self.steps: list[Step] = []

    def add(self, sign: str, kind: str, name: str, detail: str, run: Callable[[], object]) -> None:
        self.steps.append(Step(sign, kind, name, detail, run))

    def items(self, section: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.document.get(section) or []
        return items

    def project_id(self, key: str) -> str | None:
        with self.store.read() as tx:
            project = tx.projects.by_key(self.actor.org_id, key.upper())
        return None if project is None else project.id

    def must_project(self, key: str) -> str:
        found = self.project_id(key)
        if found is None:
            raise ProjectNotFoundError(key)
        return found

    # --- sections -----------------------------------------------------------------
    def users(self) -> None:
        for item in self.items("users"):
            email = users_domain.normalise_email(str(item["email"]))
            with self.store.read() as tx:
                user = tx.users.by_email(self.actor.org_id, email)
            if user is None:
                self.add(
                    "+",
                    "user",
                    email,
                    "",
                    _call(
                        users_domain.add_user,
                        self.store,
                        org_name=self.org_name,
                        email=email,
                        name=item.get("name"),
                        admin=bool(item.get("admin", False)),
                    ),
                )
            elif item.get("name") is not None and item["name"] != user.name:
                self.add(
                    "~",
                    "user",
                    email,
                    f"name {user.name!r} -> {item['name']!r}",
                    _call(
                        users_domain.update_user,
                        self.store,
                        user.id,
                        actor=self.actor,
                        body_id=user.id,
                        changes={"name": item["name"]},
                    ),
                )

    def projects(self) -> None:
        existing = {p.key: p for p in projects_domain.list_projects(self.store, actor=self.actor)}
        for item in self.items("projects"):
            key = str(item["key"]).upper()
            project = existing.get(key)
            if project is None:
                create = functools.partial(self._create_project, item)
                self.add("+", "project", key, str(item.get("name", "")), create)
                continue
            changes: dict[str, Any] = {}
            if item.get("name") is not None and item["name"] != project.name:
                changes["name"] = item["name"]
            if item.get("settings") is not None:
                merged = projects_domain.merge_patch(
                    projects_domain.settings_of(project), item["settings"]
                )
                if merged != projects_domain.settings_of(project):
                    changes["settings"] = item["settings"]
            if changes:
                self.add(
                    "~",
                    "project",
                    key,
                    ", ".join(sorted(changes)),
                    _call(
                        projects_domain.update_project,
                        self.store,
                        project.id,
                        actor=self.actor,
                        **changes,
                    ),
                )

    def _create_project(self, item: dict[str, Any]) -> None:
        project = projects_domain.create_project(
            self.store, actor=self.actor, key=str(item["key"]), name=str(item["name"])
        )
        if item.get("settings") is not None:
            projects_domain.update_project(
                self.store, project.id, actor=self.actor, settings=item["settings"]
            )

    def case_types(self) -> None:
        existing = {
            t.name.casefold(): t for t in case_types.list_types(self.store, actor=self.actor)
        }
        for item in self.items("case_types"):
            found = existing.get(str(item["name"]).casefold())
            if found is None:
                statuses = item.get("statuses")
                self.add(
                    "+",
                    "case type",
                    str(item["name"]),
                    "",
                    _call(
                        case_types.create_type,
                        self.store,
                        actor=self.actor,
                        name=item["name"],
                        description=item.get("description") or "",
                        emoji=item.get("emoji") or "",
                        statuses=None
                        if statuses is None
                        else msgspec.convert(statuses, list[case_types.StatusIn]),
                    ),
                )
            elif (item.get("description") or "") != (found.description or "") and (
                "description" in item
            ):
                self.add(
                    "~",
                    "case type",
                    found.name,
                    "description",
                    _call(
                        case_types.update_type,
                        self.store,
                        found.id,
                        actor=self.actor,
                        description=item.get("description") or "",
                    ),
                )

    def custom_attributes(self) -> None:
        for item in self.items("custom_attributes"):
            type_name, key = str(item["type"]), str(item["key"])
            found = None
            for kind in case_types.list_types(self.store, actor=self.actor):
                if kind.name.casefold() == type_name.casefold() or kind.id == type_name:
                    configs = case_types.list_configs(
                        self.store, actor=self.actor, type_ref=kind.id
                    )
                    found = next((c for c in configs if c.key == key), None)
            name = f"{type_name}/{key}"
            if found is None:
                self.add(
                    "+",
                    "custom attribute",
                    name,
                    str(item.get("kind") or "TEXT"),
                    functools.partial(self._create_config, item),
                )
            elif (
                item.get("display_name") is not None and item["display_name"] != found.display_name
            ):
                self.add(
                    "~",
                    "custom attribute",
                    name,
                    "display_name",
                    _call(
                        case_types.update_config,
                        self.store,
                        found.type_id,
                        found.id,
                        actor=self.actor,
                        display_name=item["display_name"],
                    ),
                )

    def _create_config(self, item: dict[str, Any]) -> None:
        type_ref = str(item["type"])
        for kind in case_types.list_types(self.store, actor=self.actor):
            if kind.name.casefold() == type_ref.casefold():
                type_ref = kind.id
        case_types.create_config(
            self.store,
            type_ref,
            actor=self.actor,
            key=str(item["key"]),
            display_name=item.get("display_name") or str(item["key"]),
            type=item.get("kind") or "TEXT",
            is_multi=bool(item.get("is_multi", False)),
            description=item.get("description") or "",
            options=item.get("options"),
        )

    def webhooks(self) -> None:
        for item in self.items("webhooks"):
            name = str(item["name"])
            try:
                found = webhooks_domain.get_webhook(self.store, name, actor=self.actor)
            except NotFoundError:
                found = None
            if found is None:
                self.add(
                    "+",
                    "webhook",
                    name,
                    str(item.get("url", "")),
                    _call(
                        webhooks_domain.create_webhook,
                        self.store,
                        actor=self.actor,
                        name=name,
                        url=item["url"],
                        payload=item.get("payload"),
                        custom_headers=item.get("custom_headers"),
                        encode_as=item.get("encode_as"),
                    ),
                )
                continue
            changes = {
                member: item[member]
                for member in ("url", "payload", "custom_headers", "encode_as")
                if item.get(member) is not None and item[member] != getattr(found, member)
            }
            if changes:
                self.add(
                    "~",
                    "webhook",
                    name,
                    ", ".join(sorted(changes)),
                    _call(
                        webhooks_domain.update_webhook,
                        self.store,
                        name,
                        actor=self.actor,
                        **changes,
                    ),
                )

    def _projects_named(self, section: str) -> list[str]:
        keys = {str(p["key"]).upper() for p in self.items("projects")}
        keys |= {str(i["project"]).upper() for i in self.items(section) if i.get("project")}
        return sorted(keys)

    def views(self) -> None:
        if "views" not in self.document:
            return
        for key in self._projects_named("views"):
            wanted = [i for i in self.items("views") if str(i["project"]).upper() == key]
            project_id = self.project_id(key)
            existing = (
                {}
                if project_id is None
                else {
                    v.name: v
                    for v in views_domain.list_views(
                        self.store, actor=self.actor, project_id=project_id
                    )
                }
            )
            for item in wanted:
                view = existing.pop(str(item["name"]), None)
                name = f"{key}/{item['name']}"
                if view is None:
                    create = functools.partial(self._create_view, key, item)
                    self.add("+", "view", name, str(item.get("query") or ""), create)
                elif (item.get("query") or "") != view.query:
                    self.add(
                        "~",
                        "view",
                        name,
                        f"query {view.query!r} -> {item.get('query')!r}",
                        _call(
                            views_domain.update_view,
                            self.store,
                            view.id,
                            actor=self.actor,
                            query=item.get("query") or "",
                        ),
                    )
            for view in existing.values():
                self.add(
                    "-",
                    "view",
                    f"{key}/{view.name}",
                    "",
                    _call(views_domain.delete_view, self.store, view.id, actor=self.actor),
                )

    def _create_view(self, key: str, item: dict[str, Any]) -> None:
        views_domain.create_view(
            self.store,
            actor=self.actor,
            project_id=self.must_project(key),
            name=str(item["name"]),
            query=item.get("query") or "",
        )

    def rules(self) -> None:
        if "rules" not in self.document:
            return
        for key in self._projects_named("rules"):
            wanted = [i for i in self.items("rules") if str(i["project"]).upper() == key]
            project_id = self.project_id(key)
            self._notification_rules(
                key, project_id, [i for i in wanted if _kind(i) == "notification"]
            )
            self._automation_rules(key, project_id, [i for i in wanted if _kind(i) == "automation"])

    def _notification_rules(
        self, key: str, project_id: str | None, wanted: list[dict[str, Any]]
    ) -> None:
        existing = (
            []
            if project_id is None
            else notification_rules.list_notification_rules(
                self.store, project_id, actor=self.actor
            )
        )
        signatures = {
            _signature(r.triggers, r.recipients, r.query, r.is_enabled): r for r in existing
        }
        for item in wanted:
            triggers = msgspec.convert(
                item.get("triggers") or [{"type": "CASE_CREATED"}], list[RuleTrigger]
            )
            recipients = msgspec.convert(item.get("recipients") or [], list[RuleRecipient])
            checked = notification_rules.normalised(
                self.store, actor=self.actor, triggers=triggers, recipients=recipients
            )
            query, enabled = item.get("query") or "", bool(item.get("enabled", True))
            if signatures.pop(_signature(*checked, query, enabled), None) is not None:
                continue
            create = functools.partial(self._create_notification_rule, key, checked, query, enabled)
            self.add("+", "notification rule", key, _describe(checked[1]), create)
        for rule in signatures.values():
            assert project_id is not None
            self.add(
                "-",
                "notification rule",
                key,
                _describe(rule.recipients),
                _call(
                    notification_rules.delete_notification_rule,
                    self.store,
                    project_id,
                    rule.id,
                    actor=self.actor,
                ),
            )

    def _create_notification_rule(
        self,
        key: str,
        checked: tuple[list[RuleTrigger], list[RuleRecipient]],
        query: str,
        enabled: bool,
    ) -> None:
        notification_rules.create_notification_rule(
            self.store,
            self.must_project(key),
            actor=self.actor,
            triggers=checked[0],
            recipients=checked[1],
            query=query,
            is_enabled=enabled,
        )

    def _automation_rules(
        self, key: str, project_id: str | None, wanted: list[dict[str, Any]]
    ) -> None:
        existing = (
            {}
            if project_id is None
            else {
                r.name: r
                for r in automation_rules.list_automation_rules(
                    self.store, project_id, actor=self.actor
                )
            }
        )
        for item in wanted:
            name = str(item["name"])
            trigger = msgspec.convert(item.get("trigger") or {"type": "CASE_CREATED"}, RuleTrigger)
            action = msgspec.convert(item["action"], RuleAction)
            enabled = item.get("enabled")
            rule = existing.pop(name, None)
            label = f"{key}/{name}"
            if rule is None:
                create = functools.partial(
                    self._create_automation_rule, key, name, trigger, action, enabled
                )
                self.add("+", "automation rule", label, action.type, create)
            elif (rule.trigger, rule.action) != (trigger, action) or (
                enabled is not None and enabled != rule.is_enabled
            ):
                assert project_id is not None
                self.add(
                    "~",
                    "automation rule",
                    label,
                    "trigger, action or state",
                    _call(
                        automation_rules.update_automation_rule,
                        self.store,
                        project_id,
                        rule.id,
                        actor=self.actor,
                        name=name,
                        trigger=trigger,
                        action=action,
                        is_enabled=enabled,
                    ),
                )
        for rule in existing.values():
            assert project_id is not None
            self.add(
                "-",
                "automation rule",
                f"{key}/{rule.name}",
                "",
                _call(
                    automation_rules.delete_automation_rule,
                    self.store,
                    project_id,
                    rule.id,
                    actor=self.actor,
                ),
            )

    def _create_automation_rule(
        self, key: str, name: str, trigger: RuleTrigger, action: RuleAction, enabled: Any
    ) -> None:
        automation_rules.create_automation_rule(
            self.store,
            self.must_project(key),
            actor=self.actor,
            name=name,
            trigger=trigger,
            action=action,
            is_enabled=enabled,
        )


def _kind(item: dict[str, Any]) -> str:
    return str(item.get("kind") or ("automation" if "action" in item else "notification"))


def _signature(
    triggers: list[RuleTrigger], recipients: list[RuleRecipient], query: str, enabled: bool
) -> str:
    return json.dumps(
        [msgspec.to_builtins(triggers), msgspec.to_builtins(recipients), query, enabled],
        sort_keys=True,
    )


def _describe(recipients: list[RuleRecipient]) -> str:
    return ", ".join(r.type for r in recipients)


def _call(function: Callable[..., object], *args: Any, **kwargs: Any) -> Callable[[], object]:
    return lambda: function(*args, **kwargs)


def plan(store: Store, actor: Actor, document: dict[str, Any], org_name: str) -> list[Step]:
    """The steps that would make the organisation match ``document``, in the order they
    run (a section's steps may need the ones of the sections before it)."""
    seed.check(document)
    planner = _Planner(store, actor, document, org_name)
    try:
        planner.users()
        planner.projects()
        planner.case_types()
        planner.custom_attributes()
        planner.webhooks()
        planner.views()
        planner.rules()
    except (KeyError, msgspec.ValidationError) as exc:
        raise InvalidRequestError(f"invalid state document: {exc}") from None
    return planner.steps


def apply(steps: list[Step]) -> None:
    """Run the steps of a plan, in order (each its own transaction, as the API's are)."""
    for step in steps:
        step.run()
