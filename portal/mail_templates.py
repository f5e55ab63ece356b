"""Renders mail from ``templates/mail`` with plain Jinja and Babel, so domain operations can
write mail without a Flask request (and in the resident's language, not the staff's).

Every mail has a text and an HTML part with the same content: both extend a layout
(``layout.txt`` / ``layout.html``) that adds the header, the greeting and the sign-off. The
templates see the mail's ``locale`` and ``subject`` (rendered first), so the layout can put
``lang`` on the HTML and use the subject as the mail's title and heading."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from jinja2 import Environment, FileSystemLoader, select_autoescape

from portal import catalogue, vocabulary
from portal.domain.mail import RenderedMail
from portal.paths import resource_dir

TIMEZONE = "Europe/Amsterdam"
# How much of a resident's own description a mail to them repeats (staff mail has it whole).
EXCERPT_CHARS = 600


class JinjaMailRenderer:
    def __init__(self, organisation: str) -> None:
        self.organisation = organisation
        self._lock = threading.Lock()
        self._envs: dict[str, Environment] = {}

    def render(self, template: str, locale: str, **context: object) -> RenderedMail:
        env = self._environment(locale)
        context = {"organisation": self.organisation, "locale": locale, **context}
        subject = " ".join(env.get_template(f"{template}.subject.txt").render(context).split())
        context["subject"] = subject
        return RenderedMail(
            subject=subject,
            text=tidy_text(env.get_template(f"{template}.txt").render(context)),
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
        # Templates change with a deploy, which restarts the process: no stat() per render.
        auto_reload=False,
    )
    translations = catalogue.translations(locale)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        kind_names=vocabulary.KIND_NAMES,
        # Resident mail says "Probleem" as the form did; staff mail keeps "Knelpunt".
        resident_kind_names=vocabulary.RESIDENT_KIND_NAMES,
        theme_labels=vocabulary.THEME_LABELS,
        status_labels=vocabulary.STATUS_LABELS,
    )
    env.filters["datetime"] = lambda value: _format(value, locale)
    env.filters["date"] = lambda value: format_day(value, locale)
    env.filters["excerpt"] = excerpt
    env.filters["paragraphs"] = paragraphs
    env.filters["form_photo_count"] = form_photo_count
    # "Schoon, Veilig": codes as their translated labels (theme_codes | labels(theme_labels)).
    env.filters["labels"] = lambda codes, names: ", ".join(
        translations.gettext(names[code]) for code in codes if code in names
    )
    return env


def _format(value: datetime, locale: str) -> str:
    return format_datetime(value, "d MMMM y HH:mm", tzinfo=TIMEZONE, locale=locale)


def format_day(value: date | datetime, locale: str) -> str:
    """'4 december 2026'; a moment (naive ones are UTC, as stored) counts in Hilversum's day."""
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM y", tzinfo=TIMEZONE, locale=locale)
    return format_date(value, "d MMMM y", locale=locale)


def _plain_lines(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def excerpt(text: str | None, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters, cut after a whole word and ended with "…"; line breaks
    stay as they were."""
    text = _plain_lines(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    # Cut after the last whole word, unless that throws most of the text away.
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" \t\n.,;:!?-–") + "…"


def paragraphs(text: str | None) -> list[list[str]]:
    """The paragraphs of a text someone wrote (split at blank lines), each a list of its
    lines, for HTML: a <p> per paragraph and a <br> between its lines."""
    blocks = re.split(r"\n[ \t]*\n", _plain_lines(text))
    return [[line.rstrip() for line in block.split("\n")] for block in blocks if block.strip()]


def form_photo_count(signal: object) -> int:
    """The photos sent with the form (later ones belong to a resident's message)."""
    attachments = getattr(signal, "attachments", None) or []
    return sum(1 for a in attachments if getattr(a, "event_id", None) is None)


def tidy_text(text: str) -> str:
    """The text part without the gaps that leaving out optional lines makes: no trailing
    spaces, never more than one empty line in a row, one newline at the end."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"
