"""Exporting an inbox list as CSV (issue 13): the page says what the file will hold and asks
how to write it; the file is streamed as it is read, so a list of 100,000 signals never sits
in memory. UTF-8 with a BOM (Excel then reads the accents), a comma or - for Dutch Excel - a
semicolon between the fields, dates in ISO 8601. No personal data unless an admin uses the
form for it and says why; that export is in the audit trail, with the filter, not the data."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, roles_required
from portal.backoffice.inbox import current_deadlines, figure_filter_texts
from portal.domain import audit
from portal.domain.inbox import Deadlines, InboxFilter, default_scope
from portal.domain.inbox.export import ExportedSignal, exported_signals
from portal.domain.inbox.search import list_count
from portal.domain.working_days import LOCAL_TIMEZONE
from portal.extensions import db
from portal.models import Role, User
from portal.public.form_base import PortalForm, strip_text
from portal.vocabulary import (
    CHANNEL_LABELS,
    KIND_NAMES,
    STAFF_STATUS_LABELS,
    SUBMITTER_KIND_LABELS,
    THEME_LABELS,
)

AUDIT_ACTION = "export.personal_data"
REASON_MAX = 500
# A cell Excel or LibreOffice would read as a formula (CSV injection, OWASP): written with a
# leading apostrophe, which they show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportForm(PortalForm):
    """The file without personal data: a GET form, nothing changes (management may too)."""

    class Meta:
        csrf = False

    separator = RadioField(
        _l("Scheidingsteken"),
        choices=[
            SelectChoice(",", _l("Komma (standaard CSV)")),
            SelectChoice(";", _l("Puntkomma (Excel in het Nederlands)")),
        ],
        default=";",
    )


class PersonalExportForm(PortalForm):
    """With the reporters' details: admins only, with a reason for the audit trail."""

    separator = ExportForm.separator
    reason = TextAreaField(
        _l("Waarom heeft u de gegevens van de melders nodig?"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf op waarom u de gegevens van de melders nodig heeft.")),
            Length(max=REASON_MAX, message=_l("Schrijf het in hooguit 500 tekens.")),
        ],
    )


@bp.get("/export", endpoint="inbox_export")
@roles_required(*STAFF_ROLES)
def inbox_export():  # type: ignore[no-untyped-def]
    return _export_page(ExportForm(prefix="csv"), PersonalExportForm())


@bp.get("/export/signalen.csv", endpoint="inbox_export_csv")
@roles_required(*STAFF_ROLES)
def inbox_export_csv():  # type: ignore[no-untyped-def]
    form = ExportForm(request.args, prefix="csv")
    separator = form.separator.data if form.validate() else ";"
    return _file(separator, personal=False)


@bp.post("/export", endpoint="inbox_export_personal")
@roles_required(Role.ADMIN)
def inbox_export_personal():  # type: ignore[no-untyped-def]
    form = PersonalExportForm()
    if not form.validate_on_submit():
        return _export_page(ExportForm(prefix="csv"), form, code=422)
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    audit.record(
        db.session, AUDIT_ACTION, actor_id=user.id, reason=form.reason.data, filter=flt.to_args()
    )
    db.session.commit()
    return _file(form.separator.data, personal=True)


def _export_page(plain: ExportForm, personal: PersonalExportForm, code: int = 200):  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    return render_template(
        "backoffice/export.html",
        nav=flt.scope,
        plain=plain,
        personal=personal if user.role == Role.ADMIN else None,
        flt=flt,
        count=list_count(db.session, user, flt, current_deadlines()),
        narrowed=figure_filter_texts(flt),
        back=url_for("backoffice.inbox", **flt.to_args()),
        errors=personal.error_summary(),
    ), code


