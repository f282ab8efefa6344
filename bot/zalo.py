"""The Zalo adapter (Zalo Bot Platform, through bot/zalo_client.py): translates Zalo messages
into engine requests and replies into Zalo messages.

Zalo's polling has no offset: an update handed out by getUpdates is gone from Zalo, so it is
stored in the shared inbox before anything else (and storing is retried until it succeeds);
a webhook delivery is answered 200 only once stored. A redelivery carries the same message id,
which is the inbox key, so it is recorded once. Answers go to the outbox in the command's own
transaction, as on every platform.

Zalo has no buttons, modals or files (docs/zalo.md). Buttons become numbered choices, the
guided form is asked one field at a time, and what a user is asked is kept in the database
(storage/prompts.py) in the same transaction as the reply that asks it, so the answer works
after a restart and on any instance. Charts go by URL and exports as links (bot/media.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from aiohttp import web

from bot.choices import NOTHING_OPEN, STALE, Choices, number
from bot.config import ZaloConfig
from bot.delivery import ChatUnavailable
from bot.inbox import Inbox
from bot.media import MediaServer
from bot.outbox import Outbox
from bot.text_form import TextForm
from bot.tuning import DEFAULT_TUNING, Tuning
from bot.zalo_client import (
    MAX_TEXT,
    POLL_GRACE,
    SECRET_HEADER,
    ZaloBadRequest,
    ZaloClient,
    ZaloError,
    ZaloEvent,
    ZaloForbidden,
    ZaloMessage,
    ZaloParseError,
    ZaloRetryAfter,
    ZaloServerError,
    ZaloUpdate,
    parse_update,
    secret_matches,
    split_text,
    text_length,
)
from handlers.engine.dispatch import Engine, Then, Unavailable
from handlers.errors import N_
from handlers.language.args import command_line, form_args
from handlers.language.i18n import Translator
from handlers.values import Attachment, Ref, Reply, Request
from storage import prompts, queries
from storage.inbox import Claimed

log = logging.getLogger(__name__)
T = TypeVar("T")

CHOICES_KEEP: Final = timedelta(hours=24)  # as long as a report can be undone
MAX_RETRY_WAIT: Final = 30.0  # seconds a send waits out 429s before the outbox takes over
PRUNE_EVERY: Final = timedelta(hours=1)

CHARTS_NEED_PUBLIC_URL = N_(
    "(Charts cannot be shown in Zalo until an administrator sets server.public_url.)"
)
FILES_NEED_PUBLIC_URL = N_(
    "(Files cannot be sent in Zalo until an administrator sets server.public_url.)"
)
FILE_LINK = N_("📎 {name}: {url}")
LINKS_EXPIRE = N_("(The link works for 24 hours.)")


def message_key(message: ZaloMessage) -> str:
    return f"zalo:{message.chat.id}:{message.message_id}"


class ZaloSender:
    """Sends replies to Zalo chats: text split to Zalo's 2,000 characters, charts by URL with
    the text as caption when it fits (else the text first), files as links. Also the `Sender`
    the digests and reminders use for Zalo."""

    def __init__(
        self,
        client: ZaloClient,
        media: MediaServer,
        translator: Callable[[str | None], Translator],
        *,
        retries: int = 4,
        backoff: float = 0.5,
    ) -> None:
        self.client = client
        self.media = media
        self.translator = translator
        self.retries = retries
        self.backoff = backoff

    async def send(self, chat: Ref, reply: Reply) -> None:
        await self.deliver(chat.id, reply)

    async def send_private(self, user: Ref, reply: Reply) -> None:
        await self.deliver(user.id, reply)  # a private chat's id is the user's id

    async def deliver(self, chat_id: str, reply: Reply, language: str | None = None) -> None:
        """Everything in `reply`, in order. Buttons are not shown: a reply that asks a
        question had them turned into numbered text already (see ZaloAdapter._prompt)."""
        tr = self.translator(language)
        lines = [reply.text] if reply.text else []
        if reply.files:
            if self.media.enabled:
                for file in reply.files:
                    url = await self.media.publish(file.name, file.mime_type, file.content)
                    lines.append(tr._(FILE_LINK, name=file.name, url=url))
                lines.append(tr._(LINKS_EXPIRE))
            else:
                lines.append(tr._(FILES_NEED_PUBLIC_URL))
        if reply.images and not self.media.enabled:
            lines.append(tr._(CHARTS_NEED_PUBLIC_URL))
        text = "\n".join(lines)
        images = reply.images if self.media.enabled else ()
        urls = [await self.media.publish(i.name, "image/png", i.content) for i in images]
        if len(images) == 1 and text and text_length(text) <= MAX_TEXT:
            await self._call(partial(self.client.send_photo, chat_id, urls[0], text))
            return
        for piece in split_text(text):
            await self._call(partial(self.client.send_message, chat_id, piece))
        for image, url in zip(images, urls, strict=True):
            caption = image.caption if text_length(image.caption) <= MAX_TEXT else None
            await self._call(partial(self.client.send_photo, chat_id, url, caption))

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` until it succeeds: 429s waited out (up to MAX_RETRY_WAIT in all, longer
        each time Zalo gives no delay), 5xx and network errors retried with back-off; a chat
        that refuses the bot is ChatUnavailable. What is still failing goes back to the
        outbox, which tries again later."""
        attempt, waited = 0, 0.0
        while True:
            try:
                return await call()
            except ZaloForbidden as error:
                raise ChatUnavailable(error.description) from error
            except ZaloBadRequest as error:
                if "chat not found" in error.description.lower():
                    raise ChatUnavailable(error.description) from error
                raise
            except ZaloRetryAfter as error:
                attempt += 1
                delay = error.retry_after * (1 if error.retry_after_given else 2 ** (attempt - 1))
                if attempt > self.retries or waited + delay > MAX_RETRY_WAIT:
                    raise
                log.warning("Zalo %s: 429; again in %.1fs", error.method, delay)
                await asyncio.sleep(delay)
                waited += delay
            except ZaloServerError as error:
                attempt += 1
                if attempt > self.retries:
                    raise
                delay = self.backoff * 2 ** (attempt - 1)
                log.warning(
                    "Zalo %s failed (%s); retry %d in %.1fs", error.method, error, attempt, delay
                )
                await asyncio.sleep(delay)


