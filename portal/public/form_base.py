"""The base of every public form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField
from wtforms.i18n import messages_path


def strip_text(value: str | None) -> str | None:
    """A field filter: what was typed, without the spaces around it."""
    return value.strip() if isinstance(value, str) else value


def _without_nul(value: object) -> object:
    # PostgreSQL refuses text with NUL characters; no person types one, so drop them.
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


@lru_cache(maxsize=8)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):  # type: ignore[no-untyped-def]
            # A new list per binding: the class's own field definitions stay untouched.
            filters = [_without_nul, *(unbound_field.kwargs.get("filters") or ())]
            return unbound_field.bind(form=form, filters=filters, **options)

        def get_translations(self, form):  # type: ignore[no-untyped-def]
            # WTForms' own messages in the visitor's language. Flask-WTF reads the catalogue
            # from disk once per request; it never changes while the process runs.
            return _wtforms_translations(str(get_locale()))

    def error_summary(
        self, extra: Mapping[str, Sequence[str]] | None = None
    ) -> list[tuple[str, str]]:
        """(anchor, message) pairs in field order for the error summary at the top; a radio
        or checkbox group is linked through its first option. ``extra`` adds messages the
        view found (by field name), listed with that field."""
        summary: list[tuple[str, str]] = []
        for field in self:
            if field.type == "CSRFTokenField":
                continue
            grouped = isinstance(field, RadioField | SelectMultipleField)
            anchor = f"{field.id}-0" if grouped else field.id
            messages = [*(extra or {}).get(field.name, ()), *map(str, field.errors)]
            summary += [(anchor, message) for message in messages]
        return summary
