"""The composition root and the layering it promises (docs/architecture.md): one `build` for
everything that runs, SQL only in storage/, handlers free of platform libraries."""

from __future__ import annotations

import ast
import io
from pathlib import Path

from pydantic import SecretStr

from bot.app import build
from bot.config import Config, SlackConfig, TelegramConfig
from bot.shell import Shell
from handlers.clock import FixedClock
from storage.db import Database

ROOT = Path(__file__).parent.parent


def imports(folder: str) -> dict[str, set[str]]:
    """Every module each file of `folder` imports (at any depth of the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_bot_has_no_sql() -> None:
    offending = {
        path: sorted(n for n in names if n.split(".")[0] in ("sqlmodel", "sqlalchemy"))
        + sorted(n for n in names if n == "storage.models")
        for path, names in imports("bot").items()
    }
    assert {path: names for path, names in offending.items() if names} == {}


def test_handlers_import_no_platform_library_and_write_no_query() -> None:
    platform_libraries = ("telegram", "slack_bolt", "slack_sdk", "aiohttp", "apscheduler", "bot")
    for path, names in imports("handlers").items():
        assert not {n for n in names if n.split(".")[0] in platform_libraries}, path
        # The open unit of work is passed around (Session) and races are told apart
        # (sqlalchemy.exc); queries are named functions of storage/.
        database = {n for n in names if n.split(".")[0] in ("sqlmodel", "sqlalchemy")}
        assert database <= {"sqlmodel", "sqlalchemy.exc"}, path
        source = (ROOT / path).read_text("utf-8")
        assert "select(" not in source and "update(" not in source, path


# Which handlers/ layers a layer may import: plain values at the top of handlers/, then the
# language, then the engine and the read models (side by side), then the commands.
LAYERS = {
    "": {""},
    "language": {"", "language"},
    "engine": {"", "language", "engine"},
    "read": {"", "language", "read"},
    "commands": {"", "language", "engine", "read", "commands"},
}


def test_no_import_runs_upward_in_handlers() -> None:
    def layer(module: str) -> str:
        parts = module.split(".")  # handlers.read.digest, handlers.read (a package import)
        return parts[1] if len(parts) > 1 and parts[1] in LAYERS else ""

    for path, names in imports("handlers").items():
        here = layer(path.removesuffix(".py").replace("/", "."))
        used = {layer(n) for n in names if n.startswith("handlers.")}
        assert used <= LAYERS[here], f"{path} ({here or 'values'}) imports from {used}"


def test_the_shell_shows_the_telegram_invite_link_when_a_bot_is_configured(
    db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    telegram = TelegramConfig(token=SecretStr("123:abc"), username="tiendo_bsd_bot")
    app = build(Config(telegram=telegram), clock=clock, db=db, superadmins=("shell:admin",))
    out = io.StringIO()
    shell = Shell(app.engine, tmp_path, out, lambda _prompt: None)
    for line in ('/campaign new road "Đường"', '/team add t1 "Tổ 1"', "/invite t1"):
        shell.feed(line)
    code = out.getvalue().split("/join ")[-1].split()[0]
    assert f"https://t.me/tiendo_bsd_bot?start={code}" in out.getvalue()


def test_build_makes_the_enabled_adapters_and_routes_the_outbox_to_them(
    db: Database, clock: FixedClock
) -> None:
    config = Config(
        telegram=TelegramConfig(token=SecretStr("123:abc")),
        slack=SlackConfig(bot_token=SecretStr("xoxb-1"), signing_secret=SecretStr("s")),
    )
    assert build(config, clock=clock, db=db).adapters == ()  # the shell and the CLI run none
    app = build(config, clock=clock, db=db, adapters=True)
    assert sorted(a.platform for a in app.adapters) == ["slack", "telegram"]
    assert sorted(app.senders.senders) == ["slack", "telegram"]
    # Every adapter answers from the one outbox and takes deliveries from the one inbox…
    assert sorted(app.outbox._answers) == ["slack", "telegram"]
    assert sorted(app.inbox._handlers) == ["slack", "telegram:123"]
    # …and the digest services send through the same routes.
    assert app.digests.senders is app.senders and app.reminders.senders is app.senders
