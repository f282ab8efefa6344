"""Errors a user can cause. They carry an untranslated message id and its parameters; the
engine translates them into the user's language at the edge, so pure code (parsers, storage
queries) can raise them without knowing who is asking."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message id for extraction into the catalogs without translating it here."""
    return message


class UserError(Exception):
    """Bad input or a refused command: shown to the user as a short, localized message.

    `message` is an English msgid marked with N_() and formatted with `params` after
    translation. `example` is a correct command line shown under the message. `field` names
    the form field (metric key, "date", "note") at fault, so a modal can show it in place.
    """

    def __init__(
        self,
        message: str,
        /,
        *,
        example: str | None = None,
        field: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.example = example
        self.field = field
        self.params = params


class Refused(UserError):
    """The user is not allowed to do this; the message says why."""