def _file(separator: str, *, personal: bool) -> Response:
    """The list of this request's filter, streamed. Everything the lines need is fixed here,
    in the request: the words in the page's language, the engine, the user's id. The lines
    are written after the view has returned, in a session of their own."""
    user = current_user._get_current_object()
    flt = InboxFilter.from_args(request.args, default_scope=default_scope(user))
    words = Words.now(personal)
    rows = _streamed(db.engine(), user.id, flt, current_deadlines(), personal)
    today = datetime.now(UTC).date().isoformat()
    name = f"signalen-{today}{'-met-persoonsgegevens' if personal else ''}.csv"
    response = Response(csv_lines(rows, words, separator=separator), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _streamed(
    engine: Engine, user_id: int, flt: InboxFilter, deadlines: Deadlines, personal: bool
) -> Iterator[ExportedSignal]:
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is not None:
            yield from exported_signals(session, user, flt, deadlines, personal=personal)


@dataclass(frozen=True)
class Words:
    """The file's words in the page's language."""

    header: list[str]
    kinds: dict[str, str]
    themes: dict[str, str]
    statuses: dict[str, str]
    submitters: dict[str, str]
    channels: dict[str, str]
    yes: str
    no: str
    personal: bool

    @classmethod
    def now(cls, personal: bool) -> Words:
        def labels(mapping: Mapping[Any, str]) -> dict[str, str]:
            return {code.value: str(_(label)) for code, label in mapping.items()}

        return cls(
            header=header(personal),
            kinds=labels(KIND_NAMES),
            themes=labels(THEME_LABELS),
            statuses=labels(STAFF_STATUS_LABELS),
            submitters=labels(SUBMITTER_KIND_LABELS),
            channels=labels(CHANNEL_LABELS),
            yes=_("ja"),
            no=_("nee"),
            personal=personal,
        )


def csv_lines(rows: Iterable[ExportedSignal], words: Words, *, separator: str) -> Iterator[str]:
    """The file, line by line: a BOM, the header, one line per signal."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")

    def line(values: Iterable[object]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield "\ufeff" + line(words.header)
    for row in rows:
        yield line(cells(row, words))


def header(personal: bool) -> list[str]:
    names = [
        _("Meldnummer"),
        _("Soort"),
        _("Thema's"),
        _("Titel"),
        _("Status"),
        _("Wijk"),
        _("Buurt"),
        _("Straat"),
        _("Postcode"),
        _("Ingediend door"),
        _("Binnengekomen via"),
        _("Organisatie"),
        _("KvK-nummer"),
        _("Eigenaar"),
        _("Binnengekomen op"),
        _("Eerste reactie op"),
        _("Afgesloten op"),
        _("Reactie uiterlijk"),
        _("Afhandelen uiterlijk"),
        _("Reactie binnen de termijn"),
        _("Afgehandeld binnen de termijn"),
    ]
    if personal:
        names += [_("Huisnummer"), _("Naam melder"), _("E-mailadres melder"), _("Telefoon melder")]
    return names


def cells(row: ExportedSignal, words: Words) -> list[str]:
    def yes_no(value: bool | None) -> str:
        return "" if value is None else (words.yes if value else words.no)

    values = [
        row.reference,
        words.kinds.get(row.kind, row.kind),
        ", ".join(words.themes.get(code, code) for code in row.themes),
        text(row.title),
        words.statuses.get(row.status, row.status),
        text(row.wijk),
        text(row.buurt),
        text(row.street),
        text(row.postcode),
        words.submitters.get(row.submitter_kind, row.submitter_kind),
        words.channels.get(row.channel, row.channel),
        text(row.organisation_name),
        text(row.kvk_number),
        text(row.owner),
        moment(row.created_at),
        moment(row.responded_at),
        moment(row.closed_at),
        row.respond_due_on.isoformat() if row.respond_due_on else "",
        row.handle_due_on.isoformat() if row.handle_due_on else "",
        yes_no(row.responded_in_time),
        yes_no(row.handled_in_time),
    ]
    if words.personal:
        values += [
            text(row.house_number),
            text(row.reporter_name),
            text(row.reporter_email),
            text(row.reporter_phone),
        ]
    return values


def text(value: str | None) -> str:
    """What someone typed, never read as a formula by a spreadsheet."""
    if not value:
        return ""
    return f"'{value}" if value.startswith(FORMULA_START) else value


def moment(value: datetime | None) -> str:
    """ISO 8601 in Hilversum's time, with its offset: 2026-10-01T10:00:00+02:00."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_TIMEZONE).isoformat(timespec="seconds")
