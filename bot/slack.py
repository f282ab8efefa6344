"""The Slack adapter: a Bolt `AsyncApp` that only translates between Slack and the engine.

Slash commands `/report`, `/progress`, `/undo` and `/tiendo <any command>` are acknowledged at
once (Slack allows 3 s), then run; the answer goes to the channel or, for personal commands,
ephemerally. A form becomes a modal whose field errors are shown in place; buttons become block
actions; images and files are uploaded with files_upload_v2. Identity is
`slack:<team_id>:<user_id>`."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import SlackConfig
from bot.delivery import ChatUnavailable
from bot.inbox import Inbox
from bot.outbox import Outbox
from bot.tuning import DEFAULT_TUNING, Tuning
from handlers.engine.command import CommandTable
from handlers.engine.dispatch import Engine, Unavailable
from handlers.language.args import command_line, form_args
from handlers.values import Form, Ref, Reply, Request
from storage.inbox import Claimed

log = logging.getLogger(__name__)
BUTTON = re.compile(r"^tiendo_button_\d+$")
FORM = "tiendo_form"
# The inbox's name for what Slack delivers (trigger ids are unique across workspaces).
SOURCE = "slack"
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Slack refuses these for good: the bot is not (or no longer) allowed in that conversation.
GONE = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "account_inactive",
    "user_not_found",
    "cannot_dm_bot",
    "team_access_not_granted",
}


def slash_commands(table: CommandTable) -> list[str]:
    """The topics the table gives their own slash command, and /tiendo for all the rest."""
    return [t.name for t in table.visible_topics() if t.slack_slash] + ["tiendo"]


def mentions_to_refs(text: str, team: str) -> str:
    """`<@U02|lan>` → `slack:T01:U02`: the handlers read people as platform ids, never as one
    platform's mention syntax."""
    return MENTION.sub(lambda match: f"slack:{team}:{match.group(1)}", text)


def unescape(text: str) -> str:
    """Slash command text arrives escaped (the manifest sets should_escape so that mentions
    come as <@U…>); what the user typed as &, < or > comes back as itself."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(reply: Reply) -> list[dict[str, Any]]:
    section: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(reply.text)[:3000]}}
    ]
    if reply.buttons:
        section.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"tiendo_button_{i}",
                        "value": button.command,
                        "text": {"type": "plain_text", "text": button.label[:75]},
                    }
                    for i, button in enumerate(reply.buttons)
                ],
            }
        )
    return section


def modal(form: Form, channel: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": FORM,
        "private_metadata": json.dumps({"channel": channel, "command": form.command}),
        "title": {"type": "plain_text", "text": form.title[:24]},
        "submit": {"type": "plain_text", "text": form.submit[:24]},
        "close": {"type": "plain_text", "text": form.cancel[:24]},
        "blocks": [
            {
                "type": "input",
                "block_id": field.name,
                "optional": True,  # a report needs one number, which the engine checks
                "label": {"type": "plain_text", "text": field.label[:2000]},
                **(
                    {"hint": {"type": "plain_text", "text": field.hint[:2000]}}
                    if field.hint
                    else {}
                ),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": field.kind == "text",
                },
            }
            for field in form.fields
        ],
    }


class ResponseUrlError(Exception):
    """A post to a response_url that Slack did not take (a 5xx, a 429 still refused after its
    retries, an expired URL)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"response_url answered {status}: {body[:200]}")
        self.status = status


class SlackSender:
    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send(self, chat: Ref, reply: Reply) -> None:
        await self._post(chat.id, reply)

    async def send_private(self, user: Ref, reply: Reply) -> None:
        await self._post(user.id, reply)  # posting to a user id opens the app's DM with them

    async def _post(self, channel: str, reply: Reply) -> None:
        try:
            posted = await self.client.chat_postMessage(
                channel=channel, text=reply.text, blocks=blocks(reply)
            )
            await upload(self.client, posted["channel"], reply)
        except SlackApiError as error:
            if error.response.get("error") in GONE:
                raise ChatUnavailable(str(error.response.get("error"))) from error
            raise


async def upload(client: AsyncWebClient, channel: str, reply: Reply) -> None:
    attachments = [(i.name, i.content, i.caption) for i in reply.images] + [
        (f.name, f.content, "") for f in reply.files
    ]
    for name, content, caption in attachments:
        await client.files_upload_v2(
            channel=channel, filename=name, content=content, title=caption or name
        )


