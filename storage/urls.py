"""Database URLs as the configuration reads them: checked, and printed without the password.
Apart from storage/db.py, so loading the configuration does not load the tables."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def is_database_url(url: str) -> bool:
    try:
        make_url(url)
    except ArgumentError:
        return False
    return True


def without_password(url: str) -> str:
    """The URL as it may be printed or logged."""
    return make_url(url).render_as_string(hide_password=True)
