"""Every user-facing message has a Vietnamese translation with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from babel.messages.catalog import Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import bot
import handlers
from handlers.language.i18n import LOCALES, Catalogs

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def extracted() -> dict[str, tuple[str, str]]:
    """msgid → (all source forms joined, where it is used), for every message in handlers/
    and bot/ (digests and notices are written there)."""
    found: dict[str, tuple[str, str]] = {}
    for package in (handlers, bot):
        root = Path(package.__file__).parent
        for filename, lineno, message, _comments, _context in extract_from_dir(
            root, keywords=KEYWORDS, comment_tags=()
        ):
            forms = message if isinstance(message, tuple) else (message,)
            found.setdefault(forms[0], (" ".join(forms), f"{root.name}/{filename}:{lineno}"))
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def translations(message: Message | None) -> list[str]:
    if message is None or message.fuzzy:
        return []
    values = message.string if isinstance(message.string, tuple) else (message.string,)
    return list(values) if all(values) else []


def test_every_message_is_translated_to_vietnamese() -> None:
    with (LOCALES / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    missing, broken = [], []
    for msgid, (source, where) in extracted().items():
        translated = translations(catalog.get(msgid))
        if not translated:
            missing.append(f"{where}: {msgid!r}")
        broken.extend(
            f"{where}: {msgid!r} → {t!r}" for t in translated if fields(t) - fields(source)
        )
    assert not missing, "untranslated:\n" + "\n".join(missing)
    assert not broken, "placeholders differ:\n" + "\n".join(broken)


def test_translations_are_used() -> None:
    vi = Catalogs().translator("vi")
    assert vi._("Teams reported today: {reported}/{count}", reported=3, count=5) != (
        "Teams reported today: 3/5"
    )
    assert Catalogs().translator("xx").lang == "vi"  # unknown language: the default


# Where the shell and the CLI talk to the person at the terminal. Messages about the config
# file itself (printed before or instead of building the app: a bad file, missing tokens, the
# Slack manifest's options) stay in English, as the config file's keys and comments are.
SPEAKERS = {"say", "echo"}
CONFIG_MESSAGES = {"_config", "run", "slack_manifest"}


def untranslated_output(path: Path) -> list[str]:
    """Each `say(…)`/`typer.echo(…)` in the file whose text has a word not passed through the
    catalog (`tr._(…)`)."""
    tree = ast.parse(path.read_text("utf-8"))
    found: list[str] = []

    def literal_words(node: ast.AST) -> bool:
        if isinstance(node, ast.Call):  # tr._("…"), ", ".join(…): not a bare literal
            return False
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and re.search(r"[^\W\d_]{2}", node.value) is not None
        return any(literal_words(child) for child in ast.iter_child_nodes(node))

    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef) or function.name in CONFIG_MESSAGES:
            continue
        for call in ast.walk(function):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr in SPEAKERS
                and call.args
                and literal_words(call.args[0])
            ):
                found.append(f"{path.name}:{call.lineno}: {ast.unparse(call.args[0])}")
    return found


def test_the_shell_and_the_cli_speak_through_the_catalog() -> None:
    root = Path(bot.__file__).parent
    found = [line for name in ("shell.py", "cli.py") for line in untranslated_output(root / name)]
    assert not found, "English at the terminal:\n" + "\n".join(found)
    # Their messages are in handlers/ and bot/, so the test above holds them to a translation.
    vi = Catalogs().translator("vi")
    from bot.shell import HELP

    assert ":tap <n>" in vi._(HELP) and vi._(HELP) != HELP
