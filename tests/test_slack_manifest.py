"""The Slack app manifest: the committed files are the generator's output, it names exactly the
slash commands the adapter registers, and its scopes cover every Web API method the adapter
really calls. Also: the escaped mentions it asks Slack for resolve to users."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from typer.testing import CliRunner

from bot.app import build
from bot.cli import cli
from bot.config import AdminsConfig, Config, SlackConfig
from bot.slack import mentions_to_refs
from bot.slack_manifest import PLACEHOLDER_URL, manifest, render
from handlers.clock import FixedClock
from handlers.values import Ref, Reply, Request
from storage.db import Database
from tests.fakes.slack_api import BOT_TOKEN, CHANNEL_ID, TEAM_ID
from tests.test_slack_socket import BOB, running, set_up

BOT = Path(__file__).parent.parent / "bot"
# Slack's documented bot scope for each Web API method (None: none needed). A method the
# adapter starts calling fails the coverage test until its scope is added here and, if
# needed, to the manifest.
SCOPE_OF: dict[str, str | None] = {
    "auth.test": None,
    "apps.connections.open": None,  # the app-level token's connections:write, not a bot scope
    "views.open": None,
    "chat.postMessage": "chat:write",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}


def cli_output(*args: str) -> str:
    result = CliRunner().invoke(cli, ["slack-manifest", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def all_urls(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [u for k, v in data.items() for u in ([v] if "url" in k else all_urls(v))]
    if isinstance(data, list):
        return [u for v in data for u in all_urls(v)]
    return []


def test_the_committed_manifests_are_the_generators_output() -> None:
    http = (BOT / "slack_manifest.json").read_text("utf-8")
    socket = (BOT / "slack_manifest_socket.json").read_text("utf-8")
    assert http == render(manifest(PLACEHOLDER_URL)) == cli_output("--url", PLACEHOLDER_URL)
    assert socket == render(manifest(None)) == cli_output("--socket")


def test_http_mode_sends_everything_to_slack_events() -> None:
    data = json.loads(cli_output("--url", "https://bot.example.org/"))
    assert data["settings"]["socket_mode_enabled"] is False
    assert set(all_urls(data)) == {"https://bot.example.org/slack/events"}
    assert len(all_urls(data)) == len(data["features"]["slash_commands"]) + 1  # + interactivity
    assert "event_subscriptions" not in data["settings"]  # the adapter handles no events


def test_socket_mode_needs_no_url() -> None:
    data = manifest(None)
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"] == {"is_enabled": True}
    assert all_urls(data) == []


@pytest.mark.parametrize(
    "args", [[], ["--url", "http://bot.example.org"], ["--url", "https://x.org", "--socket"]]
)
def test_the_command_wants_one_https_url_or_socket(args: list[str]) -> None:
    result = CliRunner().invoke(cli, ["slack-manifest", *args])
    assert result.exit_code == 2 and result.stdout == ""


def test_the_manifest_has_exactly_the_commands_the_adapter_registers(
    monkeypatch: pytest.MonkeyPatch, db: Database, clock: FixedClock
) -> None:
    registered: list[str] = []
    command = AsyncApp.command

    def spy(app: AsyncApp, name: str, *args: Any, **kwargs: Any) -> Any:
        registered.append(name)
        return command(app, name, *args, **kwargs)

    monkeypatch.setattr(AsyncApp, "command", spy)
    slack = SlackConfig(bot_token=SecretStr(BOT_TOKEN), signing_secret=SecretStr("s"))
    build(Config(slack=slack), clock=clock, db=db, adapters=True)
    commands = manifest(PLACEHOLDER_URL)["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(registered)
    # Escaped, so that a typed @name arrives as the user id (see the test below).
    assert all(c["should_escape"] for c in commands)
    assert all(c["description"] and c["usage_hint"] for c in commands)
    assert "commands" in manifest(None)["oauth_config"]["scopes"]["bot"]


async def test_the_scopes_cover_the_methods_the_adapter_calls(
    db: Database, clock: FixedClock
) -> None:
    """Every path that reaches the Web API: Bolt's start, a modal, its submission, an export
    upload, a direct message."""
    async with running(db, clock) as (slack, runtime):
        await set_up(slack)
        await slack.deliver(slack.payloads.slash_command(command="/report", text="", user_id=BOB))
        (view,) = await slack.fake.wait_for(lambda: slack.fake.views or None)
        state = {"households": {"value": {"type": "plain_text_input", "value": "3"}}}
        submission = slack.payloads.view_submission(
            "tiendo_form", state, private_metadata=view["private_metadata"], user_id=BOB
        )
        await slack.deliver(submission)
        await slack.fake.wait_for_message(CHANNEL_ID, contains="#1")
        await slack.command("export xlsx")
        await slack.fake.wait_for(lambda: slack.fake.uploads)
        (adapter,) = runtime.adapters
        await adapter.sender.send_private(Ref("slack", TEAM_ID, BOB), Reply("📣"))
        called = {c.method for c in slack.fake.calls}
    assert called == set(SCOPE_OF)  # every path above was taken
    needed = {SCOPE_OF[method] for method in called} - {None}
    assert needed <= set(manifest(None)["oauth_config"]["scopes"]["bot"])


def test_escaped_mentions_resolve_with_or_without_the_name(db: Database, clock: FixedClock) -> None:
    """The adapter turns a mention into a platform id before the request reaches handlers."""
    config = Config(admins=AdminsConfig(superadmins=[f"slack:{TEAM_ID}:U01"]))
    engine = build(config, clock=clock, db=db).engine

    def say(user: str, command: str, args: str = "") -> Reply:
        return engine.handle(
            Request(
                user=Ref("slack", TEAM_ID, user),
                chat=Ref("slack", TEAM_ID, CHANNEL_ID),
                command=command,
                args=mentions_to_refs(args, TEAM_ID),
                user_name=user.lower(),
                is_group=True,
                language="en",
            )
        )

    assert not say("U01", "campaign", 'new road "Road"').is_error
    assert not say("U02", "start").is_error  # lan has met the bot
    for mention in ("<@U02|lan>", "<@U02>"):
        promoted = say("U01", "role", f"{mention} leader")
        assert not promoted.is_error and f"slack:{TEAM_ID}:U02" in promoted.text
        revoked = say("U01", "role", f"revoke {mention}")
        assert not revoked.is_error, revoked.text
    # Someone who never talked to the bot gets a role that waits for their first message.
    waiting = say("U01", "role", "<@U99|ghost> leader")
    assert not waiting.is_error and f"slack:{TEAM_ID}:U99 will be leader" in waiting.text
