"""The ``casebook`` command: serve, migrate, export, import and back up, and manage orgs,
users, keys, projects, case types and the connections to Jira and ServiceNow.

Commands call the domain layer directly, not the HTTP API. Every error we raise
on purpose becomes a one-line message and exit status 1 (see ``main``).
"""

from __future__ import annotations

import enum
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from casebook import __version__
from casebook.config import Settings, load_settings
from casebook.core.entities import Status
from casebook.core.errors import CasebookError, NotFoundError
from casebook.domain import case_types as case_types_domain
from casebook.domain import integrations as integrations_domain
from casebook.domain import keys as keys_domain
from casebook.domain import projects as projects_domain
from casebook.domain import reports as reports_domain
from casebook.domain import sessions as sessions_domain
from casebook.domain import users as users_domain
from casebook.domain import webhooks as webhooks_domain
from casebook.egress.guard import check_url
from casebook.storage import Store, open_store

if TYPE_CHECKING:  # dump loads psycopg and SQLAlchemy: only the commands that use it do
    from casebook.storage import dump


def _message(exc: CasebookError) -> str:
    if isinstance(exc, NotFoundError):
        return f"{exc.resource} {exc.ref!r} not found"
    return exc.message


class _Group(TyperGroup):
    """Turns every error we raise on purpose into one line and exit status 1."""

    def invoke(self, ctx: Any) -> Any:  # typer.Context narrows the base signature
        try:
            return super().invoke(ctx)
        except CasebookError as exc:
            typer.echo(f"casebook: {_message(exc)}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="casebook: a self-hosted server for Datadog's Case Management API v2.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
orgs_app = typer.Typer(help="Organisations.", no_args_is_help=True)
users_app = typer.Typer(help="Users.", no_args_is_help=True)
keys_app = typer.Typer(help="API and application keys.", no_args_is_help=True)
projects_app = typer.Typer(help="Projects.", no_args_is_help=True)
types_app = typer.Typer(help="Case types and their statuses.", no_args_is_help=True)
integrations_app = typer.Typer(
    help="Connections to Jira and ServiceNow (credentials are stored sealed, never shown).",
    no_args_is_help=True,
)
jira_app = typer.Typer(help="The organisation's Jira.", no_args_is_help=True)
servicenow_app = typer.Typer(help="The organisation's ServiceNow instance.", no_args_is_help=True)
integrations_app.add_typer(jira_app, name="jira")
integrations_app.add_typer(servicenow_app, name="servicenow")
app.add_typer(orgs_app, name="orgs")
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(projects_app, name="projects")
app.add_typer(types_app, name="types")
app.add_typer(integrations_app, name="integrations")
webhooks_app = typer.Typer(help="Webhooks: what their receivers need.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")

out = Console()
OrgOption = Annotated[str, typer.Option("--org", help="Organisation name.")]


def _settings() -> Settings:
    return load_settings(os.environ)


@contextmanager
def _store(settings: Settings | None = None, *, unbounded: bool = False) -> Iterator[Store]:
    """The configured store, migrated, closed on the way out; ``unbounded``: no statement
    timeout on PostgreSQL (an export sorts whole tables, an import fills them)."""
    settings = settings or _settings()
    store = open_store(
        settings.database_url,
        sqlite_synchronous=settings.sqlite_synchronous,
        busy_timeout_ms=settings.busy_timeout_ms,
        statement_timeout_ms=0 if unbounded else 10_000,
    )
    try:
        store.migrate()
        yield store
    finally:
        store.close()


def _when(us: int | None) -> str:
    if us is None:
        return "-"
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S")


class LogFormatChoice(enum.StrEnum):
    json = "json"
    text = "text"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(
            help="Request log lines on standard error: json or text"
            " (unset: CASEBOOK_LOG_FORMAT, else text on a terminal and json otherwise)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Migrate the database, make sure someone can log in, and serve the API."""
    if log_format is not None:
        os.environ["CASEBOOK_LOG_FORMAT"] = log_format.value  # the workers read it
    settings = _settings()
    with _metrics_directory(settings, workers):
        _serve(settings, host, port, workers)


@contextmanager
def _metrics_directory(settings: Settings, workers: int) -> Iterator[None]:
    """Several workers count into files of a private directory (prometheus-client's
    multiprocess mode), made here before any worker imports the library and removed
    when ``serve`` ends; one worker counts in memory. A PROMETHEUS_MULTIPROC_DIR set
    from outside is never used: files left there by an earlier run would be counted."""
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if not settings.metrics or workers <= 1:
        yield
        return
    _remove_orphaned_metrics_directories()
    prefix = f"{_METRICS_PREFIX}{os.getpid()}-"
    with tempfile.TemporaryDirectory(prefix=prefix) as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


_METRICS_PREFIX = "casebook-metrics-"


def _remove_orphaned_metrics_directories() -> None:
    """Remove the metrics directories of earlier ``serve`` processes of this user that were
    killed (SIGKILL leaves no chance to clean up); the directory names the process."""
    folder = Path(tempfile.gettempdir())
    for entry in folder.glob(f"{_METRICS_PREFIX}*-*"):
        pid = entry.name.removeprefix(_METRICS_PREFIX).split("-", 1)[0]
        try:
            if not pid.isdigit() or entry.lstat().st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue  # alive (another user's process with that id, say), or already gone


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    from casebook.http.serve import run as serve_api

    with _store(settings) as store:
        result = users_domain.bootstrap(
            store, settings.secret_key, api_key=settings.api_key, app_key=settings.app_key
        )
        password = None
        if result.created_keys is not None:
            # The new admin can sign in to the web UI at once (docs/ui.md).
            password = sessions_domain.new_password()
            sessions_domain.set_password(
                store,
                org_name=users_domain.DEFAULT_ORG,
                email=users_domain.BOOTSTRAP_ADMIN_EMAIL,
                password=password,
            )
    if result.created_keys is not None:
        typer.echo(
            "casebook: created the admin user "
            f"{users_domain.BOOTSTRAP_ADMIN_EMAIL} of the 'default' organisation.\n"
            "Its keys and web UI password are shown this once; keep them:\n"
            f"  DD-API-KEY:         {result.created_keys.api_key}\n"
            f"  DD-APPLICATION-KEY: {result.created_keys.app_key}\n"
            f"  Password:           {password}  (sign in at http://{host}:{port}/)"
        )
    typer.echo(f"casebook {__version__} listening on http://{host}:{port}")
    sys.stdout.flush()
    try:
        serve_api(
            host=host,
            port=port,
            workers=workers,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=8,
            server_header=False,
        )
    except OSError as exc:
        typer.echo(f"casebook: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


@app.command()
def emulate(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8126,
    seed: Annotated[
        Path | None,
        typer.Option(help="A state document (YAML or JSON) every new organisation starts with."),
    ] = None,
    ids_seed: Annotated[
        int | None, typer.Option(help="Make ids from a generator seeded with this number.")
    ] = None,
    persist: Annotated[
        Path | None,
        typer.Option(help="Keep the organisations in this directory (default: memory only)."),
    ] = None,
) -> None:
    """Serve the API as a stand-in for Datadog's in tests and CI: any keys work, each API
    key its own organisation, in memory; deliveries land in an outbox (docs/emulator.md)."""
    from casebook import emulator
    from casebook.emulator.server import run

    document = None if seed is None else emulator.read_document(seed)
    emulated = emulator.build(seed=document, ids_seed=ids_seed, persist=persist)
    typer.echo(f"casebook {__version__} emulating on http://{host}:{port} (any keys work)")
    sys.stdout.flush()
    try:
        run(emulated, host=host, port=port)
    except OSError as exc:
        typer.echo(f"casebook: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None


@app.command("apply")
def apply_(
    file: Annotated[Path, typer.Argument(help="A state document, YAML or JSON.")],
    dry_run: Annotated[bool, typer.Option(help="Print the plan and change nothing.")] = False,
    org: OrgOption = users_domain.DEFAULT_ORG,
    as_: Annotated[
        str, typer.Option("--as", help="The admin the changes are made as.")
    ] = users_domain.BOOTSTRAP_ADMIN_EMAIL,
) -> None:
    """Make an organisation's configuration match a state document: print the plan
    (+ create, ~ change, - delete), then carry it out (docs/emulator.md)."""
    from casebook import emulator
    from casebook.emulator import apply as applying

    document = emulator.read_document(file)
    with _store() as store:
        actor = applying.admin_actor(store, org, as_)
        steps = applying.plan(store, actor, document, org)
        for step in steps:
            typer.echo(step.line())
        if document.get("cases"):
            typer.echo(f"  ({len(document['cases'])} cases: data, not configuration; not applied)")
        if not steps:
            typer.echo("casebook: no changes; the organisation matches the file")
            return
        if dry_run:
            typer.echo(f"casebook: {len(steps)} changes planned (dry run: none made)")
            return
        applying.apply(steps)
    typer.echo(f"casebook: applied {len(steps)} changes")


@app.command()
def migrate() -> None:
    """Bring the database schema to the newest version."""
    with _store():
        pass
    typer.echo("casebook: database is up to date")


@contextmanager
def _progress(what: str) -> Iterator[dump.Progress]:
    """A Rich progress bar on standard error, fed (done, total) by the dump functions."""
    bar = Progress(
        TextColumn(f"{what}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task(what, total=None)
    with bar:
        yield lambda done, total: bar.update(task, completed=done, total=total or None)


@app.command("export")
def export_(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organisation (and what it owns).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="The dump file (default: stdout).")
    ] = None,
) -> None:
    """Write a lossless dump (JSON Lines) of the database, or of one organisation: every
    table but those the triggers rebuild, in a stable order (docs/operations.md)."""
    settings = _settings()
    # The key-hashing secret travels only when the database is where the server keeps it.
    leave_out = frozenset({keys_domain.SECRET_META}) if settings.secret_key else frozenset()
    with _store(settings, unbounded=True) as store:
        scope = None
        if org is not None:
            with store.read() as tx:
                found = users_domain.get_org(tx, org)
            scope = (found.id, found.name)
        # Written beside the file and renamed at the end: no half dump under its name.
        partial = None if output is None else output.with_name(output.name + ".partial")
        target = sys.stdout.buffer if partial is None else partial.open("wb")
        try:
            with _progress("export") as progress:
                from casebook.storage import dump

                done = dump.export_dump(
                    store, target, org=scope, leave_out_meta=leave_out, progress=progress
                )
        except BaseException:
            if partial is not None:
                target.close()
                partial.unlink(missing_ok=True)
            raise
        if partial is not None and output is not None:
            target.close()
            partial.replace(output)
    where = f" to {output}" if output is not None else ""
    typer.echo(
        f"casebook: exported {done.rows} rows of {done.tables} tables ({done.cases} cases){where}",
        err=True,
    )
    if keys_domain.SECRET_META in done.meta_names:
        typer.echo(
            "casebook: the dump holds the server's key-hashing secret (CASEBOOK_SECRET_KEY is"
            " unset, so the database keeps it): guard the dump as you guard the database",
            err=True,
        )


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="A dump made by casebook export.")],
) -> None:
    """Load a dump into an empty database (SQLite or PostgreSQL), in one transaction: a
    malformed or truncated dump leaves the database empty."""
    settings = _settings()
    try:
        size = file.stat().st_size
    except OSError as exc:
        typer.echo(f"casebook: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    with _store(settings, unbounded=True) as store, _progress("import") as progress:
        from casebook.storage import dump

        done = dump.import_dump(store, dump.read_lines(file), size=size, progress=progress)
    typer.echo(
        f"casebook: imported {done.rows} rows of {done.tables} tables ({done.cases} cases;"
        f" organisations: {', '.join(done.orgs) or '-'})",
        err=True,
    )
    if keys_domain.SECRET_META not in done.meta_names and not settings.secret_key:
        typer.echo(
            "casebook: the dump carries no key-hashing secret: set CASEBOOK_SECRET_KEY to the"
            " source server's before serving, or its API keys will not work",
            err=True,
        )


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="Where to write the copy (replaced if present).")],
) -> None:
    """Copy the live SQLite database, consistent, while the server keeps serving (SQLite's
    online backup API). For PostgreSQL use pg_dump, or casebook export."""
    settings = _settings()
    if not settings.database_url.is_sqlite:
        typer.echo(
            "casebook: backup copies a SQLite database; for PostgreSQL use pg_dump"
            " (docs/operations.md), or casebook export, which works on both",
            err=True,
        )
        raise typer.Exit(1)
    with _progress("backup") as progress:
        from casebook.storage import dump

        dump.backup_sqlite(settings.database_url.sqlite_path, path, progress=progress)
    typer.echo(f"casebook: backed up the database to {path}", err=True)


