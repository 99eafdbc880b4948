"""The web UI's pages through the test client, on both back ends: working a case, search,
saved views and bulk changes, projects. (Their protections: ``tests/security/test_ui.py``.)"""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from casebook.config import Settings
from casebook.domain import case_types, cases, comments, projects, sessions
from casebook.domain import users as users_domain
from casebook.http.app import create_app
from casebook.storage import Store
from tests.support.ui import Ui, admin_actor, csrf_of, make_case, make_project, sign_in


def test_work_a_case_through_the_pages(admin_ui: Ui) -> None:
    make_project(admin_ui)
    form = admin_ui.post("/cases/new", {"project": "SEC", "title": "  "}, htmx=False)
    assert form.status_code == 422 and 'id="title-error"' in form.text
    stranger = "00000000-0000-4000-8000-000000000042"
    form = admin_ui.post(
        "/cases/new", {"project": "SEC", "title": "x", "assignee": stranger}, htmx=False
    )
    assert form.status_code == 422 and 'id="assignee-error"' in form.text
    key = make_case(admin_ui, description="**bold** text", priority="P2")
    assert key == "SEC-1"
    page = admin_ui.get("/cases/SEC-1").text
    assert "<strong>bold</strong>" in page and 'aria-label="Timeline"' in page
    version = re.search(r"/cases/SEC-1/live\?v=(\d+)", page)
    assert version is not None
    assert admin_ui.get(f"/cases/SEC-1/live?v={version[1]}").status_code == 204
    main = admin_ui.post("/cases/SEC-1/status", {"status": "IN_PROGRESS"}).text
    assert '<option value="IN_PROGRESS" selected>' in main
    main = admin_ui.post("/cases/SEC-1/priority", {"priority": "P1"}).text
    assert '<option value="P1" selected>' in main
    main = admin_ui.post("/cases/SEC-1/title", {"title": "Renamed"}).text
    assert '<span id="case-title">Renamed</span>' in main
    main = admin_ui.post("/cases/SEC-1/comments", {"comment": "Looking *now*"}).text
    assert "<em>now</em>" in main
    cell = re.search(r'id="comment-([0-9a-f-]+)"', main)
    assert cell is not None
    main = admin_ui.post(f"/cases/SEC-1/comments/{cell[1]}", {"comment": "Edited"}).text
    assert "Edited" in main and "Looking" not in main
    main = admin_ui.post(f"/cases/SEC-1/comments/{cell[1]}/delete", {}).text
    assert "Comment deleted." in main
    assert admin_ui.get(f"/cases/SEC-1/live?v={version[1]}").status_code == 200
    board = admin_ui.post("/board/move", {"key": "SEC-1", "status": "CLOSED", "project": "SEC"})
    closed = board.text.split('id="col-CLOSED"', 1)[1]
    assert "SEC-1" in closed
    assert admin_ui.get("/cases/sec-001", follow_redirects=False).headers["location"] == (
        "/cases/SEC-1"
    )


def test_search_keeps_the_query_and_shows_errors_in_place(admin_ui: Ui) -> None:
    make_project(admin_ui)
    make_case(admin_ui, "First", priority="P1")
    make_case(admin_ui, "Second", priority="P3")
    page = admin_ui.get("/", params={"q": "priority:P1"}).text
    assert "First" in page and "Second" not in page
    assert 'value="priority:P1"' in page
    bad = admin_ui.get("/", params={"q": "title:x status:bogus"}).text
    assert 'role="alert"' in bad and "At position 15" in bad
    assert "<mark>status:bogus</mark>" in bad or "<mark>" in bad
    ordered = admin_ui.get("/", params={"sort": "priority", "dir": "desc"}).text
    assert ordered.index("First") < ordered.index("Second")
    filtered = admin_ui.get("/", params={"project": "NOPE"}).text
    assert "No cases match" in filtered


