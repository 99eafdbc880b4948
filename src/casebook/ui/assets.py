"""Static files under content-hashed names: ``/static/casebook.3f2a9c1b0d4e.js``.

A file's URL changes whenever its bytes do, so browsers may keep each one for a year
without asking again (``immutable``); pages always name the current ones.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
}
LONG_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Asset:
    url: str
    body: bytes
    content_type: str


def _hashed(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    stem, dot, suffix = path.name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{path.name}.{digest}"


def _load() -> tuple[dict[str, Asset], dict[str, Asset]]:
    by_name: dict[str, Asset] = {}
    by_hashed: dict[str, Asset] = {}
    for path in sorted(STATIC.iterdir()):
        if not path.is_file() or path.suffix not in _TYPES:
            continue
        hashed = _hashed(path)
        asset = Asset(f"/static/{hashed}", path.read_bytes(), _TYPES[path.suffix])
        by_name[path.name] = asset
        by_hashed[hashed] = asset
    return by_name, by_hashed


ASSETS, _BY_HASHED = _load()


def asset_url(name: str) -> str:
    """The current URL of the static file ``name`` (``casebook.js``)."""
    return ASSETS[name].url


async def static_file(request: Request) -> Response:
    asset = _BY_HASHED.get(request.path_params["name"])
    if asset is None:
        return Response("not found", 404, media_type="text/plain")
    return Response(
        asset.body,
        media_type=asset.content_type,
        headers={"Cache-Control": LONG_CACHE, "X-Content-Type-Options": "nosniff"},
    )
