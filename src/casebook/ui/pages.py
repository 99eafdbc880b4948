"""The pages: sign-in, cases, a case, the board and projects.

Each handler reads the request, calls the domain functions the API's handlers call (with
the session's actor), and renders a template; a change answers with the fragment htmx
swaps in, or a redirect for a plain form. No SQL and no rules here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from casebook.core.clock import now_us
from casebook.core.entities import CASE_SORTS, Actor, Case, Priority, Status, UserStatus
from casebook.core.errors import (
    AuthenticationError,
    CasebookError,
    InvalidQueryError,
    NotFoundError,
    ProjectNotFoundError,
    RateLimitedError,
    UserNotFoundError,
)
from casebook.domain import (
    bulk,
    case_types,
    cases,
    comments,
    projects,
    sessions,
    users,
    views,
    watchers,
)
from casebook.http.endpoint import Context, count_auth_failure, refuse_if_throttled
from casebook.http.observe import REJECTED
from casebook.search.parser import parse
from casebook.ui.render import GLOBALS, template
from casebook.ui.web import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Visit,
    check_csrf,
    error_page,
    read_form,
    secure,
    with_headers,
)

PAGE_SIZE = 25
BOARD_COLUMN_SIZE = 50
TIMELINE_SIZE = 100  # timeline entries a case page shows at first, and adds each time
MAX_TIMELINE_SHOWN = 1_000
STATUSES = [(s.value, s.display_name) for s in Status]
PRIORITIES = [p.value for p in Priority]
BOARD_COLUMNS = [
    (Status.OPEN, "Open"),
    (Status.IN_PROGRESS, "In progress"),
    (Status.CLOSED, "Closed"),
]


# --- sign-in ------------------------------------------------------------------------------
def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()  # browsers drop tabs and newlines: "/\t/evil.example"
        or len(target) > 2000
    ):
        return "/"
    return target


def _signin_form(
    request: Request,
    *,
    error: str = "",
    email: str = "",
    status: int = 200,
    next_path: str | None = None,
) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    html = template("signin.html").render(
        csrf=token,
        error=error,
        email=email,
        next=_safe_next(next_path or request.query_params.get("next")),
        actor=None,
        path="/signin",
    )
    response = HTMLResponse(html, status)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/signin"
    )
    return with_headers(response)


async def signin_page(request: Request) -> Response:
    return _signin_form(request)


async def signin(request: Request) -> Response:
    """Check the email and password; a new session (a new token: never the one the browser
    came with) and its cookie. Failures count against the address's auth-failure limit."""
    ctx: Context = request.app.state.ctx
    try:
        form = await read_form(request)
        check_csrf(request.cookies.get(CSRF_COOKIE, ""), request, form)
        try:
            refuse_if_throttled(
                ctx, request, "too many failed sign-ins from this address: wait a minute"
            )
        except RateLimitedError:
            request.scope[REJECTED] = "auth_throttled"
            raise
        email = form.get("email", "")
        try:
            signed = await run_in_threadpool(
                sessions.sign_in,
                ctx.store,
                ctx.secret,
                email=email,
                password=form.get("password", ""),
                idle_us=ctx.settings.session_idle_minutes * 60_000_000,
                previous=request.cookies.get(SESSION_COOKIE),
            )
        except AuthenticationError:
            request.scope[REJECTED] = "auth_failure"
            count_auth_failure(ctx, request)
            return _signin_form(
                request,
                error="Wrong email or password.",
                email=email,
                status=401,
                next_path=form.get("next"),
            )
    except CasebookError as exc:
        return error_page(exc, request)
    response = RedirectResponse(_safe_next(form.get("next")), 303)
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=secure(request),
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/signin")
    return with_headers(response)


