"""The UI mount's routes, which ``http.app.create_app`` serves beside the API's."""

from __future__ import annotations

from starlette.routing import BaseRoute

from casebook.http.routing import StyleFor, route
from casebook.ui import pages
from casebook.ui.assets import static_file
from casebook.ui.web import page


def ui_routes(style_for: StyleFor) -> list[BaseRoute]:
    """Every page and static file; a page's POST is a change, checked for its CSRF token."""
    live = {"touch": False}  # a page's background refresh is not the user's activity
    return [
        route("/", style_for, GET=page(pages.case_list)),
        route("/static/{name}", style_for, GET=static_file),
        route("/signin", style_for, GET=pages.signin_page, POST=pages.signin),
        route("/signout", style_for, POST=page(pages.signout)),
        route("/live/cases", style_for, GET=page(pages.case_list, **live)),
        route("/cases/bulk", style_for, POST=page(pages.bulk_change)),
        route("/views", style_for, POST=page(pages.save_view)),
        route("/views/{view}/delete", style_for, POST=page(pages.delete_view)),
        route("/cases/new", style_for, GET=page(pages.new_case_page), POST=page(pages.create_case)),
        route("/cases/{ref}", style_for, GET=page(pages.case_page)),
        route("/cases/{ref}/live", style_for, GET=page(pages.case_live, **live)),
        route("/cases/{ref}/status", style_for, POST=page(pages.change_status)),
        route("/cases/{ref}/priority", style_for, POST=page(pages.change_priority)),
        route("/cases/{ref}/assignee", style_for, POST=page(pages.change_assignee)),
        route(
            "/cases/{ref}/title",
            style_for,
            GET=page(pages.title_form),
            POST=page(pages.change_title),
        ),
        route(
            "/cases/{ref}/description",
            style_for,
            GET=page(pages.description_form),
            POST=page(pages.change_description),
        ),
        route("/cases/{ref}/due_date", style_for, POST=page(pages.change_due_date)),
        route("/cases/{ref}/watch", style_for, POST=page(pages.change_watching)),
        route("/cases/{ref}/comments", style_for, POST=page(pages.add_comment)),
        route(
            "/cases/{ref}/comments/{cell}",
            style_for,
            GET=page(pages.comment_form),
            POST=page(pages.edit_comment),
        ),
        route("/cases/{ref}/comments/{cell}/delete", style_for, POST=page(pages.delete_comment)),
        route("/board", style_for, GET=page(pages.board)),
        route("/live/board", style_for, GET=page(pages.board, **live)),
        route("/board/move", style_for, POST=page(pages.board_move)),
        route(
            "/projects", style_for, GET=page(pages.projects_page), POST=page(pages.create_project)
        ),
    ]
