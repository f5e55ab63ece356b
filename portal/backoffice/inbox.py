"""The inbox: 'Mijn signalen' and 'Alle signalen', with filters that live in the URL.

Also how a signal came in, in words, for the signal page's summary
(templates/backoffice/signal/_submitter.html): the same words as the inbox's filters
"Binnengekomen via" and "Ingediend door"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.signal_deadlines import deadline_rules
from portal.domain.deadlines import load_targets
from portal.domain.inbox import (
    DEADLINE_FILTERS,
    NONE,
    SORTS,
    Deadlines,
    InboxFilter,
    default_scope,
    filter_options,
    search_signals,
)
from portal.extensions import db
from portal.models import Signal
from portal.vocabulary import (
    CHANNEL_LABELS,
    SUBMITTER_KIND_LABELS,
    Channel,
    Kind,
    Status,
    SubmitterKind,
    Theme,
)

DETAIL_ENDPOINT = "backoffice.signal_detail"


@bp.get("/")
@bp.get("/signalen")
@roles_required(*STAFF_ROLES)
def inbox():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    config = current_app.config
    deadlines = current_deadlines()
    options = filter_options(db.session)
    result = search_signals(
        db.session,
        user,
        flt,
        config["BACKOFFICE_PAGE_SIZE"],
        deadlines=deadlines,
        # The form's wijken are in name order already: no second query to sort by wijk.
        wijk_order=[code for code, _name in options.wijken],
    )
    return render_template(
        "backoffice/inbox.html",
        nav=flt.scope,
        flt=flt,
        result=result,
        options=options,
        statuses=list(Status),
        kinds=list(Kind),
        themes=list(Theme),
        sorts=SORTS,
        none_value=NONE,
        deadline_filters=DEADLINE_FILTERS,
        organisation=SubmitterKind.ORGANISATION.value,
        inbox_url=lambda **changes: url_for("backoffice.inbox", **flt.to_args(**changes)),
        figure_filters=figure_filter_texts(flt),
        without_figure_filters=url_for(
            "backoffice.inbox", **flt.to_args(**dict.fromkeys(flt.figure_filters))
        ),
        only_deadline=_only_deadline,
        signal_url=_signal_urls(),
    )


def figure_filter_texts(flt: InboxFilter) -> list[str]:
    """The filters a steering figure's link set, in words: the form has no fields for them."""
    texts = []
    for what, first, last in (
        (_("Eerste reactie"), flt.responded_from, flt.responded_to),
        (_("Afgesloten"), flt.closed_from, flt.closed_to),
    ):
        if first and last:
            texts.append(
                _(
                    "%(what)s van %(first)s tot en met %(last)s",
                    what=what,
                    first=_day(first),
                    last=_day(last),
                )
            )
        elif first:
            texts.append(_("%(what)s vanaf %(first)s", what=what, first=_day(first)))
        elif last:
            texts.append(_("%(what)s tot en met %(last)s", what=what, last=_day(last)))
    if flt.open_on:
        texts.append(_("Open aan het eind van %(day)s", day=_day(flt.open_on)))
    if flt.responded_in_time:
        texts.append(_("Eerste reactie binnen de termijn"))
    if flt.handled_in_time:
        texts.append(_("Afgehandeld binnen de termijn"))
    if flt.satisfied == "yes":
        texts.append(_("De bewoner is tevreden"))
    elif flt.satisfied == "no":
        texts.append(_("De bewoner is niet tevreden"))
    return texts


def _day(day: date) -> str:
    return format_date(day, "long")


def _only_deadline(name: str) -> dict[str, bool]:
    """Changes to the filter that leave this one deadline filter ticked, and no other."""
    return {"overdue": False, **{other: other == name for other in DEADLINE_FILTERS}}


def _signal_urls() -> Callable[[str], str]:
    """reference -> the signal page, for every row of the page: the URL is built once and
    the reference put in (url_for per row cost a millisecond a page)."""
    marker = "REFERENCE"
    if DETAIL_ENDPOINT in current_app.view_functions:
        before, _marker, after = url_for(DETAIL_ENDPOINT, reference=marker).rpartition(marker)
    else:  # a plain path while its view is not registered yet
        before, after = "/backoffice/signalen/", ""
    return lambda reference: f"{before}{quote(reference, safe='')}{after}"


def current_deadlines() -> Deadlines:
    """'Now' for the deadline filters and marks (the inbox, its map)."""
    rules = deadline_rules()
    return Deadlines.at(
        datetime.now(UTC),
        rules.respond_working_days,
        ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
        targets=load_targets(db.session, rules),
    )


@dataclass(frozen=True)
class SubmitterPart:
    """How a signal came in and who sent it, in the page's language."""

    channel: str  # "Binnengekomen via"
    registrar: str | None  # "Geregistreerd door": the staff member who registered it
    submitter: str  # "Ingediend door": Inwoner / Organisatie of bedrijf
    # The organisation's own details (not a resident's personal data: every colleague who
    # may open the signal sees them; its contact person stays with the contact details).
    organisation_name: str | None
    kvk_number: str | None


def submitter_part(signal: Signal) -> SubmitterPart:
    reporter = signal.reporter
    return SubmitterPart(
        channel=_label(CHANNEL_LABELS, Channel, signal.channel),
        registrar=signal.registered_by.name if signal.registered_by else None,
        submitter=_label(SUBMITTER_KIND_LABELS, SubmitterKind, signal.submitter_kind),
        organisation_name=reporter.organisation_name if reporter else None,
        kvk_number=reporter.kvk_number if reporter else None,
    )


def _label(labels: Mapping[Any, str], kind: type[StrEnum], value: str) -> str:
    try:
        return _(labels[kind(value)])
    except (KeyError, ValueError):
        return value  # a code from a later version: shown as it is


@bp.context_processor
def _submitter_globals() -> dict[str, object]:
    # A function, not its result: nothing is read on pages that do not use it.
    return {"submitter_part": submitter_part}
