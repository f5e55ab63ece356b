"""Part of the signal page (templates/backoffice/signal/_location.html, _public_title.html):
the small map with the signal's point or buurt, "Plek corrigeren" (a point on the map, or a
buurt from the list with optional coordinates, for who works without the map), and the
title neighbours see. The operations are in ``portal.domain.relocation``.

Who may use the forms: whoever may work signals (``permissions.can_work``), on every signal
they may open; management only looks (403 on a post), and a sensitive signal stays 404 for
who may not see it. The page's own ``render`` does the rest (errors, stale forms)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField
from wtforms.validators import Length, ValidationError

from portal.backoffice import bp
from portal.backoffice.access import WORKER_ROLES, roles_required
from portal.backoffice.signal_flow import act_explained, signal_or_404
from portal.backoffice.signal_forms import VersionedForm
from portal.domain import relocation
from portal.domain.geography import default_geography
from portal.extensions import db
from portal.models import Buurt, Signal
from portal.public.form_base import strip_text

RELOCATE, PUBLIC_TITLE = "relocate", "public_title"


def parse_coordinate(raw: str | None) -> float | None:
    """'52.2213' or, as Dutch people type it, '52,2213'; None when it is no number."""
    text = (raw or "").strip()
    if text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class RelocateForm(VersionedForm):
    buurt = StringField(_l("Buurt"), id="relocate-buurt", filters=[strip_text])
    lat = StringField(_l("Breedtegraad"), id="relocate-lat", filters=[strip_text])
    lon = StringField(_l("Lengtegraad"), id="relocate-lon", filters=[strip_text])

    def point(self) -> tuple[float | None, float | None]:
        """(lon, lat) as typed or set by the map; (None, None) without a point."""
        return parse_coordinate(self.lon.data), parse_coordinate(self.lat.data)

    def _check_number(self, field: StringField, other: StringField) -> None:
        if field.data and parse_coordinate(field.data) is None:
            raise ValidationError(_l("Vul een getal in, zoals 52.2213 of 5.1492."))
        if not field.data and other.data:
            raise ValidationError(
                _l("Vul de breedtegraad én de lengtegraad in, of laat beide leeg.")
            )

    def validate_lat(self, field: StringField) -> None:
        self._check_number(field, self.lon)

    def validate_lon(self, field: StringField) -> None:
        self._check_number(field, self.lat)


class PublicTitleForm(VersionedForm):
    public_title = StringField(
        _l("Titel voor buurtbewoners"),
        id="public_title-title",
        filters=[strip_text],
        validators=[
            Length(
                max=relocation.PUBLIC_TITLE_MAX,
                message=_l(
                    "Schrijf de titel in hoogstens %(max)d tekens.",
                    max=relocation.PUBLIC_TITLE_MAX,
                ),
            )
        ],
    )


@dataclass(frozen=True)
class LocationPart:
    relocate: RelocateForm
    public_title: PublicTitleForm


def location_part(signal: Signal) -> LocationPart:
    """Blank forms for the page; a form that came back with errors is the page's bound one."""
    version = str(signal.version)
    return LocationPart(
        relocate=RelocateForm(formdata=None, version=version),
        public_title=PublicTitleForm(
            formdata=None, version=version, public_title=signal.public_title or ""
        ),
    )


@bp.context_processor
def _location_globals() -> dict[str, object]:
    # A function, not its result: nothing is built (or queried) on pages that do not use it.
    return {"location_part": location_part}


# --- explaining a refusal -------------------------------------------------------------------


def _located_name(form: RelocateForm) -> str:
    lon, lat = form.point()
    found = default_geography().locate(lon, lat) if lon is not None and lat is not None else None
    if found is None:
        return ""
    buurt = db.session.get(Buurt, found.code)
    return buurt.name if buurt is not None else found.name


