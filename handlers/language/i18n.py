"""Translations (Babel message catalogs) and locale-aware formatting for one reader.

Message ids are English; `handlers/locales/vi/LC_MESSAGES/messages.po` translates them. The
catalog is compiled in memory when the engine starts, so no generated `.mo` file is committed."""

from __future__ import annotations

import gettext
from datetime import date
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_percent
from babel.support import Translations

from handlers.language import dates, numbers

LANGUAGES = ("vi", "en")
LOCALES = Path(__file__).parent.parent / "locales"


def load_translations(lang: str, locales: Path = LOCALES) -> gettext.NullTranslations:
    po = locales / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()  # English is the source language
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


class Translator:
    """Everything language-dependent a handler needs: text and number/date formats."""

    def __init__(
        self, lang: str, translations: gettext.NullTranslations, catalogs: Catalogs
    ) -> None:
        self.lang = lang
        self._translations = translations
        self._catalogs = catalogs

    def switched(self, lang: str) -> Translator:
        return self._catalogs.translator(lang)

    def _(self, message: str, /, **params: object) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        return self._translations.ngettext(singular, plural, n).format(n=n, **params)

    # Totals are float sums: round away binary noise (0.1 + 0.2) before showing them.
    def number(self, value: float) -> str:
        return numbers.format_number(round(value, 6), self.lang)

    def amount(self, value: float, unit: str, *, compact: bool = False) -> str:
        return numbers.format_amount(round(value, 6), unit, self.lang, compact=compact)

    def date(self, day: date) -> str:
        return dates.format_date(day, self.lang)

    def short_date(self, day: date) -> str:
        return dates.format_short_date(day, self.lang)

    def percent(self, ratio: float) -> str:
        return format_percent(ratio, format="#,##0.#%", locale=self.lang)


class Catalogs:
    """The loaded catalogs, built once by the composition root and shared by every request."""

    def __init__(self, locales: Path = LOCALES) -> None:
        self._translations = {lang: load_translations(lang, locales) for lang in LANGUAGES}

    def translator(self, lang: str) -> Translator:
        lang = lang if lang in self._translations else LANGUAGES[0]
        return Translator(lang, self._translations[lang], self)