def test_the_first_start_prints_a_password_that_signs_in(settings: Settings, store: Store) -> None:
    """``serve``'s bootstrap gives the admin a password (cli.py); the domain half of it."""
    users_domain.bootstrap(store, settings.secret_key, api_key="", app_key="")
    password = sessions.new_password()
    sessions.set_password(
        store, org_name="default", email=users_domain.BOOTSTRAP_ADMIN_EMAIL, password=password
    )
    client = TestClient(create_app(settings, store))
    assert sign_in(client, users_domain.BOOTSTRAP_ADMIN_EMAIL, password).status_code == 303
    assert csrf_of(client.get("/").text)


def test_projects_page_lists_and_validates(admin_ui: Ui) -> None:
    make_project(admin_ui)
    page = admin_ui.get("/projects").text
    assert "Security" in page
    taken = admin_ui.post("/projects", {"key": "SEC", "name": "Again"}, htmx=False)
    assert taken.status_code == 422 and 'class="field-error"' in taken.text


def test_bulk_changes_and_saved_views(admin_ui: Ui) -> None:
    make_project(admin_ui)
    for title in ("One", "Two", "Three"):
        make_case(admin_ui, title)
    page = admin_ui.get("/?project=SEC").text
    assert 'aria-label="Select SEC-1"' in page and "Save view" in page
    response = admin_ui.client.post(
        "/cases/bulk",
        data={"case": ["SEC-1", "SEC-3"], "action": "status:CLOSED", "project": "SEC"},
        headers={"HX-Request": "true", "HX-Target": "results", "X-CSRF-Token": admin_ui.csrf},
    )
    assert response.status_code == 200 and "Changed 2 cases." in response.text
    assert 'id="results"' in response.text and "<html" not in response.text
    closed = admin_ui.get("/", params={"q": "status:closed"}).text
    assert "One" in closed and "Three" in closed and "Two" not in closed
    assert "Select cases first." in admin_ui.post("/cases/bulk", {"action": "priority:P1"}).text
    assert (
        "Changed 1 case."
        in admin_ui.post("/cases/bulk", {"case": "SEC-2", "action": "assign:me"}).text
    )
    archived = admin_ui.post("/cases/bulk", {"case": "SEC-2", "action": "archive:"}).text
    assert "Changed 1 case." in archived and "SEC-2" not in archived.split("Changed", 1)[1]
    assert "SEC-2" in admin_ui.get("/?q=archived:true").text
    admin_ui.post("/cases/bulk", {"case": "SEC-2", "action": "unarchive:"})

    saved = admin_ui.post(
        "/views", {"project": "SEC", "q": "status:closed", "name": "Closed ones"}, htmx=False
    )
    assert saved.status_code == 303
    listed = admin_ui.get(saved.headers["location"]).text
    assert "Closed ones" in listed and 'value="status:closed"' in listed
    assert "Three" in listed and "Two" not in listed
    bad = admin_ui.post("/views", {"project": "SEC", "q": "status:nope", "name": "Bad"}, htmx=False)
    assert bad.status_code == 422 and "invalid status" in bad.text
    view_id = saved.headers["location"].rsplit("view=", 1)[1]
    assert 'aria-label="Delete view Closed ones"' in listed
    gone = admin_ui.post(f"/views/{view_id}/delete", {"project": "SEC"}, htmx=False)
    assert gone.status_code == 303 and gone.headers["location"] == "/?project=SEC"
    assert "Closed ones" not in admin_ui.get("/?project=SEC").text
    again = admin_ui.post(f"/views/{view_id}/delete", {"project": "SEC"}, htmx=False)
    assert again.status_code == 404


