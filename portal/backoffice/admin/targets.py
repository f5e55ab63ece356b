"""Admin screen for the casework targets ("Termijnen"): in how many working days a signal of
a kind (and optionally a theme) gets its first public response and is handled. A signal
stores its due dates when it comes in, so a change here applies to new signals only."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.backoffice.signal_deadlines import deadline_rules
from portal.domain.deadlines import (
    MAX_WORKING_DAYS,
    MIN_WORKING_DAYS,
    TargetError,
    delete_target,
    save_target,
    targets_table,
)
from portal.extensions import db
from portal.models import ResponseTarget, Role
from portal.public.form_base import PortalForm, strip_text
from portal.vocabulary import KIND_NAMES, THEME_LABELS, Kind, Theme

ALL_THEMES = ""  # the select's value for "the kind's own target, for every theme"
_RANGE = _l(
    "Vul een aantal werkdagen in van %(min)d tot en met %(max)d.",
    min=MIN_WORKING_DAYS,
    max=MAX_WORKING_DAYS,
)
_NUMBER = _l("Vul een aantal werkdagen in, bijvoorbeeld 3.")


def working_days(text: str | None) -> int | None:
    """A whole number of working days as typed, or None."""
    text = text or ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 4 else None


def _check_days(field: StringField) -> None:
    days = working_days(field.data)
    if days is None:
        raise ValidationError(str(_NUMBER))
    if not MIN_WORKING_DAYS <= days <= MAX_WORKING_DAYS:
        raise ValidationError(str(_RANGE))


class TargetForm(PortalForm):
    kind = SelectField(_l("Soort"), id="target-kind", validate_choice=False)
    theme = SelectField(_l("Thema"), id="target-theme", validate_choice=False)
    respond_working_days = StringField(
        _l("Eerste reactie binnen (werkdagen)"), id="target-respond", filters=[strip_text]
    )
    handle_working_days = StringField(
        _l("Afgehandeld binnen (werkdagen)"), id="target-handle", filters=[strip_text]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(k.value, _(KIND_NAMES[k])) for k in Kind]
        self.theme.choices = [(ALL_THEMES, _("Alle thema's (de termijn van de soort)"))] + [
            (t.value, _(THEME_LABELS[t])) for t in Theme
        ]

    def validate_respond_working_days(self, field: StringField) -> None:
        _check_days(field)

    def validate_handle_working_days(self, field: StringField) -> None:
        _check_days(field)


class DeleteTargetForm(PortalForm):
    """Only the CSRF token."""


TARGET_ERRORS = {
    "unknown_kind": ("kind", _l("Kies een soort uit de lijst.")),
    "unknown_theme": ("theme", _l("Kies een thema uit de lijst.")),
    "out_of_range": ("respond_working_days", _RANGE),
    "respond_after_handle": (
        "respond_working_days",
        _l("De eerste reactie kan niet later komen dan de afhandeling."),
    ),
    "duplicate": (
        "theme",
        _l("Voor deze soort en dit thema is er al een termijn. Wijzig die in de lijst."),
    ),
}


def _target_or_404(target_id: int) -> ResponseTarget:
    row = db.session.get(ResponseTarget, target_id)
    if row is None:
        abort(404)
    return row


def _label(row: ResponseTarget) -> str:
    kind = _(KIND_NAMES[Kind(row.kind)]) if row.kind in set(Kind) else row.kind
    if row.theme is None:
        return kind
    theme = _(THEME_LABELS[Theme(row.theme)]) if row.theme in set(Theme) else row.theme
    return f"{kind}, {theme}"


@bp.get("/beheer/termijnen")
@roles_required(Role.ADMIN)
def admin_targets():  # type: ignore[no-untyped-def]
    return render_template(
        "backoffice/admin/targets.html",
        rows=[(row, _label(row)) for row in targets_table(db.session)],
        rules=deadline_rules(),
        kind_names=KIND_NAMES,
        theme_labels=THEME_LABELS,
        nav="admin",
    )


def _form_page(form: TargetForm, row: ResponseTarget | None, status: int) -> Any:
    return (
        render_template(
            "backoffice/admin/target_form.html",
            form=form,
            row=row,
            label=_label(row) if row is not None else None,
            errors=form.error_summary(),
            nav="admin",
        ),
        status,
    )


def _save_view(row: ResponseTarget | None) -> Any:
    if request.method == "POST":
        form = TargetForm()
    elif row is None:
        form = TargetForm(formdata=None)
    else:
        form = TargetForm(
            formdata=None,
            data={
                "kind": row.kind,
                "theme": row.theme or ALL_THEMES,
                "respond_working_days": str(row.respond_working_days),
                "handle_working_days": str(row.handle_working_days),
            },
        )
    if not form.validate_on_submit():
        return _form_page(form, row, 422 if request.method == "POST" else 200)
    try:
        saved = save_target(
            db.session,
            row,
            kind=form.kind.data or "",
            theme=form.theme.data or None,
            respond_working_days=working_days(form.respond_working_days.data) or 0,
            handle_working_days=working_days(form.handle_working_days.data) or 0,
            actor_id=current_user.id,
        )
    except TargetError as error:
        db.session.rollback()
        name, message = TARGET_ERRORS.get(error.code, ("kind", _l("Dit kan niet.")))
        add_error(getattr(form, name), str(message))
        return _form_page(form, row, 422)
    return done(
        _(
            "De termijn voor %(label)s is opgeslagen. Hij geldt voor nieuwe signalen; "
            "signalen die er al zijn houden hun datums.",
            label=_label(saved),
        ),
        "backoffice.admin_targets",
    )


@bp.route("/beheer/termijnen/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_target_new():  # type: ignore[no-untyped-def]
    return _save_view(None)


@bp.route("/beheer/termijnen/<int:target_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_target_edit(target_id: int):  # type: ignore[no-untyped-def]
    return _save_view(_target_or_404(target_id))


@bp.post("/beheer/termijnen/<int:target_id>/verwijderen")
@roles_required(Role.ADMIN)
def admin_target_delete(target_id: int):  # type: ignore[no-untyped-def]
    row = _target_or_404(target_id)
    form = DeleteTargetForm()
    if not form.validate_on_submit():
        abort(400)
    label = _label(row)
    delete_target(db.session, row, actor_id=current_user.id)
    return done(
        _("De termijn voor %(label)s is verwijderd.", label=label), "backoffice.admin_targets"
    )