class SlackAdapter:
    platform = "slack"

    def __init__(
        self,
        config: SlackConfig,
        engine: Engine,
        inbox: Inbox,
        outbox: Outbox,
        tuning: Tuning = DEFAULT_TUNING,
    ) -> None:
        assert config.bot_token is not None
        self.timeout = tuning.platform_timeout
        self.rate_limit_retries = tuning.rate_limit_retries
        self.config = config
        self.engine = engine
        self.inbox = inbox
        self.outbox = outbox
        inbox.serve(SOURCE, self._handle)
        outbox.serve(self.platform, self._send)
        client = AsyncWebClient(
            token=config.bot_token.get_secret_value(),
            base_url=config.api_base_url,
            timeout=self.timeout,  # type: ignore[arg-type]  # aiohttp takes float seconds
        )
        # Rate-limited calls (HTTP 429) wait for Slack's Retry-After, then go again.
        client.retry_handlers.append(
            AsyncRateLimitErrorRetryHandler(max_retry_count=tuning.rate_limit_retries)
        )
        self.client = client
        self.sender = SlackSender(client)
        self.bolt = AsyncApp(
            signing_secret=config.signing_secret.get_secret_value()
            if config.signing_secret
            else None,
            client=client,
        )
        self._socket: Any = None
        for command in slash_commands(engine.table):
            self.bolt.command(f"/{command}")(self._on_command)
        self.bolt.action(BUTTON)(self._on_button)
        self.bolt.view(FORM)(self._on_form)

    # --- lifecycle ------------------------------------------------------------------------
    def mount(self, web_app: web.Application) -> None:
        if self.config.mode == "http":
            web_app.router.add_post("/slack/events", self._http)

    async def _http(self, request: web.Request) -> web.Response:
        response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def start(self) -> None:
        if self.config.mode == "socket":
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            assert self.config.app_token is not None
            self._socket = AsyncSocketModeHandler(
                self.bolt, self.config.app_token.get_secret_value()
            )
            try:
                # The client retries a failed connect forever, only logging: ask for the first
                # WebSocket URL here so a wrong app token stops the start with Slack's error.
                client = self._socket.client
                client.wss_uri = await client.issue_new_wss_url()
            except BaseException:
                await self.stop()
                raise
            await self._socket.connect_async()

    async def stop(self) -> None:
        if self._socket is None:
            return
        socket, self._socket = self._socket, None
        await socket.close_async()

    # --- receiving: stored, acknowledged, then handled ------------------------------------------
    async def _on_command(self, ack: AsyncAck, command: dict[str, Any]) -> None:
        # Stored before the ack, which Slack needs within 3 s: a command Slack was told we
        # have is in the database. Slack retries nothing for slash commands, so storing
        # fails loudly here and the user sees Slack's error instead of a silent loss.
        key = command.get("trigger_id") or f"{command['channel_id']}:{command.get('text', '')}"
        await self._store("command", f"command:{key}", command["channel_id"], command)
        await ack()

    async def _on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        channel = body.get("channel", {}).get("id") or body["user"]["id"]
        key = body.get("trigger_id") or f"{action.get('action_ts')}:{body['user']['id']}"
        await self._store("button", f"button:{key}", channel, {"body": body, "action": action})
        await ack()

    async def _store(self, kind: str, key: str, channel: str, body: dict[str, Any]) -> None:
        payload = json.dumps({"kind": kind, "body": body})
        await self.inbox.put(SOURCE, [(key, channel, payload)])

    async def _handle(self, delivery: Claimed) -> None:
        stored = json.loads(delivery.payload)
        if stored["kind"] == "command":
            request, hints = self._command(stored["body"])
        else:
            translated = self._button(stored["body"]["body"], stored["body"]["action"])
            if translated is None:
                return
            request, hints = translated
        then = self.outbox.then(request.chat, hints, delivery=delivery.id)
        await asyncio.to_thread(self.engine.handle, request, then)

    def _command(self, command: dict[str, Any]) -> tuple[Request, dict[str, Any]]:
        team, channel = command["team_id"], command["channel_id"]
        text = unescape(mentions_to_refs(command.get("text", ""), team)).strip()
        name = command["command"].lstrip("/")
        if name == "tiendo":
            head, _, text = text.partition(" ")
            name = head.lstrip("/").lower() or "help"
        request = Request(
            user=Ref("slack", team, command["user_id"]),
            chat=Ref("slack", team, channel),
            command=name,
            args=text.strip(),
            user_name=command.get("user_name", ""),
            chat_title=command.get("channel_name", ""),
            is_group=not channel.startswith("D"),
            # The trigger id is unique per invocation: a repeated delivery is recorded once.
            message_id=f"slack:{team}:{command['trigger_id']}"
            if command.get("trigger_id")
            else None,
        )
        return request, self._hints(name, command.get("response_url"), command.get("trigger_id"))

    def _button(
        self, body: dict[str, Any], action: dict[str, Any]
    ) -> tuple[Request, dict[str, Any]] | None:
        parsed = command_line(action.get("value", ""))
        if parsed is None:
            return None
        team = body["team"]["id"]
        channel = body.get("channel", {}).get("id") or body["user"]["id"]
        request = Request(
            user=Ref("slack", team, body["user"]["id"]),
            chat=Ref("slack", team, channel),
            command=parsed[0],
            args=parsed[1],
            user_name=body["user"].get("username", ""),
            is_group=not channel.startswith("D"),
        )
        return request, self._hints(parsed[0], body.get("response_url"), None)

    def _hints(self, name: str, response_url: str | None, trigger_id: str | None) -> dict[str, Any]:
        topic = self.engine.table.topics.get(name)
        return {
            "response_url": response_url,
            "trigger_id": trigger_id,
            "personal": topic is not None and topic.personal,
        }

    async def _on_form(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A modal's submission is answered in its own request (field errors go back in the
        ack), so it is stored claimed by this instance and handled at once; if the database
        fails mid-way, the stored submission is handled later and answered in the channel."""
        meta = json.loads(view.get("private_metadata") or "{}")
        answers = {
            block: values["value"].get("value") for block, values in view["state"]["values"].items()
        }
        team, channel = body["team"]["id"], meta.get("channel") or body["user"]["id"]
        request = Request(
            user=Ref("slack", team, body["user"]["id"]),
            chat=Ref("slack", team, channel),
            command=meta.get("command", "report"),
            args=form_args(answers),
            user_name=body["user"].get("username", ""),
            is_group=not channel.startswith("D"),
            message_id=f"slack:{team}:view:{view['id']}",
        )
        payload = {"kind": "command", "body": _as_command(request, channel)}
        (stored,) = await self.inbox.put(
            SOURCE, [(f"view:{view['id']}", channel, json.dumps(payload))], claim=True
        ) or (None,)
        then = self.outbox.then(
            request.chat, self._hints("report", None, None), delivery=stored, errors=False
        )
        try:
            reply = await asyncio.to_thread(self.engine.handle, request, then)
        except Unavailable:
            if stored is not None:
                await self.inbox.release(stored)
            await ack()
            return
        if reply.is_error:
            field = reply.error_field if reply.error_field in answers else next(iter(answers))
            await ack(response_action="errors", errors={field: reply.text[:150]})
            return
        await ack()

    # --- answering, from the outbox ---------------------------------------------------------------
    async def _send(self, target: Ref, reply: Reply, hints: dict[str, Any]) -> None:
        channel = target.id
        if reply.form is not None and hints.get("trigger_id"):
            await self.client.views_open(
                trigger_id=hints["trigger_id"], view=modal(reply.form, channel)
            )
            return
        response_url = hints.get("response_url")
        if not response_url:
            await self.sender.send(target, reply)
            return
        respond = AsyncWebhookClient(
            response_url,
            timeout=self.timeout,  # type: ignore[arg-type]  # aiohttp takes float seconds
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                AsyncRateLimitErrorRetryHandler(max_retry_count=self.rate_limit_retries),
            ],
        )
        personal = reply.is_error or hints.get("personal", False)
        answered = await respond.send(
            text=reply.text,
            blocks=blocks(reply),
            replace_original=False,
            response_type="ephemeral" if personal else "in_channel",
        )
        # The webhook client returns Slack's refusals instead of raising: one that is not a
        # 200 was not shown, so the outbox must try again rather than mark it sent.
        if answered.status_code != 200:
            raise ResponseUrlError(answered.status_code, answered.body)
        try:
            await upload(self.client, channel, reply)
        except SlackApiError as error:
            await respond.send(
                text=f"⚠️ {error.response.get('error')}",
                response_type="ephemeral",
                replace_original=False,
            )


def _as_command(request: Request, channel: str) -> dict[str, Any]:
    """A form submission stored as the slash command it amounts to, for a later retry."""
    team = request.user.workspace
    return {
        "command": f"/{request.command}",
        "text": request.args,
        "team_id": team,
        "channel_id": channel,
        "user_id": request.user.id,
        "user_name": request.user_name,
        "trigger_id": (request.message_id or "").rpartition(":")[2],
    }
