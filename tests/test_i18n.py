"""Every user-facing message has a Vietnamese translation with the same placeholders."""

from __future__ import annotations

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
