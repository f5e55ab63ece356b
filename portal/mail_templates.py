"""Renders mail from ``templates/mail`` with plain Jinja and Babel, so domain operations can
write mail without a Flask request (and in the resident's language, not the staff's)."""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cache

from babel.dates import format_datetime
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal import vocabulary
from portal.domain.mail import RenderedMail
from portal.paths import resource_dir

TIMEZONE = "Europe/Amsterdam"


class JinjaMailRenderer:
    def __init__(self, organisation: str) -> None:
        self.organisation = organisation
        self._lock = threading.Lock()
        self._envs: dict[str, Environment] = {}

    def render(self, template: str, locale: str, **context: object) -> RenderedMail:
        env = self._environment(locale)
        context = {"organisation": self.organisation, **context}
        subject = env.get_template(f"{template}.subject.txt").render(context)
        return RenderedMail(
            subject=" ".join(subject.split()),
            text=env.get_template(f"{template}.txt").render(context),
            html=env.get_template(f"{template}.html").render(context),
        )

    def _environment(self, locale: str) -> Environment:
        with self._lock:
            if locale not in self._envs:
                self._envs[locale] = _make_environment(locale)
            return self._envs[locale]


def _make_environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(resource_dir("templates") / "mail")),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(_translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        kind_names=vocabulary.KIND_NAMES,
        theme_labels=vocabulary.THEME_LABELS,
        status_labels=vocabulary.STATUS_LABELS,
    )
    env.filters["datetime"] = lambda value: _format(value, locale)
    return env


@cache
def _translations(locale: str) -> Translations:
    return Translations.load(str(resource_dir("translations")), [locale], domain="messages")


def _format(value: datetime, locale: str) -> str:
    return format_datetime(value, "d MMMM y HH:mm", tzinfo=TIMEZONE, locale=locale)