def test_a_custom_type_shows_its_statuses_and_custom_attributes(admin_ui: Ui, store: Store) -> None:
    actor = admin_actor(store)
    incident = case_types.create_type(
        store,
        actor=actor,
        name="Security Incident",
        emoji="🚨",
        statuses=[
            case_types.StatusIn("Triage", "SG_OPEN"),
            case_types.StatusIn("Containment", "SG_IN_PROGRESS"),
            case_types.StatusIn("Resolved", "SG_CLOSED"),
        ],
    )
    case_types.create_config(
        store,
        incident.id,
        actor=actor,
        key="region",
        display_name="Region",
        type="TEXT",
        is_multi=True,
    )
    make_project(admin_ui)
    project = next(p for p in projects.list_projects(store, actor=actor) if p.key == "SEC")
    cases.create_case(
        store,
        actor=actor,
        project_id=project.id,
        title="Exfiltration",
        type_id=incident.id,
        custom_attributes={"region": {"type": "TEXT", "is_multi": True, "value": ["eu", "us"]}},
    )
    page = admin_ui.get("/cases/SEC-1").text
    assert '<select id="c-status" name="status_name"' in page
    assert '<option value="Triage" selected>Triage</option>' in page
    assert '<option value="Containment">Containment</option>' in page
    assert "🚨 Security Incident" in page
    assert '<dd class="custom-attr" data-key="region">eu, us</dd>' in page
    main = admin_ui.post("/cases/SEC-1/status", {"status_name": "containment"}).text
    assert '<option value="Containment" selected>Containment</option>' in main
    assert cases.get_case(store, "SEC-1", actor=actor).status.value == "IN_PROGRESS"
    refused = admin_ui.post("/cases/SEC-1/status", {"status_name": "Nope"}).text
    assert 'role="alert"' in refused and "Nope" in refused


def test_description_and_due_date_are_edited_on_the_case_page(admin_ui: Ui) -> None:
    make_project(admin_ui)
    make_case(admin_ui, description="first")
    form = admin_ui.get("/cases/SEC-1/description").text
    assert '<label for="d-description">Description</label>' in form and ">first</textarea>" in form
    main = admin_ui.post("/cases/SEC-1/description", {"description": "# Plan\n\n- *contain*"}).text
    assert "<h1>Plan</h1>" in main and "<em>contain</em>" in main
    main = admin_ui.post("/cases/SEC-1/due_date", {"due_date": "2031-02-03"}).text
    assert 'name="due_date" value="2031-02-03"' in main
    refused = admin_ui.post("/cases/SEC-1/due_date", {"due_date": "2031-02-30"}).text
    assert 'role="alert"' in refused and 'value="2031-02-03"' in refused  # unchanged
    main = admin_ui.post("/cases/SEC-1/due_date", {"due_date": ""}).text
    assert 'name="due_date" value=""' in main
    timeline = main.split('aria-label="Timeline"', 1)[1]
    assert "description" in timeline and "due date" in timeline


def test_a_long_timeline_shows_the_newest_entries_and_earlier_ones_on_demand(
    admin_ui: Ui, store: Store
) -> None:
    make_project(admin_ui)
    make_case(admin_ui)
    actor = admin_actor(store)
    for n in range(1, 121):
        comments.comment_case(store, "SEC-1", actor=actor, comment=f"note number {n}.")
    _, count = comments.timeline(store, "SEC-1", actor=actor)
    page = admin_ui.get("/cases/SEC-1").text
    assert f"The newest 100 of {count} entries." in page
    assert "note number 120." in page and "note number 1." not in page
    assert page.index("note number 119.") < page.index("note number 120.")  # oldest first
    assert 'href="/cases/SEC-1?entries=200">Show earlier entries</a>' in page
    everything = admin_ui.get("/cases/SEC-1?entries=200").text
    assert "note number 1." in everything and "Show earlier entries" not in everything
    assert "created the case" in everything


def test_watch_and_stop_watching_a_case(admin_ui: Ui) -> None:
    make_project(admin_ui)
    make_case(admin_ui)  # the creator watches
    page = admin_ui.get("/cases/SEC-1").text
    assert ">Stop watching</button>" in page
    main = admin_ui.post("/cases/SEC-1/watch", {"watch": "0"}).text
    assert ">Watch</button>" in main
    assert "stopped watching" in main.split('aria-label="Timeline"', 1)[1]
    main = admin_ui.post("/cases/SEC-1/watch", {"watch": "1"}).text
    assert ">Stop watching</button>" in main
