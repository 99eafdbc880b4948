"""Templates (Jinja2, autoescaped) and markdown (markdown-it-py, then sanitised by nh3)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import nh3
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from casebook.ui.assets import asset_url

_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
_ALLOWED_TAGS = {
    "a", "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip


def markdown(text: str | None) -> Markup:
    """Markdown to HTML that is safe to insert: raw HTML in the source is escaped by the
    parser, and the output keeps only plain formatting tags (no scripts, styles, images,
    event handlers or ``javascript:`` links)."""
    if not text:
        return Markup("")
    html = _md.render(text)
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


env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.globals["asset"] = asset_url
env.filters["markdown"] = markdown
env.filters["when"] = when
env.filters["day"] = day
