"""The translation catalogues without Flask: for texts written in the resident's language
inside operations and mail (flask_babel translates into the language of the current request,
which is the staff member's)."""

from __future__ import annotations

from functools import cache

from babel.support import NullTranslations, Translations

from portal.paths import resource_dir


@cache
def translations(locale: str) -> NullTranslations:
    """Falls back to the Dutch source texts when the locale has no compiled catalogue."""
    return Translations.load(str(resource_dir("translations")), [locale or "nl"], domain="messages")


def gettext_in(locale: str, text: str) -> str:
    return translations(locale).gettext(text)
