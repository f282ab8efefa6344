"""The Telegram adapter: python-telegram-bot 22 with a manual lifecycle, translating updates into
engine requests and replies into messages.

Every update is stored in the shared inbox before Telegram is told it arrived (the next
getUpdates offset, or the webhook's 200), then handled by whichever instance claims it; the
answer is written to the outbox in the command's own transaction and sent from there. A crash at
any moment loses nothing; an update delivered again is a no-op in the inbox, and a report is
idempotent on its message id anyway. The guided form's progress is in the database too
(bot/telegram_form.py), so it goes on across instances and restarts."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram import Chat as TgChat
from telegram import User as TgUser
from telegram.error import Conflict, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import TelegramConfig
from bot.inbox import Inbox
from bot.outbox import Outbox
from bot.telegram_form import CANCEL, FORM_BUTTON, KIND, PICK, SEND, SKIP, TelegramForm
from bot.telegram_send import TelegramSender
from bot.tuning import DEFAULT_TUNING, Tuning
from handlers.engine.dispatch import Engine, Then, Unavailable
from handlers.language.args import command_line, form_args
from handlers.values import Attachment, Ref, Reply, Request
from storage import inbox as deliveries
from storage import prompts
from storage.inbox import Claimed

log = logging.getLogger(__name__)
T = TypeVar("T")

# What the bot listens to; chat_member and reactions are not used.
ALLOWED_UPDATES: Final = ["message", "edited_message", "callback_query"]
# Commands an edited message runs again: an edited /report corrects the report it recorded; an
# edited /fix names its report itself and is applied to that report's current version (so a
# /fix refused for a mistyped id or value works once the message is put right).
EDITABLE: Final = frozenset({"report", "fix"})
DOCUMENT_LIMIT: Final = 5 * 2**20  # a team CSV is small; anything bigger is a mistake
Context = ContextTypes.DEFAULT_TYPE


@dataclass
class _Handling:
    """The stored update being handled in this task (PTB runs its handlers in it)."""

    delivery: int
    unavailable: Unavailable | None = None
    marked: bool = False  # done, in the transaction of the command it carried


HANDLING: ContextVar[_Handling] = ContextVar("telegram_handling")


def user_ref(user: TgUser) -> Ref:
    return Ref("telegram", "", str(user.id))


def chat_ref(chat_id: int) -> Ref:
    return Ref("telegram", "", str(chat_id))


def message_key(message: Message) -> str:
    return f"telegram:{message.chat_id}:{message.message_id}"


def command_text(message: Message) -> str:
    """The text or caption, with each mention of a user who has no @username (Telegram sends
    those as text_mention entities carrying the user) replaced by their id, `telegram:<id>`:
    handlers read people as platform ids, never as one platform's mention syntax."""
    text = message.text or message.caption or ""
    mentions = (
        message.parse_entities([MessageEntity.TEXT_MENTION])
        if message.text
        else message.parse_caption_entities([MessageEntity.TEXT_MENTION])
    )
    for entity, shown in mentions.items():
        if entity.user is not None:
            text = text.replace(shown, f"telegram:{entity.user.id}", 1)
    return text