class ZaloAdapter:
    platform = "zalo"

    def __init__(
        self,
        config: ZaloConfig,
        engine: Engine,
        inbox: Inbox,
        outbox: Outbox,
        *,
        public_url: str | None = None,
        tuning: Tuning = DEFAULT_TUNING,
    ) -> None:
        assert config.token is not None
        self.config = config
        self.engine = engine
        self.db = engine.db
        self.clock = engine.clock
        self.inbox = inbox
        self.outbox = outbox
        self.poll_timeout = tuning.poll_timeout
        self.form_keep = timedelta(seconds=tuning.form_timeout)
        self.client = ZaloClient(config.token.get_secret_value(), config.api_base_url)
        self.media = MediaServer(self.db, self.clock, public_url)
        self.sender = ZaloSender(
            self.client, self.media, engine.translator, backoff=tuning.retry_backoff
        )
        self.source = f"zalo:{config.bot_id}"
        inbox.serve(self.source, self._handle)
        outbox.serve(self.platform, self._send)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._pruned = self.clock.now()

    # --- lifecycle ------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        self.media.mount(web_app)
        if self.config.mode == "webhook":
            assert self.config.webhook_url is not None
            web_app.router.add_post(urlsplit(self.config.webhook_url).path or "/", self._webhook)

    async def start(self) -> None:
        me = await self.client.get_me()
        if not self.media.enabled:
            log.warning(
                "server.public_url is not set: Zalo users get no charts and no exports "
                "(Zalo fetches images by URL from this server)"
            )
        if self.config.mode == "webhook":
            assert self.config.webhook_url is not None and self.config.webhook_secret is not None
            await self.client.set_webhook(
                self.config.webhook_url, self.config.webhook_secret.get_secret_value()
            )
        else:
            await self.client.delete_webhook()  # getUpdates answers 409 while one is set
            self._tasks.append(asyncio.create_task(self._poll(), name="zalo-poll"))
        groups = "may join groups" if me.can_join_groups else "private chats only"
        log.info("Zalo: %s (%s), %s, %s", me.display_name, me.id, self.config.mode, groups)

    async def stop(self) -> None:
        # A poll abandoned half-way may still take an update off Zalo, which would then be
        # lost: let the one in flight end (and its update be stored) before cancelling.
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                asyncio.gather(*self._tasks, return_exceptions=True),
                self.poll_timeout + POLL_GRACE,
            )
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.client.close()

    # --- receiving: store first, then handle ------------------------------------------------
    async def _poll(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            try:
                update = await self.client.get_updates(timeout=self.poll_timeout)
            except ZaloError as error:  # Zalo or the network hiccuped; a 409: a webhook is set
                wait = error.retry_after if isinstance(error, ZaloRetryAfter) else delay
                log.warning("getUpdates failed (%s); again in %.0fs", error, wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
                delay = min(delay * 2, 30)
                continue
            delay = 1.0
            if update is not None:
                await self._keep(update)

    async def _keep(self, update: ZaloUpdate) -> None:
        """Store an update Zalo will not hand out again, however long the database is away."""
        delay = 1.0
        while True:
            try:
                await self._store(update)
                return
            except Exception as error:
                log.warning("could not store a Zalo update (%s); again in %.0fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30)

    async def _webhook(self, request: web.Request) -> web.Response:
        assert self.config.webhook_secret is not None
        secret = self.config.webhook_secret.get_secret_value()
        if not secret_matches(request.headers.get(SECRET_HEADER), secret):
            return web.Response(status=403)
        try:
            update = parse_update(await request.json())
        except (ValueError, ZaloParseError):
            return web.Response(status=400)
        try:
            await self._store(update)
        except Exception as error:  # the database is away: Zalo sends it again
            log.warning("could not store a Zalo update (%s); answered 503", error)
            return web.Response(status=503)
        return web.Response(status=200)  # only now: Zalo retries until it gets it

    async def _store(self, update: ZaloUpdate) -> None:
        message = update.message
        if message is None:
            return  # no message id to recognise it by, nothing to answer
        payload = json.dumps(dict(update.raw), ensure_ascii=False)
        await self.inbox.put(self.source, [(message.message_id, message.chat.id, payload)])

    async def _handle(self, delivery: Claimed) -> None:
        """One stored update: a command (text, or a photo's caption) goes to the engine; any
        other text answers what the user was asked (a number, a form's field)."""
        update = parse_update(json.loads(delivery.payload))
        message = update.message
        if message is None or message.sender is None or message.sender.is_bot:
            return
        if update.event is ZaloEvent.TEXT:
            text = message.text or ""
        elif update.event is ZaloEvent.IMAGE:
            text = message.caption or ""
        else:
            return  # stickers, voice, files: nothing tiendo reads
        parsed = command_line(text)
        if parsed is not None:
            photo = None
            if update.event is ZaloEvent.IMAGE and message.photo_url:
                # Evidence kept as Zalo's URL; the bytes are fetched only if someone looks.
                photo = Attachment("photo.jpg", b"", "image/jpeg", f"zalo:{message.photo_url}")
            request = self._request(
                message, *parsed, message_id=message_key(message), attachment=photo
            )
            await self._ask(request, delivery.id)
        elif update.event is ZaloEvent.TEXT and text.strip():
            await self._answer(message, text, delivery.id)

    def _request(self, message: ZaloMessage, command: str, args: str = "", **extra: Any) -> Request:
        assert message.sender is not None
        return Request(
            user=Ref("zalo", "", message.sender.id),
            chat=Ref("zalo", "", message.chat.id),
            command=command,
            args=args,
            user_name=message.sender.display_name,
            is_group=message.chat.is_group,
            **extra,
        )

    async def _ask(self, request: Request, delivery: int, form: TextForm | None = None) -> None:
        """Run the command; its reply, and what it asks the user, are written in the command's
        transaction, which also marks the delivery done. `form`: the guided form whose
        answers this command sends."""
        await asyncio.to_thread(self.engine.handle, request, self._then(request, delivery, form))

    def _then(self, request: Request, delivery: int, form: TextForm | None) -> Then:
        def write(session: Any, reply: Reply) -> None:
            tr = self._translator(session, request.user)
            shown = self._prompt(session, request, reply, tr, form)
            self.outbox.then(request.chat, {"lang": tr.lang}, delivery=delivery)(session, shown)

        return write

    def _translator(self, session: Any, user: Ref) -> Translator:
        account = queries.account_by_ref(session, user)
        return self.engine.translator(account.language if account else None)

    def _prompt(
        self, session: Any, request: Request, reply: Reply, tr: Translator, form: TextForm | None
    ) -> Reply:
        """Keep what `reply` asks the user, and return it as Zalo shows it: buttons as
        numbered choices, a form as its first question, a rejected form field asked again.
        Any other reply makes an earlier question stale."""
        chat, user, now = request.chat.key, request.user.key, self.clock.now()
        if form is not None and reply.is_error:
            again = form.ask_again(reply.error_field, reply.text)
            if again is not None:
                prompts.put(session, chat, user, "form", again.dumps(), now, now + self.form_keep)
                return Reply(again.question(tr))
        if reply.form is not None:
            started = TextForm(reply.form)
            prompts.put(session, chat, user, "form", started.dumps(), now, now + self.form_keep)
            question = started.question(tr, first=True)
            return Reply(f"{reply.text}\n\n{question}" if reply.text else question)
        if reply.buttons:
            choices = Choices.of(reply.buttons)
            prompts.put(session, chat, user, "choices", choices.dumps(), now, now + CHOICES_KEEP)
            return replace(reply, text=choices.under(reply.text, tr), buttons=())
        prompts.close(session, chat, user, now)
        if now - self._pruned > PRUNE_EVERY:
            prompts.prune(session, now - CHOICES_KEEP)
            self._pruned = now
        return reply

    async def _answer(self, message: ZaloMessage, text: str, delivery: int) -> None:
        """Text that is not a command: a number answers numbered choices, anything else the
        open form's question; with nothing open, a private chat gets the welcome."""
        request = self._request(message, "start")  # for its identities; the command is decided
        chat, user = request.chat.key, request.user.key

        def converse(session: Any) -> tuple[str, TextForm | None] | None:
            """The command to run for this answer (and the form it completes), or None when
            the answer was dealt with here: the next question, an explanation."""
            now = self.clock.now()
            tr = self._translator(session, request.user)
            pending = prompts.get(session, chat, user, now)

            def say(answer: str) -> None:
                hints = {"lang": tr.lang}
                self.outbox.then(request.chat, hints, delivery=delivery)(session, Reply(answer))

            if pending is not None and pending.kind == "form":
                form = TextForm.loads(pending.state)
                if pending.expired or form.is_cancel(text):
                    prompts.close(session, chat, user, now)
                    say(form.form.expired if pending.expired else form.form.cancelled)
                    return None
                form = form.answer(text)
                if not form.done:
                    prompts.put(
                        session, chat, user, "form", form.dumps(), now, now + self.form_keep
                    )
                    say(form.question(tr))
                    return None
                if not form.answers:  # every field left out: nothing to send
                    prompts.close(session, chat, user, now)
                    say(form.form.cancelled)
                    return None
                return f"/{form.form.command} {form_args(form.answers)}", form
            picked = number(text)
            if picked is None:
                return ("/start", None) if not message.chat.is_group else None
            if pending is None or (pending.kind == prompts.CLOSED and pending.expired):
                if not message.chat.is_group:  # in a group a bare number may be for people
                    say(tr._(NOTHING_OPEN))
                return None
            if pending.kind == prompts.CLOSED or pending.expired:
                say(tr._(STALE))
                return None
            choices = Choices.loads(pending.state)
            command = choices.pick(picked)
            if command is None:
                say(choices.wrong(picked, tr))
                return None
            return command, None

        decided = await asyncio.to_thread(self._transaction, converse)
        if decided is None:
            return
        line, form = decided
        parsed = command_line(line)
        assert parsed is not None
        # A form's answers are a message (recorded once); a picked choice is a button press.
        ids = {"message_id": message_key(message)} if form is not None else {}
        await self._ask(self._request(message, *parsed, **ids), delivery, form)

    def _transaction(self, work: Callable[[Any], T]) -> T:
        try:
            with self.db.session() as session:
                return work(session)
        except Exception as error:  # the database is away: the inbox tries again later
            raise Unavailable(str(error)) from error

    # --- sending ----------------------------------------------------------------------------
    async def _send(self, target: Ref, reply: Reply, hints: dict[str, Any]) -> None:
        await self.sender.deliver(target.id, reply, hints.get("lang"))
