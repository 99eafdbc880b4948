"""The README's screenshots of the web UI, made from a freshly seeded database.

    .venv/bin/python scripts/screenshots.py        # writes docs/screenshots/*.png

Starts ``casebook serve`` on a throwaway SQLite database, makes a project and a few cases
through the API (as a team would), signs in with Debian's Chromium (``CHROMIUM`` names
another binary) and saves the case list, the board and a case page. Stops what it started.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx2 as httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from bench import procs  # noqa: E402
from casebook.domain import sessions  # noqa: E402
from casebook.domain import users as users_domain  # noqa: E402
from casebook.storage import open_store  # noqa: E402
from casebook.storage.urls import DatabaseUrl  # noqa: E402

OUT = REPO / "docs" / "screenshots"
PASSWORD = "screenshots only"  # noqa: S105 -- a throwaway database's
CASES = [
    (
        "Suspicious login from two countries",
        "P1",
        "IN_PROGRESS",
        "Okta reports sign-ins for **j.doe** from Lisbon and Manila 12 minutes apart.\n\n"
        "- VPN egress ruled out\n- MFA push accepted on the second",
    ),
    ("Phishing report: fake invoice from a supplier", "P2", "OPEN", "Forwarded by finance."),
    ("Lost laptop (asset 4471)", "P3", "OPEN", "Disk encrypted; remote wipe requested."),
    ("Malware alert on build host ci-7", "P1", "OPEN", "EDR quarantined `xmrig`."),
    ("Expired TLS certificate on status page", "P4", "CLOSED", "Renewed."),
    ("Access review for the payments database", "P3", "IN_PROGRESS", "Quarterly review."),
]


COMMENT = "Reset the password and revoked sessions; watching for new sign-ins."


def _api(base: str, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = httpx.post(base + path, json=body, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()


def main() -> None:
    keys = (secrets.token_hex(16), secrets.token_hex(20))
    headers = {"DD-API-KEY": keys[0], "DD-APPLICATION-KEY": keys[1]}
    with tempfile.TemporaryDirectory(prefix="casebook-screenshots-") as tmp:
        url = f"sqlite:///{tmp}/casebook.db"
        store = open_store(DatabaseUrl.parse(url))
        store.migrate()
        users_domain.bootstrap(store, "", api_key=keys[0], app_key=keys[1])
        for email, name in (("ana@example.com", "Ana Lima"), ("sam@example.com", "Sam Okafor")):
            users_domain.add_user(store, org_name="default", email=email, name=name)
        sessions.set_password(
            store, org_name="default", email=users_domain.BOOTSTRAP_ADMIN_EMAIL, password=PASSWORD
        )
        store.close()
        server = procs.serve_one(url, keys)
        try:
            base = server.base_url
            project = _api(
                base,
                headers,
                "/api/v2/cases/projects",
                {"data": {"type": "project", "attributes": {"key": "SEC", "name": "Security"}}},
            )
            pid = project["data"]["id"]
            for title, priority, status, description in CASES:
                case = _api(
                    base,
                    headers,
                    "/api/v2/cases",
                    {
                        "data": {
                            "type": "case",
                            "attributes": {
                                "title": title,
                                "priority": priority,
                                "description": description,
                            },
                            "relationships": {"project": {"data": {"id": pid, "type": "project"}}},
                        }
                    },
                )
                key = case["data"]["attributes"]["key"]
                if status != "OPEN":
                    _api(
                        base,
                        headers,
                        f"/api/v2/cases/{key}/status",
                        {"data": {"type": "case", "attributes": {"status": status}}},
                    )
            _api(
                base,
                headers,
                "/api/v2/cases/SEC-1/comment",
                {"data": {"type": "case", "attributes": {"comment": COMMENT}}},
            )
            OUT.mkdir(parents=True, exist_ok=True)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
                )
                page = browser.new_page(viewport={"width": 1200, "height": 640})
                page.goto(base + "/signin")
                page.get_by_label("Email").fill(users_domain.BOOTSTRAP_ADMIN_EMAIL)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(base + "/")
                page.screenshot(path=OUT / "cases.png")
                page.goto(base + "/board?project=SEC")
                page.screenshot(path=OUT / "board.png")
                page.goto(base + "/cases/SEC-1")
                page.screenshot(path=OUT / "case.png", full_page=True)
                browser.close()
        finally:
            server.stop()
    print(f"wrote {', '.join(sorted(p.name for p in OUT.glob('*.png')))} in docs/screenshots/")


if __name__ == "__main__":
    main()
