"""Translations from gettext catalogs (.po read at start, no compile step) and localized dates."""

from __future__ import annotations

import io
from datetime import datetime
from functools import cache
from importlib import resources

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations


@cache
def translations_for(language: str) -> Translations:
    """Every .po file of the language merged into one catalog; English is the source language."""
    merged = Translations()
    folder = resources.files("fedblog") / "locales" / language / "LC_MESSAGES"
    if not folder.is_dir():
        return merged
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        catalog = read_po(io.BytesIO(entry.read_bytes()), locale=language)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        loaded = Translations(buffer)
        merged.merge(loaded)
        merged.plural = loaded.plural  # French counts 0 as singular, unlike the default
    return merged


Moment = datetime  # the name `datetime` is a method of I18n below


class I18n:
    """What templates and services need for one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.translations = translations_for(language)

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def date(self, moment: datetime | None) -> str:
        """'21 février 2012' / 'February 21, 2012'."""
        return "" if moment is None else format_date(moment, format="long", locale=self.locale)

    def datetime(self, moment: datetime | None) -> str:
        return "" if moment is None else format_datetime(moment, format="medium", locale=self.locale)

    def month(self, moment: Moment) -> str:
        """'février 2012' / 'February 2012'."""
        return format_date(moment, format="LLLL y", locale=self.locale)
