"""Media served by URL: chart images and exports at unguessable addresses that expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import Media


@dataclass(frozen=True)
class Served:
    name: str
    mime_type: str
    content: bytes


def add(
    session: Session,
    token: str,
    name: str,
    mime_type: str,
    content: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        Media(
            token=token,
            name=name,
            mime_type=mime_type,
            content=content,
            created_at=now,
            expires_at=expires_at,
        )
    )


def get(session: Session, token: str, now: datetime) -> Served | None:
    """The media behind `token`, or None when there is none or it has expired."""
    row = session.get(Media, token)
    if row is None or row.expires_at <= now:
        return None
    return Served(row.name, row.mime_type, row.content)


def prune(session: Session, now: datetime) -> None:
    session.exec(delete(Media).where(col(Media.expires_at) <= now))  # type: ignore[call-overload]
