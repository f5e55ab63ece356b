"""Part of the signal page (templates/backoffice/signal/_ladder.html): an initiative's rung on
the participation ladder, its history, and the form to move it (``domain.initiatives.ladder``).
Who may move it: whoever may work signals, on an initiative they may open."""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import act_explained, signal_or_404
from portal.backoffice.signal_forms import VersionedForm
from portal.domain.initiatives import ladder
from portal.extensions import db
from portal.models import LadderStep, Signal
from portal.public.form_base import strip_text
from portal.vocabulary import RUNG_LABELS, Kind, Rung

LADDER = "ladder"


class LadderForm(VersionedForm):
    rung = SelectField(
        _l("Naar trede"),
        id="ladder-rung",
        choices=[SelectChoice(r.value, RUNG_LABELS[r]) for r in Rung],
        # An unknown value is the domain's to refuse, in our words (unknown_rung).
        validate_choice=False,
    )
    reason = TextAreaField(
        _l("Waarom op deze trede?"),
        id="ladder-reason",
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf kort waarom het initiatief op deze trede staat.")),
            Length(
                max=ladder.REASON_MAX,
                message=_l("Gebruik hoogstens %(max)d tekens.", max=ladder.REASON_MAX),
            ),
        ],
    )


@dataclass(frozen=True)
class LadderPart:
    form: LadderForm
    steps: list[LadderStep]
    options: list[tuple[str, str]]  # (rung, its name in the page's language)


def ladder_part(signal: Signal) -> LadderPart | None:
    """The blank form and the history, for an initiative only."""
    if signal.kind != Kind.INITIATIEF.value:
        return None
    form = LadderForm(formdata=None, version=str(signal.version))
    if signal.participation_rung:
        form.rung.data = signal.participation_rung
    options = [(r.value, _(RUNG_LABELS[r])) for r in Rung]
    return LadderPart(form=form, steps=ladder.history(db.session, signal), options=options)


@bp.context_processor
def _ladder_globals() -> dict[str, object]:
    # A function, not its result: nothing is queried on pages that do not use it.
    return {"ladder_part": ladder_part}


def _explain(form: LadderForm, code: str) -> tuple[Field, str]:
    if code == "same_rung":
        return form.rung, _("Het initiatief staat al op deze trede.")
    if code == "not_an_initiative":
        return form.rung, _("Alleen een initiatief staat op de participatieladder.")
    return form.rung, _("Kies een trede uit de lijst.")


@bp.post("/signalen/<reference>/participatieladder")
@roles_required(*WORKER_ROLES)
def signal_ladder(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = LadderForm()
    response, step = act_explained(
        signal,
        LADDER,
        form,
        lambda actor, seen: ladder.move(
            db.session,
            signal,
            form.rung.data or "",
            reason=form.reason.data or "",
            actor=actor,
            seen_version=seen,
        ),
        lambda code: _explain(form, code),
    )
    if response is not None:
        return response
    assert isinstance(step, LadderStep)
    flash(
        _(
            "Het initiatief staat nu op de trede ‘%(rung)s’.",
            rung=_(RUNG_LABELS[Rung(step.to_rung)]),
        ),
        "ok",
    )
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)
