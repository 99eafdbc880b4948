"""Templates (Jinja2, autoescaped) and markdown (markdown-it-py, then sanitised by nh3).

Both are loaded on the first page rendered, not when the app is built: a process that
serves only the API (or the emulator) does not pay for them at start.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casebook.ui.assets import asset_url

if TYPE_CHECKING:
    from jinja2 import Environment, Template
    from markupsafe import Markup

_ALLOWED_TAGS = {
    "a", "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


@functools.cache
def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str | None) -> Markup:
    """Markdown to HTML that is safe to insert: raw HTML in the source is escaped by the
    parser, and the output keeps only plain formatting tags (no scripts, styles, images,
    event handlers or ``javascript:`` links)."""
    import nh3
    from markupsafe import Markup

    if not text:
        return Markup("")
    html = _markdown_parser().render(text)
    clean = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 -- sanitised by nh3 just above


def when(us: int | None) -> str:
    if us is None:
        return ""
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d %H:%M")


def day(us: int | None) -> str:
    if us is None:
        return ""
    return datetime.fromtimestamp(us / 1e6, UTC).strftime("%Y-%m-%d")


GLOBALS: dict[str, Any] = {"asset": asset_url}
"""What every template may call; the page modules add theirs."""


@functools.cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.globals.update(GLOBALS)
    env.filters["markdown"] = markdown
    env.filters["when"] = when
    env.filters["day"] = day
    return env


def template(name: str) -> Template:
    return environment().get_template(name)