async def signout(visit: Visit) -> Response:
    sessions.sign_out(
        visit.ctx.store, visit.ctx.secret, visit.request.cookies.get(SESSION_COOKIE, "")
    )
    response: Response = RedirectResponse("/signin", 303)
    if visit.htmx:
        response = Response(status_code=204, headers={"HX-Redirect": "/signin"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- cases --------------------------------------------------------------------------------
@dataclass(slots=True)
class SearchError:
    message: str
    position: int
    before: str
    term: str
    after: str


def _digest(page_items: list[Case], total: int) -> str:
    parts = [str(total), *(f"{c.id}:{c.version}" for c in page_items)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _project_keys(visit: Visit) -> list[Any]:
    return sorted(projects.list_projects(visit.ctx.store, actor=visit.actor), key=lambda p: p.key)


_PROJECT_KEY = re.compile(r"[A-Z][A-Z0-9]{0,9}")


def _project_param(raw: str | None) -> str:
    """A project key from the URL or a form, or "" (all projects) for anything else."""
    key = (raw or "").strip().upper()
    return key if _PROJECT_KEY.fullmatch(key) else ""


BULK_ACTIONS = [
    ("status:IN_PROGRESS", "Move to In progress"),
    ("status:CLOSED", "Close"),
    ("status:OPEN", "Reopen"),
    *((f"priority:{p}", f"Set priority {p}") for p in ("P1", "P2", "P3", "P4", "P5")),
    ("assign:me", "Assign to me"),
    ("unassign:", "Unassign"),
    ("archive:", "Archive"),
    ("unarchive:", "Unarchive"),
]


async def case_list(visit: Visit) -> Response:
    """The cases page, or (htmx) its results region; with ``live``, 204 while the results
    are those the page shows already (the digest of their versions). ``view``: a saved
    view of the project, whose query fills the search box."""
    return _case_list(visit, visit.request.query_params)


def _case_list(visit: Visit, params_in: Any, notice: str = "", status: int = 200) -> Response:
    request = visit.request
    q = params_in.get("q", "")
    project = _project_param(params_in.get("project"))
    sort = params_in.get("sort", "created_at")
    if sort not in CASE_SORTS:
        sort = "created_at"
    ascending = params_in.get("dir") == "asc"
    raw_page = params_in.get("page", "")
    number = max(int(raw_page) if raw_page.isdigit() and len(raw_page) < 7 else 1, 1)
    known = _project_keys(visit)
    chosen = next((p for p in known if p.key == project), None)
    saved = (
        []
        if chosen is None
        else views.list_views(visit.ctx.store, actor=visit.actor, project_id=chosen.id)
    )
    view = next((v for v in saved if v.id == params_in.get("view")), None)
    if view is not None and "q" not in params_in:
        q = view.query
    error: SearchError | None = None
    found: list[Case] = []
    total = 0
    try:
        parse(q, now_us=now_us())  # the user's own text first, so positions are theirs
        if project and q.strip():
            query = f"({q}) project:{project}"
        else:
            query = f"project:{project}" if project else q
        result = cases.search_cases(
            visit.ctx.store,
            actor=visit.actor,
            query=query,
            page_size=PAGE_SIZE,
            page_number=number,
            sort_field=sort,
            ascending=ascending,
        )
        found, total = result.items, result.total
    except InvalidQueryError as exc:
        at = min(max(exc.position, 0), len(q))
        term = exc.term or q[at : at + 1]
        error = SearchError(str(exc), at, q[:at], q[at : at + len(term)], q[at + len(term) :])
    digest = _digest(found, total)
    live = request.query_params.get("live")
    if live is not None and hmac.compare_digest(live, digest):
        return Response(status_code=204)
    params = {"q": q, "project": project, "sort": sort, "dir": "asc" if ascending else "desc"}
    values: dict[str, Any] = dict(
        cases=found,
        total=total,
        page=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        q=q,
        project=project,
        sort=sort,
        ascending=ascending,
        error=error,
        digest=digest,
        params=params,
        urlencode=urlencode,
        bulk_actions=BULK_ACTIONS,
        notice=notice,
        views=saved,
        view=view,
    )
    if visit.htmx and request.headers.get("hx-target") == "results":
        return visit.render("_results.html", status, **values)
    return visit.render("cases.html", status, projects=known, **values)


async def bulk_change(visit: Visit) -> Response:
    """Apply one action to the selected cases (one transaction, ``domain.bulk``); the
    results region anew, with what happened."""
    keys = visit.values("case")
    kind, _, value = visit.form.get("action", "").partition(":")
    payload = {"status": {"status": value}, "priority": {"priority": value}}.get(kind, {})
    if kind == "assign":
        payload = {"assignee_id": visit.actor.user_id}
    if not keys:
        notice = "Select cases first."
    else:
        try:
            bulk.bulk_update_cases(
                visit.ctx.store, actor=visit.actor, case_ids=keys, action=kind, payload=payload
            )
            notice = f"Changed {len(keys)} case{'' if len(keys) == 1 else 's'}."
        except CasebookError as exc:
            if isinstance(exc, NotFoundError):
                raise
            notice = str(exc)
    return _case_list(visit, visit.form, notice)


async def save_view(visit: Visit) -> Response:
    """Save the search as a view of the project; its list."""
    project = _project_param(visit.form.get("project"))
    chosen = next((p for p in _project_keys(visit) if p.key == project), None)
    if chosen is None:
        return _case_list(visit, visit.form, "Choose a project to save a view in.", 422)
    try:
        view = views.create_view(
            visit.ctx.store,
            actor=visit.actor,
            project_id=chosen.id,
            name=visit.form.get("name", ""),
            query=visit.form.get("q", ""),
        )
    except CasebookError as exc:
        if isinstance(exc, NotFoundError):
            raise
        return _case_list(visit, visit.form, str(exc), 422)
    return RedirectResponse(f"/?{urlencode({'project': project, 'view': view.id})}", 303)


async def delete_view(visit: Visit) -> Response:
    """Delete a saved view (anyone who may write cases, as through the API); the project's
    list."""
    views.delete_view(visit.ctx.store, visit.request.path_params["view"], actor=visit.actor)
    project = _project_param(visit.form.get("project"))
    return RedirectResponse(f"/?{urlencode({'project': project})}" if project else "/", 303)


def _assignees(visit: Visit) -> list[Any]:
    found, _, _ = users.list_users(
        visit.ctx.store,
        actor=visit.actor,
        text=None,
        statuses=[UserStatus.ACTIVE],
        order_by="name",
        descending=False,
        page_size=200,
        page_number=0,
    )
    return [u for u in found if not u.service_account]


async def new_case_page(visit: Visit) -> Response:
    project = _project_param(visit.request.query_params.get("project"))
    return _new_case_form(visit, {"project": project, "priority": "NOT_DEFINED"}, {})


def _new_case_form(
    visit: Visit, given: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return visit.render(
        "new_case.html",
        status,
        projects=_project_keys(visit),
        users=_assignees(visit),
        priorities=PRIORITIES,
        given=given,
        errors=errors,
    )


def _field_of(exc: CasebookError) -> str:
    """The form field a refusal of ``create_case`` is about (``form`` for none)."""
    if isinstance(exc, UserNotFoundError):
        return "assignee"
    if isinstance(exc, ProjectNotFoundError):
        return "project"
    message = str(exc).lower()
    for name in ("title", "description", "priority", "project", "assignee"):
        if name in message:
            return name
    if "user" in message:
        return "assignee"
    return "form"


async def create_case(visit: Visit) -> Response:
    form = visit.form
    errors: dict[str, str] = {}
    project_key = form.get("project", "").upper()
    project = next((p for p in _project_keys(visit) if p.key == project_key), None)
    if project is None:
        errors["project"] = "Choose a project."
    if not form.get("title", "").strip():
        errors["title"] = "A case needs a title."
    if not errors:
        assert project is not None
        try:
            case = cases.create_case(
                visit.ctx.store,
                actor=visit.actor,
                project_id=project.id,
                title=form.get("title", ""),
                description=form.get("description", ""),
                priority=form.get("priority") or "NOT_DEFINED",
                assignee_id=form.get("assignee") or None,
            )
        except CasebookError as exc:
            if isinstance(exc, NotFoundError) and _field_of(exc) == "form":
                raise
            errors[_field_of(exc)] = str(exc)
        else:
            return RedirectResponse(f"/cases/{case.key}", 303)
    return _new_case_form(visit, form, errors, 422)


# --- one case -----------------------------------------------------------------------------
def _case_values(visit: Visit, case: Case, **extra: Any) -> dict[str, Any]:
    store, actor = visit.ctx.store, visit.actor
    shown = _shown_entries(visit)
    entries, count = _timeline(visit, case.key, shown)
    people = _assignees(visit)
    case_type = case_types.find_type(store, actor, case.type_id)
    # A type of the organisation's own has its own statuses, chosen by name; the built-in
    # types have the three groups.
    own_statuses = [s.name for s in case_type.statuses] if case_type.org_id else None
    return dict(
        names={u.id: u.name or u.email for u in people},
        case=case,
        case_type=case_type,
        own_statuses=own_statuses,
        status_name=case.status_name or case.status.display_name,
        custom=[(key, _custom_text(held)) for key, held in sorted(case.custom_attributes.items())],
        timeline=entries,
        timeline_count=count,
        timeline_more=min(shown + TIMELINE_SIZE, MAX_TIMELINE_SHOWN),
        statuses=STATUSES,
        priorities=PRIORITIES,
        users=people,
        watchers=watchers.list_watchers(store, case.key, actor=actor),
        **extra,
    )


def _shown_entries(visit: Visit) -> int:
    """How many of the newest timeline entries the page shows: ``?entries=`` (100 more each
    time "Show earlier entries" is followed), 100 to ``MAX_TIMELINE_SHOWN``."""
    raw = visit.request.query_params.get("entries", "")
    wanted = int(raw) if raw.isdigit() and len(raw) < 6 else TIMELINE_SIZE
    pages = -(-max(wanted, TIMELINE_SIZE) // TIMELINE_SIZE)
    return min(pages * TIMELINE_SIZE, MAX_TIMELINE_SHOWN)


def _timeline(visit: Visit, ref: str, shown: int) -> tuple[list[Any], int]:
    """The ``shown`` newest entries of the case's timeline, oldest first, and how many it
    has: what happened last is what a person opening the case needs."""
    entries: list[Any] = []
    count = 0
    for number in range(1, shown // TIMELINE_SIZE + 1):
        found, count = comments.timeline(
            visit.ctx.store, ref, actor=visit.actor, page_size=TIMELINE_SIZE, page_number=number
        )
        entries.extend(found)
        if len(found) < TIMELINE_SIZE:
            break
    entries.reverse()
    return entries, count


def _custom_text(value: dict[str, object]) -> str:
    """A custom attribute's value as the page shows it: its values, comma separated."""
    held = value.get("value")
    values = held if isinstance(held, list) else [held]
    return ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values if v is not None)


def _case_main(visit: Visit, case: Case, **extra: Any) -> Response:
    return visit.render("_case_main.html", **_case_values(visit, case, **extra))


async def case_page(visit: Visit) -> Response:
    case = cases.get_case(visit.ctx.store, visit.request.path_params["ref"], actor=visit.actor)
    if case.key != visit.request.path_params["ref"]:
        return RedirectResponse(f"/cases/{case.key}", 301)
    return visit.render("case.html", **_case_values(visit, case))


async def case_live(visit: Visit) -> Response:
    """204 while the case is at the version the page shows; else its main region anew."""
    case = cases.get_case(visit.ctx.store, visit.request.path_params["ref"], actor=visit.actor)
    if visit.request.query_params.get("v") == str(case.version):
        return Response(status_code=204)
    return _case_main(visit, case)


def _change(command: Any, **fixed: Any) -> Any:
    """A handler applying one domain command to the case; the main region anew (with the
    refusal's message in place, if refused)."""

    async def handle(visit: Visit) -> Response:
        ref = visit.request.path_params["ref"]
        try:
            case = command(visit, ref)
        except CasebookError as exc:
            if isinstance(exc, NotFoundError):
                raise
            case = cases.get_case(visit.ctx.store, ref, actor=visit.actor)
            return _case_main(visit, case, error=str(exc))
        if not visit.htmx:
            return RedirectResponse(f"/cases/{case.key}", 303)
        return _case_main(visit, case)

    handle.__name__ = getattr(command, "__name__", "change")
    return handle


def _status(visit: Visit, ref: str) -> Case:
    name = visit.form.get("status_name")  # a status of the case's own type, by name
    return cases.update_status(
        visit.ctx.store,
        ref,
        actor=visit.actor,
        status=None if name else visit.form.get("status", ""),
        status_name=name or None,
    )


def _priority(visit: Visit, ref: str) -> Case:
    return cases.update_priority(
        visit.ctx.store, ref, actor=visit.actor, priority=visit.form.get("priority", "")
    )


def _assignee(visit: Visit, ref: str) -> Case:
    chosen = visit.form.get("assignee", "")
    if not chosen:
        return cases.unassign_case(visit.ctx.store, ref, actor=visit.actor)
    return cases.assign_case(visit.ctx.store, ref, actor=visit.actor, assignee_id=chosen)


def _title(visit: Visit, ref: str) -> Case:
    return cases.update_title(
        visit.ctx.store, ref, actor=visit.actor, title=visit.form.get("title", "")
    )


def _description(visit: Visit, ref: str) -> Case:
    return cases.update_description(
        visit.ctx.store, ref, actor=visit.actor, description=visit.form.get("description", "")
    )


def _due_date(visit: Visit, ref: str) -> Case:
    day = visit.form.get("due_date", "").strip()  # a date input: YYYY-MM-DD, or "" to clear
    return cases.update_due_date(visit.ctx.store, ref, actor=visit.actor, due_date=day or None)


def _watch(visit: Visit, ref: str) -> Case:
    """Start (``watch=1``) or stop watching the case, as the signed-in user."""
    store, actor = visit.ctx.store, visit.actor
    if visit.form.get("watch") == "1":
        watchers.watch_case(store, ref, actor.user_id, actor=actor)
    else:
        watchers.unwatch_case(store, ref, actor.user_id, actor=actor)
    return cases.get_case(store, ref, actor=actor)


def _comment(visit: Visit, ref: str) -> Case:
    comments.comment_case(
        visit.ctx.store, ref, actor=visit.actor, comment=visit.form.get("comment", "")
    )
    return cases.get_case(visit.ctx.store, ref, actor=visit.actor)


def _edit_comment(visit: Visit, ref: str) -> Case:
    cell = visit.request.path_params["cell"]
    comments.edit_comment(
        visit.ctx.store, ref, cell, actor=visit.actor, comment=visit.form.get("comment", "")
    )
    return cases.get_case(visit.ctx.store, ref, actor=visit.actor)


def _delete_comment(visit: Visit, ref: str) -> Case:
    comments.delete_comment(
        visit.ctx.store, ref, visit.request.path_params["cell"], actor=visit.actor
    )
    return cases.get_case(visit.ctx.store, ref, actor=visit.actor)


change_status = _change(_status)
change_priority = _change(_priority)
change_assignee = _change(_assignee)
change_title = _change(_title)
change_description = _change(_description)
change_due_date = _change(_due_date)
change_watching = _change(_watch)
add_comment = _change(_comment)
edit_comment = _change(_edit_comment)
delete_comment = _change(_delete_comment)


async def title_form(visit: Visit) -> Response:
    case = cases.get_case(visit.ctx.store, visit.request.path_params["ref"], actor=visit.actor)
    return visit.render("_title_form.html", case=case)


async def description_form(visit: Visit) -> Response:
    case = cases.get_case(visit.ctx.store, visit.request.path_params["ref"], actor=visit.actor)
    return visit.render("_description_form.html", case=case)


async def comment_form(visit: Visit) -> Response:
    ref, cell = visit.request.path_params["ref"], visit.request.path_params["cell"]
    case = cases.get_case(visit.ctx.store, ref, actor=visit.actor)
    entries, _ = _timeline(visit, ref, MAX_TIMELINE_SHOWN)
    found = next(
        (e.comment for e in entries if e.comment is not None and e.comment.id == cell), None
    )
    if found is None or found.author_id != visit.actor.user_id or found.body is None:
        return Response(status_code=204)
    return visit.render("_comment_form.html", case=case, comment=found)


# --- board --------------------------------------------------------------------------------
def _board_values(visit: Visit, project: str) -> dict[str, Any]:
    columns = []
    versions: list[Case] = []
    for status, label in BOARD_COLUMNS:
        query = (
            f"project:{project} status:{status.value.lower()}"
            if project
            else f"status:{status.value.lower()}"
        )
        found = cases.search_cases(
            visit.ctx.store,
            actor=visit.actor,
            query=query,
            page_size=BOARD_COLUMN_SIZE,
            # The work to do, most urgent first; the closed column (the largest, in time)
            # newest first, which is also the cheap order to read.
            sort_field="created_at" if status is Status.CLOSED else "priority",
        )
        columns.append((status, label, found.items, found.total))
        versions.extend(found.items)
    total = sum(column[3] for column in columns)
    return dict(
        project=project, columns=columns, statuses=BOARD_COLUMNS, digest=_digest(versions, total)
    )


async def board(visit: Visit) -> Response:
    values = _board_values(visit, _project_param(visit.request.query_params.get("project")))
    live = visit.request.query_params.get("live")
    if live is not None and hmac.compare_digest(live, values["digest"]):
        return Response(status_code=204)
    if visit.htmx and visit.request.headers.get("hx-target") == "board":
        return visit.render("_board.html", **values)
    return visit.render("board.html", projects=_project_keys(visit), **values)


async def board_move(visit: Visit) -> Response:
    """Move a card to another column (its case to that status); the board anew."""
    project = _project_param(visit.form.get("project"))
    error = ""
    try:
        cases.update_status(
            visit.ctx.store,
            visit.form.get("key", ""),
            actor=visit.actor,
            status=visit.form.get("status", ""),
            status_name=None,
        )
    except CasebookError as exc:
        if isinstance(exc, NotFoundError):
            raise
        error = str(exc)
    values = _board_values(visit, project)
    if not visit.htmx:
        return RedirectResponse(f"/board?{urlencode({'project': project})}", 303)
    return visit.render("_board.html", error=error, **values)


# --- projects -----------------------------------------------------------------------------
async def projects_page(visit: Visit) -> Response:
    return _projects(visit, {}, {})


def _projects(
    visit: Visit, given: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    return visit.render(
        "projects.html", status, projects=_project_keys(visit), given=given, errors=errors
    )


async def create_project(visit: Visit) -> Response:
    form = visit.form
    try:
        projects.create_project(
            visit.ctx.store, actor=visit.actor, key=form.get("key", ""), name=form.get("name", "")
        )
    except CasebookError as exc:
        if isinstance(exc, NotFoundError):
            raise
        field = "name" if "name" in str(exc).lower() and "key" not in str(exc).lower() else "key"
        return _projects(visit, form, {field: str(exc)}, 422)
    return RedirectResponse("/projects", 303)


def actor_label(actor: Actor) -> str:
    return actor.user.name or actor.user.email


GLOBALS["actor_label"] = actor_label
