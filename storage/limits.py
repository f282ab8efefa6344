"""Every text column's size, checked before anything is written, so SQLite (which ignores
VARCHAR lengths and stores NUL bytes) and PostgreSQL (which refuses both) keep the same rows and
give the same answer. The engine turns `TooLong` into a localized error naming the field; what a
platform names (a display name, a chat title) is not the user's to shorten, so it is `fit`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, String, TypeDecorator, event
from sqlmodel import Session


class TooLong(ValueError):
    """A text for `table.column` has `length` characters; the column holds `limit`."""

    def __init__(self, table: str, column: str, length: int, limit: int) -> None:
        super().__init__(f"{table}.{column}: {length} characters, at most {limit}")
        self.table, self.column, self.length, self.limit = table, column, length, limit


class NulByte(ValueError):
    """PostgreSQL stores no NUL character in text; the entry points strip them, this is the
    last line for whatever got past them."""

    def __init__(self, table: str, column: str) -> None:
        super().__init__(f"{table}.{column}: a NUL character")
        self.table, self.column = table, column


def limit(model: type[Any], column: str) -> int | None:
    """The column's maximum length in characters, or None for unbounded text."""
    return _length(model.__table__.columns[column])


def fit(model: type[Any], column: str, text: str) -> str:
    """`text` cut to what the column holds (for names a platform gives, never user input)."""
    size = limit(model, column)
    text = text.replace("\x00", "")
    return text[:size] if size is not None else text


def check(row: Any) -> None:
    """Raise `TooLong` or `NulByte` for the first text attribute of `row` that cannot be
    stored the same way on every database."""
    table = row.__table__
    for column in table.columns:
        value = getattr(row, column.key, None)
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise NulByte(table.name, column.key)
        size = _length(column)
        if size is not None and len(value) > size:
            raise TooLong(table.name, column.key, len(value), size)


def _length(column: Column[Any]) -> int | None:
    # SQLModel's AutoString wraps a String: the length is on the type it decorates.
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    return kind.length if isinstance(kind, String) else None


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    for row in (*session.new, *session.dirty):
        if hasattr(row, "__table__"):
            check(row)
