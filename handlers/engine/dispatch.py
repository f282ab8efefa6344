"""The command engine: one request in, one reply out, inside one transaction.

The reply is returned only after the transaction committed, so whatever a user sees confirmed
is stored. Bad input becomes a localized error; anything unexpected is logged with an id and the
user gets a short apology quoting it."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel import Session

from handlers.clock import Clock
from handlers.engine.command import CommandTable
from handlers.engine.context import Ctx, Settings, check_access
from handlers.errors import N_, Refused, UserError
from handlers.language.args import Args, clean
from handlers.language.i18n import LANGUAGES, Catalogs, Translator
from handlers.values import Ref, Reply, Request
from storage import queries
from storage.db import Database
from storage.limits import TooLong

log = logging.getLogger(__name__)

# Runs inside a command's transaction, just before it commits, with the reply.
Then = Callable[[Session, Reply], None]


class Unavailable(Exception):
    """The database did not answer, so nothing of the command was stored."""


def _unavailable(error: DBAPIError) -> bool:
    # A lost connection, a server shutting down, SQLite's "database is locked" after its busy
    # timeout: worth trying again later. A constraint or a bad query is not.
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))


class Engine:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogs: Catalogs,
        settings: Settings,
        table: CommandTable,
    ) -> None:
        self.db = db
        self.clock = clock
        self.catalogs = catalogs
        self.settings = settings
        self.table = table

    def handle(self, request: Request, then: Then | None = None) -> Reply:
        """Run one command. `then(session, reply)` runs in the command's transaction just
        before it commits (the outbox writes the reply there); with it, a database that does
        not answer raises `Unavailable` (the stored delivery is tried again later) instead of
        giving the user an apology for something that will be done."""
        try:
            try:
                return self._run(request, then)
            except IntegrityError:
                # Another transaction won a race on a unique key (the same message delivered
                # twice at once, two first contacts): run again and see what it stored.
                return self._run(request, then)
        except DBAPIError as error:
            if then is not None and _unavailable(error):
                raise Unavailable(str(error.orig or error)) from error
            return self._apologise(request, then)
        except Exception:
            return self._apologise(request, then)

    def _apologise(self, request: Request, then: Then | None) -> Reply:
        error_id = secrets.token_hex(4)
        log.exception("error %s handling /%s from %s", error_id, request.command, request.user)
        tr = self.translator(request.language)
        reply = Reply(
            tr._("Sorry, something went wrong (error {id}). Please try again later.", id=error_id),
            is_error=True,
        )
        if then is not None:
            try:
                with self.db.session() as session:
                    then(session, reply)
            except DBAPIError as error:
                raise Unavailable(str(error.orig or error)) from error
        return reply

    def move_chat(self, old: Ref, new: Ref) -> None:
        """The platform gave a chat a new id (a Telegram group became a supergroup): its
        bindings and digest subscriptions follow it."""
        try:
            with self.db.session() as session:
                queries.move_chat(session, old, new)
        except DBAPIError as error:  # the stored update is tried again, not dropped
            if _unavailable(error):
                raise Unavailable(str(error.orig or error)) from error
            raise
        log.info("chat %s moved to %s", old, new)

    def translator(self, language: str | None) -> Translator:
        lang = language if language in LANGUAGES else self.settings.default_language
        return self.catalogs.translator(lang)

    def _run(self, request: Request, then: Then | None) -> Reply:
        request = replace(
            request,
            args=clean(request.args),
            user_name=clean(request.user_name),
            chat_title=clean(request.chat_title),
        )
        with self.db.session() as session:
            now = self.clock.now()
            account = queries.get_or_create_account(session, request.user, request.user_name, now)
            chat = queries.get_or_create_chat(
                session, request.chat, request.chat_title, request.is_group, now
            )
            tr = self.translator(account.language or request.language)
            ctx = Ctx(request, session, self.clock, tr, self.settings, self.table, account, chat)
            try:
                # Nothing of a refused or malformed command is kept; the account and chat
                # rows (outside the savepoint) are.
                with session.begin_nested():
                    reply = self._dispatch(ctx)
                    session.flush()  # sizes are checked here (storage/limits.py), in the savepoint
            except UserError as error:
                reply = error_reply(tr, error)
            except TooLong as error:
                reply = error_reply(tr, too_long(tr, error))
            if then is not None:
                then(session, reply)
            return reply

    def _dispatch(self, ctx: Ctx) -> Reply:
        name = ctx.request.command.lower()
        if name not in self.table.topics:
            raise UserError(
                N_("Unknown command /{command}. /help lists what you can do."),
                command=name,
                example="/help",
            )
        ctx.args = Args.parse(ctx.request.args)
        command, consumed = self.table.find(name, ctx.args.word(0))
        if command is None:
            subs = [c for c in self.table.of_topic(name) if c.sub]
            raise UserError(
                N_("/{command} needs one of: {choices}."),
                command=name,
                choices=", ".join(c.sub or "" for c in subs),
                example=subs[0].usage,
            )
        if consumed:
            ctx.args.words.pop(0)
        check_access(ctx, command.access)
        return command.handler(ctx)


# Columns the user fills, by the word the commands use for them (others: the column's name).
FIELDS = {
    "name": N_("the name"),
    "note": N_("the note"),
    "label_vi": N_("the label"),
    "label_en": N_("the English label"),
    "unit": N_("the unit"),
}


def too_long(tr: Translator, error: TooLong) -> UserError:
    what = FIELDS.get(error.column)
    return UserError(
        N_("That is too long: {what} has {length} characters; at most {limit}."),
        what=tr._(what) if what else error.column,
        length=error.length,
        limit=error.limit,
        field=error.column if error.column == "note" else None,
    )


def error_reply(tr: Translator, error: UserError) -> Reply:
    # ⛔ for "not allowed", ⚠️ for "not understood": the user knows whether to fix or to ask.
    text = ("⛔ " if isinstance(error, Refused) else "⚠️ ") + tr._(error.message, **error.params)
    if error.example:
        text += "\n" + tr._("Example: {example}", example=error.example)
    return Reply(text, is_error=True, error_field=error.field)
