"""The Telegram adapter: python-telegram-bot 22 with a manual lifecycle, translating updates into
engine requests and replies into messages.

Every update is stored in the shared inbox before Telegram is told it arrived (the next
getUpdates offset, or the webhook's 200), then handled by whichever instance claims it; the
answer is written to the outbox in the command's own transaction and sent from there. A crash at
any moment loses nothing; an update delivered again is a no-op in the inbox, and a report is
idempotent on its message id anyway."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from telegram import (
    BotCommand,
    BotCommandScopeDefault,
    CallbackQuery,
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
from bot.telegram_form import CANCEL, PICK, SEND, SKIP, Forms, FormSession
from bot.telegram_send import TelegramSender
from bot.tuning import DEFAULT_TUNING, Tuning
from handlers.engine.dispatch import Engine, Unavailable
from handlers.language.args import command_line, form_args
from handlers.values import Attachment, Ref, Reply, Request
from storage.inbox import Claimed

log = logging.getLogger(__name__)

# What the bot listens to; chat_member and reactions are not used.
ALLOWED_UPDATES: Final = ["message", "edited_message", "callback_query"]
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
                AIORateLimiter(overall_max_rate=config.max_messages_per_second, max_retries=5)
            )
            .get_updates_read_timeout(tuning.poll_timeout + 10)
            .updater(None)  # we fetch updates ourselves, to store them before confirming
            .build()
        )
        self.bot = self.application.bot
        self.sender = TelegramSender(self.bot, self._moved, backoff=tuning.retry_backoff)
        self.forms = Forms(tuning.form_timeout, self._form_expired)
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
        await self.application.start()
        log.info("Telegram: @%s, %s", me.username, self.config.mode)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.forms.close_all()
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
        self, request: Request, hints: dict[str, Any], *, in_form: bool = False
    ) -> Reply:
        """Run the command; its reply goes to the outbox in the command's transaction, which
        also marks the update being handled done. `hints` tell `_send` how to answer. A form's
        submission shows an error in the form itself, and its update is marked done once the
        form has moved on."""
        state = HANDLING.get(None)
        delivery = state.delivery if state and not in_form else None
        then = self.outbox.then(request.chat, hints, delivery=delivery, errors=not in_form)
        try:
            reply = await asyncio.to_thread(self.engine.handle, request, then)
        except Unavailable as error:
            if state is not None:
                state.unavailable = error
            raise
        if state is not None and delivery is not None:
            state.marked = True
        return reply

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
            if name != "report":
                return  # an edited /help or /team must not run again
            stamp = int(message.edit_date.timestamp()) if message.edit_date else 0
            ids = {"message_id": f"{key}:edit:{stamp}", "edits_message_id": key}
        else:
            self.forms.close(message.chat_id, user.id)  # a new command ends a form left open
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
        await self._ask(
            request, {"user": user.id, "reply_to": message.message_id if in_group else None}
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
        """An answer from the outbox: a form starts its questions; anything else is sent as
        messages, in a group as a reply to the command."""
        chat_id = int(target.id)
        if hints.get("clear_markup") and not reply.buttons and not reply.is_error:
            # The question is answered: its buttons would only invite a second press.
            await self._quietly(self.bot.edit_message_reply_markup(chat_id, hints["clear_markup"]))
        if reply.form is not None and hints.get("user") is not None:
            session = self.forms.open(reply.form, chat_id, int(hints["user"]))
            if reply.text:
                await self.sender.deliver(chat_id, Reply(reply.text))
            await self._step(session)
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
        if query.data.startswith("~"):
            await self._form_button(query, chat, query.data)
            return
        parsed = command_line(query.data)
        if parsed is None:
            return
        in_group = chat.type != TgChat.PRIVATE
        pressed = message.message_id if message else None
        await self._ask(
            self._request(query.from_user, chat, parsed[0], parsed[1]),
            {
                "user": query.from_user.id,
                "reply_to": pressed if in_group else None,
                "clear_markup": pressed,
            },
        )

    async def _on_text(self, update: Update, _context: Context) -> None:
        message, user = update.message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        session = self.forms.get(message.chat_id, user.id)
        if session is None:
            if message.chat.type == TgChat.PRIVATE:  # a lost user: say what the bot does
                await self._ask(self._request(user, message.chat, "start"), {"user": user.id})
            return
        if session.done:
            return  # the summary waits for a button
        session.answer(message.text.strip())
        self.forms.touch(session)
        await self._step(session)

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
        except Unavailable as error:
            state = HANDLING.get(None)
            if state is not None:  # the migration update is tried again later
                state.unavailable = error
            raise

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
    async def _step(self, session: FormSession) -> None:
        """Ask the current question, or show the summary when all are answered."""
        if session.prompt_id is not None:  # the previous question's buttons are spent
            await self._quietly(
                self.bot.edit_message_reply_markup(session.chat_id, session.prompt_id)
            )
        text, markup = session.summary() if session.done else session.question()
        sent = await self.sender.deliver(session.chat_id, Reply(text), markup=markup)
        session.prompt_id = sent[-1].message_id

    async def _form_button(self, query: CallbackQuery, chat: TgChat, data: str) -> None:
        message = query.message
        session = self.forms.get(chat.id, query.from_user.id)
        if session is None or message is None or message.message_id != session.prompt_id:
            # An old form's button, or someone else's form in a group.
            if session is None and isinstance(message, Message):
                await self._quietly(message.edit_reply_markup(None))
            return
        self.forms.touch(session)
        if data == CANCEL:
            self.forms.close(chat.id, query.from_user.id)
            await self._quietly(self.bot.edit_message_reply_markup(chat.id, session.prompt_id))
            await self.sender.deliver(chat.id, Reply(session.form.cancelled))
        elif data == SEND and session.done:
            await self._submit(session, query.from_user, chat)
        elif data == SKIP and not session.done:
            session.answer(None)
            await self._step(session)
        elif data.startswith(PICK) and not session.done:
            session.answer(data.removeprefix(PICK))
            await self._step(session)

    async def _submit(self, session: FormSession, user: TgUser, chat: TgChat) -> None:
        request = self._request(
            user,
            chat,
            session.form.command,
            form_args(session.answers),
            # The summary message is sent once per form: pressing Send twice records once.
            message_id=f"telegram:{chat.id}:{session.prompt_id}:form",
        )
        # An error is shown in the form itself (the field asked again), not as a message.
        reply = await self._ask(request, {"user": user.id}, in_form=True)
        if reply.is_error:
            session.ask_again(reply.error_field, reply.text)
            await self._step(session)
            return
        self.forms.close(chat.id, user.id)
        await self._quietly(self.bot.edit_message_reply_markup(chat.id, session.prompt_id))

    async def _form_expired(self, session: FormSession) -> None:
        if session.prompt_id is not None:
            await self._quietly(
                self.bot.edit_message_reply_markup(session.chat_id, session.prompt_id)
            )
        try:
            await self.sender.deliver(session.chat_id, Reply(session.form.expired))
        except TelegramError as error:
            log.info("form time-out notice not sent: %s", error)