class TelegramAdapter:
    platform = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        engine: Engine,
        inbox: Inbox,
        outbox: Outbox,
        tuning: Tuning = DEFAULT_TUNING,
    ) -> None:
        assert config.token is not None
        self.config = config
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock
        self.inbox = inbox
        self.outbox = outbox
        self.source = f"telegram:{config.bot_id}"
        inbox.serve(self.source, self._handle)
        outbox.serve(self.platform, self._send)
        self.poll_timeout = tuning.poll_timeout
        base = config.api_base_url.rstrip("/")
        self.application = (
            Application.builder()
            .token(config.token.get_secret_value())
            .base_url(f"{base}/bot")
            .base_file_url(f"{base}/file/bot")
            # The configured rate overall (Telegram's 30/s by default), 20/min per group; a 429
            # waits `retry_after` and goes again.
            .rate_limiter(
                AIORateLimiter(
                    overall_max_rate=config.max_messages_per_second,
                    max_retries=tuning.rate_limit_retries,
                )
            )
            .get_updates_read_timeout(tuning.poll_timeout + 10)
            # A send that hangs fails after this and is tried again (PTB: 5 s, 20 s for media).
            .read_timeout(tuning.platform_timeout)
            .write_timeout(tuning.platform_timeout)
            .media_write_timeout(tuning.platform_timeout)
            .updater(None)  # we fetch updates ourselves, to store them before confirming
            .build()
        )
        self.bot = self.application.bot
        self.sender = TelegramSender(
            self.bot, self._moved, retries=tuning.send_retries, backoff=tuning.retry_backoff
        )
        self.form_keep = timedelta(seconds=tuning.form_timeout)
        self.form_sweep = tuning.form_sweep
        self._tasks: list[asyncio.Task[None]] = []
        self._register()

    # --- lifecycle ------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        if self.config.mode == "webhook":
            assert self.config.webhook_url is not None
            path = urlsplit(self.config.webhook_url).path or "/"
            web_app.router.add_post(path, self._webhook)

    async def start(self) -> None:
        await self.application.initialize()  # getMe: who we are
        me = self.bot.bot
        if (self.config.username or "").lstrip("@").lower() != me.username.lower():
            log.warning(
                'set telegram.username = "%s" in the config so invite codes carry t.me links',
                me.username,
            )
        await self._publish_commands()
        if self.config.mode == "webhook":
            assert self.config.webhook_url is not None and self.config.webhook_secret is not None
            await self.bot.set_webhook(
                self.config.webhook_url,
                secret_token=self.config.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            await self.bot.delete_webhook()
            self._tasks.append(asyncio.create_task(self._poll(), name="telegram-poll"))
        self._tasks.append(asyncio.create_task(self._expire_forms(), name="telegram-forms"))
        await self.application.start()
        log.info("Telegram: @%s, %s", me.username, self.config.mode)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _publish_commands(self) -> None:
        """The command menu in both languages; the default scope gets the default language."""
        topics = self.engine.table.visible_topics()
        for language in ("vi", "en", None):
            tr = self.engine.translator(language)
            commands = [BotCommand(t.name, tr._(t.summary)[:256]) for t in topics]
            await self.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=language
            )

    # --- receiving: store first, confirm, then process -------------------------------------
    async def _poll(self) -> None:
        offset = 0
        delay = 1.0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
                )
            except (NetworkError, Conflict) as error:  # Telegram or the network hiccuped
                log.warning("getUpdates failed (%s); again in %.0fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            if not updates:
                delay = 1.0
                continue
            try:
                await self._store(list(updates))
            except Exception:  # the database is away: fetch the same updates again later
                log.exception("could not store updates; again in %.0fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 1.0
            offset = updates[-1].update_id + 1  # confirmed by the next call, after storing

    async def _webhook(self, request: web.Request) -> web.Response:
        assert self.config.webhook_secret is not None
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, self.config.webhook_secret.get_secret_value()):
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), self.bot)
        except (ValueError, KeyError, TypeError):
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        await self._store([update])
        return web.Response(status=200)  # only now: Telegram keeps resending until it gets it

    async def _store(self, updates: list[Update]) -> None:
        await self.inbox.put(
            self.source,
            [
                (
                    str(u.update_id),
                    str(u.effective_chat.id) if u.effective_chat else "",
                    json.dumps(u.to_dict()),
                )
                for u in updates
            ],
        )

    async def _handle(self, delivery: Claimed) -> bool:
        """One stored update through python-telegram-bot's handlers below; a command's answer
        goes to the outbox in its own transaction (see _ask)."""
        update = Update.de_json(json.loads(delivery.payload), self.bot)
        state = _Handling(delivery.id)
        token = HANDLING.set(state)
        try:
            await self.application.process_update(update)
        finally:
            HANDLING.reset(token)
        if state.unavailable is not None:
            raise state.unavailable  # the inbox tries the update again later
        return state.marked

    # --- translating updates into requests ----------------------------------------------
    def _register(self) -> None:
        app = self.application
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        app.add_handler(CallbackQueryHandler(self._on_callback))
        # Commands in a text or in the caption of a photo or a document, new or edited.
        commands = filters.COMMAND | (
            (filters.PHOTO | filters.Document.ALL) & filters.CaptionRegex(r"^/")
        )
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGES & commands, self._on_command))
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_text))
        app.add_error_handler(self._on_error)

    def _request(
        self, user: TgUser, chat: TgChat, command: str, args: str = "", **extra: Any
    ) -> Request:
        return Request(
            user=user_ref(user),
            chat=chat_ref(chat.id),
            command=command,
            args=args,
            user_name=user.full_name,
            chat_title=chat.effective_name or "",
            is_group=chat.type != TgChat.PRIVATE,
            language=(user.language_code or "")[:2] or None,
            **extra,
        )

    async def _ask(
        self, request: Request, hints: dict[str, Any], *, ends_form: bool = False
    ) -> None:
        """Run the command; its reply goes to the outbox in the command's transaction, which
        also marks the update being handled done. `hints` tell `_send` how to answer."""
        state = HANDLING.get(None)
        delivery = state.delivery if state else None
        await self._run(request, self._replied(request, hints, delivery, ends_form=ends_form))
        if state is not None:
            state.marked = True

    async def _run(self, request: Request, then: Then) -> None:
        try:
            await asyncio.to_thread(self.engine.handle, request, then)
        except Unavailable as error:
            raise self._unavailable(error) from None

    def _replied(
        self, request: Request, hints: dict[str, Any], delivery: int | None, *, ends_form: bool
    ) -> Then:
        """Write the reply. With `ends_form` (a new command) a form left open is closed and
        its question's buttons go; a form the reply carries becomes the user's prompt, its
        first question after the reply's text."""

        def write(session: Any, reply: Reply) -> None:
            left = self._open_form(session, request, delivery) if ends_form else None
            spent = left.message_id if left is not None else None
            if left is not None:
                prompts.close(session, request.chat.key, request.user.key, self.clock.now())
            if reply.form is not None:
                if reply.text:
                    self.outbox.then(request.chat, hints)(session, Reply(reply.text))
                self._ask_next(session, request, TelegramForm(reply.form), spent, delivery)
                return
            shown = {**hints, "spent": spent} if spent is not None else hints
            self.outbox.then(request.chat, shown, delivery=delivery)(session, reply)

        return write

    async def _transaction(self, work: Callable[[Any], T]) -> T:
        def run() -> T:
            with self.db.session() as session:
                return work(session)

        try:
            return await asyncio.to_thread(run)
        except Exception as error:  # the database is away: the update is tried again later
            raise self._unavailable(Unavailable(str(error))) from error

    @staticmethod
    def _unavailable(error: Unavailable) -> Unavailable:
        """`error`, noted for the update being handled: PTB hands a handler's exception to
        `_on_error`, not to `_handle`, which then releases the update to be tried again."""
        state = HANDLING.get(None)
        if state is not None:
            state.unavailable = error
        return error

    async def _on_command(self, update: Update, _context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        text = command_text(message)
        parsed = command_line(text)
        if parsed is None:
            return
        name, args = parsed
        addressee = text.split(maxsplit=1)[0].partition("@")[2]
        if addressee and addressee.lower() != (self.bot.username or "").lower():
            return  # `/report@otherbot` in a group is not for us
        key = message_key(message)
        if update.edited_message is not None:
            if name not in EDITABLE:
                return  # an edited /help or /team must not run again
            stamp = int(message.edit_date.timestamp()) if message.edit_date else 0
            ids = {"message_id": f"{key}:edit:{stamp}"}
            if name == "report":  # corrects what the message recorded
                ids["edits_message_id"] = key
        else:
            ids = {"message_id": key}
        request = self._request(
            user,
            message.chat,
            name,
            args,
            attachment=await self._attachment(message),
            **ids,
        )
        in_group = message.chat.type != TgChat.PRIVATE
        # A new command ends a form left open; an edit corrects a report, it is not news.
        await self._ask(
            request,
            {"reply_to": message.message_id if in_group else None},
            ends_form=update.edited_message is None,
        )

    async def _attachment(self, message: Message) -> Attachment | None:
        if message.photo:
            # The photo is evidence: kept as Telegram's file id, fetched only when someone looks.
            photo = message.photo[-1]
            return Attachment("photo.jpg", b"", "image/jpeg", f"telegram:{photo.file_id}")
        document = message.document
        if document is None or (document.file_size or 0) > DOCUMENT_LIMIT:
            return None
        data = await (await document.get_file()).download_as_bytearray()
        return Attachment(
            document.file_name or "file",
            bytes(data),
            document.mime_type or "application/octet-stream",
            f"telegram:{document.file_id}",
        )

    async def _send(self, target: Ref, reply: Reply, hints: dict[str, Any]) -> None:
        """An answer from the outbox: a form's question with its buttons (whose message is
        then noted in the form), or any other reply as messages, in a group as a reply to the
        command."""
        chat_id = int(target.id)
        if hints.get("spent"):  # a form's question answered, or the form over
            await self._quietly(self.bot.edit_message_reply_markup(chat_id, hints["spent"]))
        if hints.get("clear_markup") and not reply.buttons and not reply.is_error:
            # The question is answered: its buttons would only invite a second press.
            await self._quietly(self.bot.edit_message_reply_markup(chat_id, hints["clear_markup"]))
        if "keyboard" in hints:
            markup = InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in hints["keyboard"]
                ]
            )
            sent = await self.sender.deliver(chat_id, reply, markup=markup)
            user_id, token = hints["form"]
            await self._shown(target, Ref("telegram", "", user_id), token, sent[-1].message_id)
            return
        await self.sender.deliver(chat_id, reply, reply_to=hints.get("reply_to"))

    async def _on_callback(self, update: Update, _context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        chat = message.chat if message else None
        await self._quietly(query.answer())  # stops the button's spinner
        if chat is None or not query.data:
            return
        if query.data.startswith(FORM_BUTTON):
            await self._form_button(query, chat, query.data)
            return
        parsed = command_line(query.data)
        if parsed is None:
            return
        in_group = chat.type != TgChat.PRIVATE
        pressed = message.message_id if message else None
        await self._ask(
            self._request(query.from_user, chat, parsed[0], parsed[1]),
            {"reply_to": pressed if in_group else None, "clear_markup": pressed},
        )

    async def _on_text(self, update: Update, _context: Context) -> None:
        """Text that is not a command answers the open form's question; with no form open, a
        private chat gets the welcome (a lost user: say what the bot does)."""
        message, user = update.message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        request = self._request(user, message.chat, "start")  # the command is decided below
        delivery = HANDLING.get().delivery
        text = message.text.strip()

        def answer(session: Any) -> bool:
            form = self._open_form(session, request, delivery)
            if form is None:
                return False
            if not form.done:  # the summary waits for a button
                self._ask_next(session, request, form.answer(text), form.message_id, delivery)
            return True

        answered = await self._transaction(answer)  # the next question goes when it commits
        if not answered and message.chat.type == TgChat.PRIVATE:
            await self._ask(request, {})

    async def _on_migrate(self, update: Update, _context: Context) -> None:
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:  # in the old group
            await self._moved(chat_ref(message.chat_id), chat_ref(message.migrate_to_chat_id))
        elif message.migrate_from_chat_id:  # in the new supergroup; a no-op if already moved
            await self._moved(chat_ref(message.migrate_from_chat_id), chat_ref(message.chat_id))

    async def _moved(self, old: Ref, new: Ref) -> None:
        try:
            await asyncio.to_thread(self.engine.move_chat, old, new)
        except Unavailable as error:  # the migration update is tried again later
            raise self._unavailable(error) from None

    async def _on_error(self, update: object, context: Context) -> None:
        if isinstance(context.error, Unavailable):
            return  # not an error: the inbox tries the update again (see _handle)
        log.error("while handling %s", getattr(update, "update_id", update), exc_info=context.error)

    @staticmethod
    async def _quietly(call: Any) -> None:
        """A cosmetic call (answering a button, removing a keyboard) must not stop the work."""
        try:
            await call
        except TelegramError as error:
            log.info("ignored: %s", error)

    # --- the guided form ----------------------------------------------------------------
    def _open_form(
        self, session: Any, request: Request, delivery: int | None
    ) -> TelegramForm | None:
        """The form the user has open in the chat, locked until the transaction ends (an
        answer, the outbox noting a question's message and the time-out may meet). One that
        timed out is closed here, with its notice (in the transaction of `delivery`)."""
        now = self.clock.now()
        pending = prompts.get(session, request.chat.key, request.user.key, now, lock=True)
        if pending is None or pending.kind != KIND:
            return None
        form = TelegramForm.loads(pending.state)
        if pending.expired:
            prompts.close(session, request.chat.key, request.user.key, now)
            self._expired(session, request.chat, form, delivery)
            return None
        return form

    def _keep(self, session: Any, request: Request, form: TelegramForm) -> None:
        """`form` as the user's prompt, its time-out started again."""
        now = self.clock.now()
        chat, user = request.chat.key, request.user.key
        prompts.put(session, chat, user, KIND, form.dumps(), now, now + self.form_keep)

    def _ask_next(
        self,
        session: Any,
        request: Request,
        form: TelegramForm,
        spent: int | None,
        delivery: int | None,
    ) -> None:
        """Keep `form` and write its question (or summary) to the outbox; `spent`: the message
        of the question answered, whose buttons go."""
        self._keep(session, request, form)
        text, keyboard = form.message()
        hints = {"keyboard": keyboard, "form": [request.user.id, form.token], "spent": spent}
        self.outbox.then(request.chat, hints, delivery=delivery)(session, Reply(text))

    def _expired(self, session: Any, chat: Ref, form: TelegramForm, delivery: int | None) -> None:
        notice = Reply(form.form.expired)
        self.outbox.then(chat, {"spent": form.message_id}, delivery=delivery)(session, notice)

    async def _shown(self, chat: Ref, user: Ref, token: str, message_id: int) -> None:
        """Note the message showing the form's question, so its buttons can be removed when
        it is answered by text or times out; a question already answered is left alone."""

        def note(session: Any) -> None:
            now = self.clock.now()
            pending = prompts.get(session, chat.key, user.key, now, lock=True)
            if pending is None or pending.kind != KIND:
                return
            form = TelegramForm.loads(pending.state)
            if form.token == token:
                shown = form.shown_in(message_id).dumps()
                prompts.put(session, chat.key, user.key, KIND, shown, now, pending.expires_at)

        try:
            await self._transaction(note)
        except Unavailable as error:  # only the buttons stay: a press on them is refused
            log.info("form question %s not noted: %s", message_id, error)

    async def _form_button(self, query: CallbackQuery, chat: TgChat, data: str) -> None:
        if query.message is None:
            return
        request = self._request(query.from_user, chat, "start")  # for its identities
        delivery = HANDLING.get().delivery
        pressed_on = query.message.message_id

        def press(session: Any) -> TelegramForm | Literal["spent"] | None:
            """The form to send, or "spent" for a button of no open question."""
            form = self._open_form(session, request, delivery)
            pressed = form.pressed(data) if form is not None else None
            if form is None or pressed is None:
                return "spent"
            action, value = pressed
            if action == CANCEL:
                prompts.close(session, request.chat.key, request.user.key, self.clock.now())
                cancelled = Reply(form.form.cancelled)
                hints = {"spent": pressed_on}
                self.outbox.then(request.chat, hints, delivery=delivery)(session, cancelled)
            elif action == SEND and form.done:
                self._keep(session, request, form)  # not timed out while it is being sent
                return form
            elif action in (SKIP, PICK) and not form.done:
                answered = form.answer(value if action == PICK else None)
                self._ask_next(session, request, answered, pressed_on, delivery)
            return None

        decided = await self._transaction(press)
        if decided == "spent":
            # An old question's button, or a closed form's: in a private chat it can only be
            # the presser's; in a group it may be someone else's open form.
            if chat.type == TgChat.PRIVATE:
                await self._quietly(self.bot.edit_message_reply_markup(chat.id, pressed_on))
        elif decided is not None:
            await self._submit(decided, request, pressed_on, delivery)

    async def _submit(
        self, form: TelegramForm, asked: Request, summary: int, delivery: int
    ) -> None:
        request = replace(
            asked,
            command=form.form.command,
            args=form_args(form.answers),
            # Each summary has its own token: pressing Send twice records once.
            message_id=f"telegram:{asked.chat.id}:{form.token}:form",
        )

        def write(session: Any, reply: Reply) -> None:
            current = self._open_form(session, request, delivery)
            if current is None or current.token != form.token:
                # The other press of a double tap, on another instance, sent it first: the
                # command found its report recorded, and its confirmation is the one shown.
                deliveries.done(session, delivery, self.clock.now())
                return
            if reply.is_error:  # shown in the form itself: the field asked again
                again = form.ask_again(reply.error_field, reply.text)
                self._ask_next(session, request, again, summary, delivery)
                return
            prompts.close(session, request.chat.key, request.user.key, self.clock.now())
            self.outbox.then(request.chat, {"spent": summary}, delivery=delivery)(session, reply)

        await self._run(request, write)

    async def _expire_forms(self) -> None:
        """Close the forms left alone past their time-out, each with its notice. Every
        instance looks; each form is closed by one (storage/prompts.close_expired)."""
        while True:
            await asyncio.sleep(self.form_sweep)
            try:  # each notice goes out when the transaction commits
                await self._transaction(self._close_expired)
            except Unavailable as error:  # the next look tries again
                log.warning("could not look for timed-out forms: %s", error)

    def _close_expired(self, session: Any) -> None:
        expired = prompts.close_expired(session, KIND, f"{self.platform}:", self.clock.now())
        for row in expired:
            self._expired(session, Ref.parse(row.chat_key), TelegramForm.loads(row.state), None)
