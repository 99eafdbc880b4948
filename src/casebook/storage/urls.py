"""Database URLs: ``sqlite:///path/to/file.db`` (the default) or ``postgresql://...``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from casebook.core.errors import InvalidRequestError


@dataclass(frozen=True, slots=True)
class DatabaseUrl:
    raw: str

    @classmethod
    def parse(cls, raw: str) -> DatabaseUrl:
        if raw.startswith(("sqlite:///", "postgresql://", "postgres://")):
            return cls(raw)
        raise InvalidRequestError(
            f"unsupported database URL {raw!r}: use sqlite:///PATH or postgresql://..."
        )

    @property
    def is_postgres(self) -> bool:
        return not self.is_sqlite

    @property
    def is_sqlite(self) -> bool:
        return self.raw.startswith("sqlite:///")

    @property
    def sqlite_path(self) -> Path:
        assert self.is_sqlite
        return Path(self.raw.removeprefix("sqlite:///"))

    @property
    def postgres_dsn(self) -> str:
        """The URL as psycopg takes it."""
        return "postgresql://" + self.raw.split("://", 1)[1]

    @property
    def sqlalchemy_url(self) -> str:
        if self.is_sqlite:
            return f"sqlite:///{self.sqlite_path}"
        return "postgresql+psycopg://" + self.raw.split("://", 1)[1]
