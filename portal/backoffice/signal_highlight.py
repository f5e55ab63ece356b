"""Part of the signal page (templates/backoffice/signal/_highlight.html): picking a signal as
a notable case for the monthly report to the college, with a public summary
(portal/domain/steering/highlights.py). Accountmanagers and admins; never a sensitive one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import Field, SelectField, TextAreaField

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import act_explained, signal_or_404
from portal.backoffice.signal_forms import VersionedForm
from portal.backoffice.signal_page import page_part
from portal.domain.steering import highlights
from portal.domain.working_days import local_date
from portal.extensions import db
from portal.models import Signal


class HighlightForm(VersionedForm):
    month = SelectField(_l("In het verslag van"), id="highlight-month", validate_choice=False)
    summary = TextAreaField(_l("Samenvatting voor het maandverslag"), id="highlight-summary")

    def chosen_month(self) -> date | None:
        try:
            return date.fromisoformat(self.month.data or "")
        except ValueError:
            return None


def _months() -> list[tuple[str, str]]:
    today = local_date(datetime.now(UTC))
    return [(m.isoformat(), format_date(m, "LLLL yyyy")) for m in highlights.months_offered(today)]


@dataclass(frozen=True)
class HighlightPart:
    allowed: bool
    form: HighlightForm


@page_part
def page_context(signal: Signal) -> dict[str, Any]:
    form = HighlightForm(formdata=None, version=str(signal.version))
    form.summary.data = signal.highlight_summary or ""
    # The month in Hilversum: the server's clock may be UTC around midnight on the 1st.
    this_month = highlights.months_offered(local_date(datetime.now(UTC)))[0]
    form.month.data = (signal.highlight_month or this_month).isoformat()
    return {
        "highlight": HighlightPart(highlights.may_highlight(current_user, signal), form),
        "highlight_max": highlights.SUMMARY_MAX,
        "highlight_months": _months(),
    }


def _explain(form: HighlightForm, code: str) -> tuple[Field, str]:
    if code == "summary_required":
        return form.summary, _("Schrijf een korte samenvatting: die staat in het verslag.")
    if code == "summary_too_long":
        return form.summary, _(
            "Deze samenvatting is te lang: hij mag hoogstens %(max)d tekens hebben.",
            max=highlights.SUMMARY_MAX,
        )
    if code == "not_public":
        return form.summary, _(
            "Deze melding komt niet in het maandverslag: ze is gevoelig, of de initiatiefnemers "
            "wilden haar niet op de wijkpagina."
        )
    if code == "month_invalid":
        return form.month, _("Kies het verslag van deze of van de vorige maand.")
    if code == "not_highlighted":
        return form.summary, _("Deze melding staat al niet (meer) in het maandverslag.")
    return form.summary, _("Deze samenvatting staat al zo in het verslag.")  # nothing_changed


@bp.post("/signalen/<reference>/uitlichten")
@roles_required(*WORKER_ROLES)
def signal_highlight(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = HighlightForm()
    removing = request.form.get("action") == "remove"
    if removing:
        form.summary.data = form.summary.data or signal.highlight_summary or ""
    response, _result = act_explained(
        signal,
        "highlight",
        form,
        lambda actor, seen: (
            highlights.unhighlight(db.session, signal, seen_version=seen, actor=actor)
            if removing
            else highlights.highlight(
                db.session,
                signal,
                summary=form.summary.data or "",
                month=form.chosen_month(),
                seen_version=seen,
                actor=actor,
            )
        ),
        lambda code: _explain(form, code),
    )
    if response is not None:
        return response
    if removing:
        flash(_("De melding staat niet meer in het maandverslag."), "ok")
    else:
        flash(_("De melding staat in het verslag, met uw samenvatting."), "ok")
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)
