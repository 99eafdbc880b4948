"""storage/columns.py: what a table declaration builds, without a database."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from casebook.storage.columns import Column, Join, Table


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    active: bool


@dataclass
class Note:
    id: str
    kind: str
    author: Person | None
    text: str
    size: int


PEOPLE = Table(
    "people", Person, (Column("id"), Column("name"), Column("state", field="active", load=bool))
)
NOTES = Table(
    "notes",
    Note,
    (
        Column("id"),
        Join("author_id", "author", "a", PEOPLE),
        Column("body", field="text", load=str.strip, dump=str.upper),
        Column("body_length", field="text", read=False, dump=len),
        Column("size", written=False),
        Column("org_id", read=False),
    ),
    fixed={"kind": "note"},
)


def test_statements_follow_the_declaration() -> None:
    assert NOTES.select("n") == "n.id, n.body, n.size, a.id, a.name, a.state"
    assert NOTES.joins("n") == " LEFT JOIN people a ON a.id = n.author_id"
    assert NOTES.insert == (
        "INSERT INTO notes (id, author_id, body, body_length, org_id) VALUES (?, ?, ?, ?, ?)"
    )
    assert NOTES.insert_many(2).endswith("VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)")
    assert NOTES.assignments(["text"]) == "body = ?, body_length = ?"


def test_rows_load_into_entities_sharing_joined_objects() -> None:
    seen: dict[object, object] = {}
    first = NOTES.load(("n1", " hi ", 2, "p1", "Ann", 1), seen)
    second = NOTES.load(("n2", "yo", 2, "p1", "Ann", 1), seen)
    assert first == Note("n1", "note", Person("p1", "Ann", True), "hi", 2)
    assert first.author is second.author
    assert NOTES.load(("n3", "", 0, None, None, None)).author is None
    assert NOTES.position("size") == 2


def test_entities_dump_to_rows() -> None:
    note = Note("n1", "note", Person("p1", "Ann", True), "hi", 2)
    assert NOTES.row(note, org_id="o1") == ("n1", "p1", "HI", 2, "o1")
    assert NOTES.dump(note, ["text"]) == ["HI", 2]
    assert NOTES.writes_of("text") == (("body", str.upper), ("body_length", len))


def test_every_field_must_come_from_one_place() -> None:
    with pytest.raises(ValueError, match="fields"):
        Table("people", Person, (Column("id"), Column("name")))
    with pytest.raises(ValueError, match="fields"):
        Table("people", Person, (Column("id"), Column("name"), Column("active"), Column("x")))