def _explain_relocate(form: RelocateForm, code: str) -> tuple[Field, str]:
    if code == "outside_hilversum":
        return form.lat, _(
            "Dit punt ligt buiten Hilversum. Kies een punt binnen de gemeente, of alleen een buurt."
        )
    if code == "point_invalid":
        return form.lat, _(
            "Deze breedtegraad en lengtegraad kunnen niet kloppen. Een punt in Hilversum is "
            "bijvoorbeeld 52.2213 en 5.1492."
        )
    if code == "point_not_in_buurt":
        return form.buurt, _(
            "Het punt ligt in buurt %(buurt)s, niet in de gekozen buurt. Kies die buurt, of "
            "kies geen buurt: dan volgt de buurt uit het punt.",
            buurt=_located_name(form),
        )
    if code == "location_required":
        return form.buurt, _("Kies een buurt, of zet een punt op de kaart.")
    if code == "nothing_changed":
        return form.buurt, _("Dit is al de plek van de melding: er verandert niets.")
    return form.buurt, _("Kies een buurt uit de lijst.")  # unknown_buurt, point_incomplete


def _explain_title(form: PublicTitleForm, code: str, clearing: bool) -> tuple[Field, str]:
    if code == "title_too_long":
        return form.public_title, _(
            "Schrijf de titel in hoogstens %(max)d tekens.", max=relocation.PUBLIC_TITLE_MAX
        )
    if clearing:
        return form.public_title, _("Er is geen eigen titel om te wissen.")
    return form.public_title, _("Deze titel staat er al zo.")  # nothing_changed


# --- actions --------------------------------------------------------------------------------


def _back_to(signal: Signal):  # type: ignore[no-untyped-def]
    return redirect(url_for(".signal_detail", reference=signal.reference), code=303)


@bp.post("/signalen/<reference>/plek")
@roles_required(*WORKER_ROLES)
def signal_relocate(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = RelocateForm()
    owner_name = signal.owner.name if signal.owner else None
    lon, lat = form.point()
    response, moved = act_explained(
        signal,
        RELOCATE,
        form,
        lambda actor, seen: relocation.correct_location(
            db.session,
            signal,
            actor=actor,
            lon=lon,
            lat=lat,
            buurt_code=form.buurt.data or None,
            geography=default_geography(),
            seen_version=seen,
        ),
        lambda code: _explain_relocate(form, code),
    )
    if response is not None:
        return response
    assert isinstance(moved, relocation.Relocation)
    buurt = moved.buurt.name if moved.buurt else ""
    wijk = moved.wijk.name if moved.wijk else ""
    flash(
        _("De plek is gecorrigeerd: buurt %(buurt)s, wijk %(wijk)s.", buurt=buurt, wijk=wijk), "ok"
    )
    if moved.wijk_changed:
        # Not re-routed: who handles it is a person's decision (Verplaatsen of toewijzen).
        if owner_name:
            notice = _(
                "De melding ligt nu in wijk %(wijk)s. %(owner)s blijft de eigenaar. Hoort de "
                "melding bij de accountmanager van die wijk? Geef haar dan door met "
                "‘Verplaatsen of toewijzen’.",
                wijk=wijk,
                owner=owner_name,
            )
        else:
            notice = _(
                "De melding ligt nu in wijk %(wijk)s en heeft geen eigenaar. Geef haar aan de "
                "accountmanager van die wijk met ‘Verplaatsen of toewijzen’.",
                wijk=wijk,
            )
        flash(notice, "info")
    return _back_to(signal)


@bp.post("/signalen/<reference>/titel-voor-buurt")
@roles_required(*WORKER_ROLES)
def signal_public_title(reference: str):  # type: ignore[no-untyped-def]
    signal = signal_or_404(reference)
    form = PublicTitleForm()
    clearing = request.form.get("action") == "clear"
    title = None if clearing else form.public_title.data
    response, _event = act_explained(
        signal,
        PUBLIC_TITLE,
        form,
        lambda actor, seen: relocation.set_public_title(
            db.session, signal, title=title, seen_version=seen, actor=actor
        ),
        lambda code: _explain_title(form, code, clearing),
    )
    if response is not None:
        return response
    if signal.public_title:
        done = _("Buurtbewoners zien nu de titel ‘%(title)s’.", title=signal.public_title)
    else:
        done = _(
            "De eigen titel is gewist. Buurtbewoners zien nu een titel uit het onderwerp en de "
            "buurt."
        )
    flash(done, "ok")
    return _back_to(signal)
