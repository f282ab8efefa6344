"""The Slack app manifest (SPEC §6): what a workspace admin pastes into api.slack.com/apps →
Create New App → From a manifest, so the app exists in one step with the right commands,
scopes and URLs. JSON, which Slack accepts as well as YAML, so no YAML library is needed.

`bot/slack_manifest.json` and `bot/slack_manifest_socket.json` are this module's output
(`tiendo slack-manifest`), committed so an admin can copy them without installing anything."""

from __future__ import annotations

import json
from typing import Any

from handlers.commands.table import build_table
from handlers.engine.command import CommandTable

PLACEHOLDER_URL = "https://tiendo.example.org"
EVENTS_PATH = "/slack/events"  # where SlackAdapter.mount serves Bolt in HTTP mode

# Each bot scope with what the adapter needs it for. The other Web API methods it calls,
# auth.test and views.open, need none; nor do answers posted to a response_url.
BOT_SCOPES = (
    "commands",  # the slash commands
    # chat.postMessage: digests, reminders, a submitted form's confirmation, and direct
    # messages (posted to the user's id, they land in the app's Messages tab).
    "chat:write",
    # chat.postMessage into public channels the bot was never invited to: slash commands,
    # and so `/digest here`, work in any channel, the bot's later posts must too.
    "chat:write.public",
    # files_upload_v2 (files.getUploadURLExternal, files.completeUploadExternal): charts
    # and exports.
    "files:write",
)


def slash_commands(table: CommandTable) -> list[dict[str, str]]:
    """The commands SlackAdapter registers: the table's topics with their own slash command,
    then /tiendo for every command, with English descriptions and usage hints."""
    own = [t for t in table.visible_topics() if t.slack_slash]
    commands = [
        {
            "command": f"/{topic.name}",
            "description": topic.summary,
            "usage_hint": " · ".join(
                c.usage.removeprefix(f"/{topic.name}").strip() for c in table.of_topic(topic.name)
            ),
        }
        for topic in own
    ]
    others = [t.name for t in table.visible_topics() if not t.slack_slash]
    commands.append(
        {
            "command": "/tiendo",
            "description": "Every tiendo command; /tiendo help lists the ones you may use",
            "usage_hint": "<command> [arguments]: " + " · ".join(others),
        }
    )
    return commands


def manifest(url: str | None) -> dict[str, Any]:
    """The manifest for HTTP mode, Slack posting everything to `url` + /slack/events, or for
    Socket Mode (no URLs at all) when `url` is None."""
    events = None if url is None else url.rstrip("/") + EVENTS_PATH
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "tiendo",
            "description": "Field reports, running totals and daily digests for "
            "mass-mobilisation campaigns.",
            "background_color": "#1d4e89",
        },
        "features": {
            # The Messages tab carries the bot's direct messages; it stays writable so people
            # can run the slash commands privately there.
            "app_home": {
                "home_tab_enabled": False,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "tiendo", "always_online": True},
            # should_escape: Slack turns a typed @name into <@U…|name>, the user id that
            # /role needs (handlers/access.py); a bare @name could not be resolved.
            "slash_commands": [
                command | ({"url": events} if events else {}) | {"should_escape": True}
                for command in slash_commands(build_table())
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            # Buttons (Undo, confirm) and the report modal's submissions. No event
            # subscriptions: the adapter handles no events.
            "interactivity": {"is_enabled": True} | ({"request_url": events} if events else {}),
            "org_deploy_enabled": False,
            "socket_mode_enabled": url is None,
            "token_rotation_enabled": False,
        },
    }


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
