"""Comments on cases: ``case_comments``. A deleted comment keeps its row without its text."""

from __future__ import annotations

from typing import Protocol

from casebook.core.entities import Comment
from casebook.storage.columns import Column, Table
from casebook.storage.executor import Repository

COMMENTS = Table(
    "case_comments",
    Comment,
    (
        Column("id"),
        Column("org_id", read=False),
        Column("case_id"),
        Column("case_seq", read=False),
        Column("author_id"),
        Column("body"),
        Column("created_at"),
        Column("modified_at"),
        Column("deleted_at"),
    ),
)

_GET = f"SELECT {COMMENTS.select()} FROM case_comments WHERE org_id = ? AND case_id = ? AND id = ?"
_EDIT = "UPDATE case_comments SET body = ?, modified_at = ? WHERE org_id = ? AND id = ?"
_DELETE = "UPDATE case_comments SET body = NULL, deleted_at = ? WHERE org_id = ? AND id = ?"


class Comments(Protocol):
    def insert(self, org_id: str, case_seq: int, comment: Comment) -> None: ...
    def get(self, org_id: str, case_id: str, comment_id: str) -> Comment | None:
        """A comment of the case, deleted or not."""
        ...

    def edit(self, org_id: str, comment_id: str, body: str, at: int) -> None: ...
    def delete(self, org_id: str, comment_id: str, at: int) -> None:
        """Drop the comment's text and mark it deleted."""
        ...


class SqlComments(Repository):
    """Implements ``Comments``."""

    __slots__ = ()

    def insert(self, org_id: str, case_seq: int, comment: Comment) -> None:
        self._sql.execute(COMMENTS.insert, COMMENTS.row(comment, org_id=org_id, case_seq=case_seq))

    def get(self, org_id: str, case_id: str, comment_id: str) -> Comment | None:
        row = self._sql.one(_GET, (org_id, case_id, comment_id))
        return None if row is None else COMMENTS.load(row)

    def edit(self, org_id: str, comment_id: str, body: str, at: int) -> None:
        self._sql.execute(_EDIT, (body, at, org_id, comment_id))

    def delete(self, org_id: str, comment_id: str, at: int) -> None:
        self._sql.execute(_DELETE, (at, org_id, comment_id))