@orgs_app.command("create")
def orgs_create(name: str) -> None:
    """Create an organisation."""
    with _store() as store:
        org = users_domain.create_org(store, name)
    typer.echo(f"created organisation {org.name} ({org.id})")


@orgs_app.command("list")
def orgs_list() -> None:
    """List organisations."""
    with _store() as store:
        found = users_domain.list_orgs(store)
    for org in found:
        typer.echo(f"{org.name}\t{org.id}")


@users_app.command("create")
def users_create(
    org: OrgOption,
    email: Annotated[str, typer.Option(help="The user's email, their login.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May manage users.")] = False,
) -> None:
    """Create an active user in an organisation."""
    with _store() as store:
        user = users_domain.add_user(store, org_name=org, email=email, name=name, admin=admin)
    typer.echo(f"created user {user.email} ({user.id})")


@users_app.command("set-password")
def users_set_password(
    org: OrgOption,
    email: Annotated[str, typer.Option(help="The user's email, their login.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a user's password for the web UI (argon2id); their signed-in browsers are signed out.

    The password is read from the first line of standard input when it is not a terminal
    (or with --password-stdin), else typed twice at a hidden prompt."""
    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _store() as store:
        user = sessions_domain.set_password(store, org_name=org, email=email, password=password)
    typer.echo(f"set the password of {user.email} ({user.id})")


@keys_app.command("create")
def keys_create(
    org: OrgOption,
    user: Annotated[str, typer.Option("--user", help="Email of the key's owner.")],
    scopes: Annotated[
        str | None,
        typer.Option(help="Comma-separated scopes, e.g. cases_read,cases_write. Default: all."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON line.")] = False,
) -> None:
    """Create an API key and an application key; they are printed this once."""
    settings = _settings()
    with _store(settings) as store:
        secret = keys_domain.load_secret(store, settings.secret_key)
        pair = users_domain.create_keys(store, secret, org_name=org, email=user, scopes=scopes)
    if as_json:
        sys.stdout.write(
            msgspec.json.encode({"api_key": pair.api_key, "app_key": pair.app_key}).decode() + "\n"
        )
        return
    typer.echo(f"DD-API-KEY:         {pair.api_key}")
    typer.echo(f"DD-APPLICATION-KEY: {pair.app_key}")


@keys_app.command("list")
def keys_list(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """List an organisation's keys (never the keys themselves, only their last characters)."""
    with _store() as store:
        found = users_domain.list_org_keys(store, org_name=org)
    table = Table("id", "kind", "user", "ends with", "scopes", "created", "revoked")
    for key in found:
        scopes = "all" if key.scopes is None else ",".join(sorted(s.value for s in key.scopes))
        table.add_row(
            key.id,
            key.kind,
            key.user_id or "-",
            key.hint,
            scopes if key.kind == "app" else "-",
            _when(key.created_at),
            _when(key.revoked_at),
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """Revoke a key by its id (from ``keys list``)."""
    with _store() as store:
        users_domain.revoke_org_key(store, org_name=org, key_id=key_id)
    typer.echo(f"revoked key {key_id}")


@projects_app.command("restore")
def projects_restore(
    key: str,
    org: OrgOption = users_domain.DEFAULT_ORG,
    new_key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="A new key, when another project has taken KEY since (its cases follow).",
        ),
    ] = None,
) -> None:
    """Bring back a deleted project and its cases (the most recently deleted one of KEY)."""
    with _store() as store:
        project = projects_domain.restore_project(store, org_name=org, key=key, new_key=new_key)
    renamed = "" if project.key == key.upper() else f", now {project.key}"
    typer.echo(f"restored project {key.upper()}{renamed} ({project.id})")


@types_app.command("list")
def types_list(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """The organisation's case types (built-in ones first) and their statuses, in order."""
    with _store() as store:
        found = case_types_domain.list_types(store, actor=case_types_domain.operator(store, org))
    for case_type in found:
        statuses = ", ".join(f"{s.name} ({s.group.group})" for s in case_type.statuses)
        typer.echo(f"{case_type.id}  {case_type.name}: {statuses}")


@types_app.command("statuses")
def types_statuses(
    case_type: Annotated[str, typer.Argument(help="The type's name or id.")],
    status: Annotated[
        list[str],
        typer.Option(help="NAME=GROUP (SG_OPEN, SG_IN_PROGRESS, SG_CLOSED), in order; repeat."),
    ],
    rename: Annotated[
        list[str] | None, typer.Option(help="OLD=NEW: the status OLD, with its cases, is NEW.")
    ] = None,
    org: OrgOption = users_domain.DEFAULT_ORG,
) -> None:
    """Set a type's statuses. A status keeps its cases under the same name, or under a new
    one with --rename; one that cases are in cannot be left out (nothing changes then)."""
    renames = dict(_pair(r, "--rename OLD=NEW") for r in rename or [])
    with _store() as store:
        actor = case_types_domain.operator(store, org)
        found = case_types_domain.find_type(store, actor, case_type)
        by_name = {s.name.casefold(): s.id for s in found.statuses}
        for old, new in renames.items():
            by_name[new.casefold()] = by_name.pop(old.casefold(), "")
        given = [
            case_types_domain.StatusIn(name, group, by_name.get(name.casefold()) or None)
            for name, group in (_pair(s, "--status NAME=GROUP") for s in status)
        ]
        changed = case_types_domain.update_type(store, found.id, actor=actor, statuses=given)
    typer.echo(
        f"{changed.name}: " + ", ".join(f"{s.name} ({s.group.group})" for s in changed.statuses)
    )


def _duration(seconds: float | None) -> str:
    """A duration for people: the two largest units (``3d 4h``, ``12m 5s``, ``0s``)."""
    if seconds is None:
        return "-"
    left = round(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if left >= size or (unit == "s" and not parts):
            parts.append(f"{left // size}{unit}")
            left %= size
    return " ".join(parts[:2])


def _figure(figure: reports_domain.Figure) -> str:
    if not figure.cases:
        return "-"
    return f"{_duration(figure.median)} / {_duration(figure.p90)} ({figure.cases})"


@app.command()
def report(
    org: OrgOption = users_domain.DEFAULT_ORG,
    query: Annotated[str, typer.Option(help="A search filter (docs/search.md).")] = "",
    by: Annotated[
        str | None, typer.Option(help="Group by a field: priority, assignee, project.key...")
    ] = None,
    limit: Annotated[int, typer.Option(help="Groups to show, most cases first.", min=1)] = 20,
) -> None:
    """How long the cases a search finds took to be assigned and closed, and spent in each
    status: median / 90th percentile (how many cases each covers), in all and by a field."""
    with _store() as store:
        actor = case_types_domain.operator(store, org)
        found = reports_domain.case_durations(
            store, actor=actor, query=query, group_by=by, limit=limit
        )
    table = Table(
        title=f"{found.total} cases, as of {_when(found.at)} UTC",
        caption="median / 90th percentile (cases measured); open, in progress, closed: time in",
    )
    for name in (by or "cases", "cases", "to assign", "to close"):
        table.add_column(name, no_wrap=True)
    for status in Status:
        table.add_column(status.display_name.lower(), no_wrap=True)
    rows = [("all", found.overall), *found.groups]
    for name, durations in rows:
        table.add_row(
            name or "(none)",
            str(durations.cases),
            _figure(durations.time_to_first_assignment),
            _figure(durations.time_to_close),
            *(_figure(durations.time_in_status[status]) for status in Status),
        )
    # A console of this call's own: its width follows the terminal (or COLUMNS) of now.
    Console().print(table)


MASK = "********"
"""What the CLI shows of a stored credential: that there is one, nothing of it."""


def _secret_from(stdin: bool, prompt: str) -> str:
    """A credential from the first line of standard input (``--token-stdin``), else typed at a
    hidden prompt; never from an argument, which shells and ``ps`` show."""
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt(prompt, hide_input=True)
    return value


def _guard(settings: Settings) -> Callable[[str], None]:
    def vet(url: str) -> None:
        check_url(url, allow_private=settings.allow_private_webhooks)

    return vet


def _show_connections(org: str, system: str | None = None) -> None:
    with _store() as store:
        found = integrations_domain.list_connections(store, org)
    found = [c for c in found if system is None or c.system == system]
    if not found:
        what = "no connections" if system is None else f"no {system} connection"
        typer.echo(f"organisation {org} has {what}")
        return
    for c in found:
        typer.echo(
            "\t".join(
                (
                    c.system,
                    c.url,
                    f"instance={c.instance or '-'}",
                    f"user={c.username}",
                    f"secret={MASK}",
                    f"changed={_when(c.modified_at)}",
                )
            )
        )


@integrations_app.command("list")
def integrations_list(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """The organisation's connections (credentials masked)."""
    _show_connections(org)


TokenStdin = Annotated[
    bool, typer.Option("--token-stdin", help="Read the API token from standard input.")
]


@jira_app.command("set")
def jira_set(
    url: Annotated[str, typer.Option(help="The Jira site, e.g. https://acme.atlassian.net.")],
    email: Annotated[
        str, typer.Option(help="Email (or user name) of the account issues are made as.")
    ],
    token_stdin: TokenStdin = False,
    org: OrgOption = users_domain.DEFAULT_ORG,
) -> None:
    """Connect the organisation to its Jira (replacing any connection it had). The URL must
    not reach a private address unless CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1."""
    settings = _settings()
    token = _secret_from(token_stdin, "Jira API token")
    with _store(settings) as store:
        connection = integrations_domain.set_jira_connection(
            store,
            org,
            server_secret=keys_domain.load_secret(store, settings.secret_key),
            check_url=_guard(settings),
            url=url,
            email=email,
            token=token,
        )
    typer.echo(
        f"organisation {org} makes Jira issues at {connection.url} as {connection.username}"
        " (API token stored sealed)"
    )


@jira_app.command("show")
def jira_show(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """The organisation's Jira connection (the token masked)."""
    _show_connections(org, integrations_domain.JIRA)


@jira_app.command("remove")
def jira_remove(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """Forget the organisation's Jira connection; issues already on cases stay."""
    with _store() as store:
        integrations_domain.remove_connection(store, org, integrations_domain.JIRA)
    typer.echo(f"organisation {org} has no Jira connection now")


@servicenow_app.command("set")
def servicenow_set(
    instance: Annotated[
        str, typer.Option(help="The instance's name, as in https://NAME.service-now.com.")
    ],
    user: Annotated[str, typer.Option(help="The user incidents are made as.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    url: Annotated[
        str | None,
        typer.Option(help="Where the instance is served, if not at https://NAME.service-now.com."),
    ] = None,
    org: OrgOption = users_domain.DEFAULT_ORG,
) -> None:
    """Connect the organisation to its ServiceNow instance (replacing any connection it had).
    The URL must not reach a private address unless CASEBOOK_ALLOW_PRIVATE_WEBHOOKS=1."""
    settings = _settings()
    password = _secret_from(password_stdin, "ServiceNow password")
    with _store(settings) as store:
        connection = integrations_domain.set_service_now_connection(
            store,
            org,
            server_secret=keys_domain.load_secret(store, settings.secret_key),
            check_url=_guard(settings),
            instance=instance,
            url=url,
            user=user,
            password=password,
        )
    typer.echo(
        f"organisation {org} makes ServiceNow incidents on {connection.instance} at"
        f" {connection.url} as {connection.username} (password stored sealed)"
    )


@servicenow_app.command("show")
def servicenow_show(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """The organisation's ServiceNow connection (the password masked)."""
    _show_connections(org, integrations_domain.SERVICENOW)


@servicenow_app.command("remove")
def servicenow_remove(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """Forget the organisation's ServiceNow connection; tickets already on cases stay."""
    with _store() as store:
        integrations_domain.remove_connection(store, org, integrations_domain.SERVICENOW)
    typer.echo(f"organisation {org} has no ServiceNow connection now")


def _pair(text: str, form: str) -> tuple[str, str]:
    left, sep, right = text.partition("=")
    if not sep or not left.strip() or not right.strip():
        raise typer.BadParameter(f"expected {form}, got {text!r}")
    return left.strip(), right.strip()


def main() -> None:
    app()


@webhooks_app.command("secret")
def webhooks_secret(org: OrgOption = users_domain.DEFAULT_ORG) -> None:
    """The organisation's webhook signing secret: receivers check X-Casebook-Signature with
    it (docs/deliveries.md)."""
    settings = _settings()
    with _store(settings) as store:
        secret = keys_domain.load_secret(store, settings.secret_key)
        typer.echo(webhooks_domain.org_signing_secret(store, secret, org))
