"""Admin screens for the register of functionaries with authority (doorzettingsmacht), to
whom accountmanagers escalate: list, add, change. Nobody is deleted (escalations point at
them): who left is set inactive and can no longer be chosen."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Email, Length

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.domain.functionaries import save_functionary
from portal.domain.reply_links import EMAIL_MAX, REGISTER_TEXT_MAX, RegisterError
from portal.extensions import db
from portal.models import Functionary, Role
from portal.public.form_base import PortalForm, strip_text


def text_field(label: Any, missing: Any) -> StringField:
    return StringField(
        label,
        filters=[strip_text],
        validators=[
            DataRequired(missing),
            Length(
                max=REGISTER_TEXT_MAX,
                message=_l("Gebruik hoogstens %(max)d tekens.", max=REGISTER_TEXT_MAX),
            ),
        ],
    )


def email_field() -> StringField:
    return StringField(
        _l("E-mailadres"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul het e-mailadres in.")),
            Length(max=EMAIL_MAX, message=_l("Het e-mailadres is te lang.")),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."),
                check_deliverability=False,
            ),
        ],
    )


class FunctionaryForm(PortalForm):
    name = text_field(_l("Naam"), _l("Vul de naam in."))
    role_title = text_field(_l("Functie"), _l("Vul de functie in."))
    department = text_field(_l("Afdeling"), _l("Vul de afdeling in."))
    email = email_field()
    active = BooleanField(_l("Actief: accountmanagers kunnen naar deze persoon escaleren"))


def register_error(form: PortalForm, error: RegisterError) -> None:
    """Puts the domain's refusal next to its field."""
    messages = {
        "required": _("Vul dit in."),
        "too_long": _("Dit is te lang."),
        "email_invalid": _("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."),
        "unknown_wijk": _("Kies wijken uit de lijst."),
    }
    add_error(getattr(form, error.field), messages.get(error.code, _("Dit kan niet.")))


@bp.get("/beheer/functionarissen")
@roles_required(Role.ADMIN)
def admin_functionaries():  # type: ignore[no-untyped-def]
    functionaries = db.session.scalars(
        select(Functionary).order_by(Functionary.active.desc(), Functionary.name, Functionary.id)
    ).all()
    return render_template(
        "backoffice/admin/functionaries.html", functionaries=functionaries, nav="admin"
    )


def _form_page(form: FunctionaryForm, functionary: Functionary | None, status: int) -> Any:
    return (
        render_template(
            "backoffice/admin/functionary_form.html",
            form=form,
            functionary=functionary,
            errors=form.error_summary(),
            nav="admin",
        ),
        status,
    )


def _save(functionary: Functionary | None) -> Any:
    if request.method == "POST":
        form = FunctionaryForm()
    elif functionary is None:
        form = FunctionaryForm(formdata=None, data={"active": True})
    else:
        form = FunctionaryForm(
            formdata=None,
            data={
                "name": functionary.name,
                "role_title": functionary.role_title,
                "department": functionary.department,
                "email": functionary.email,
                "active": functionary.active,
            },
        )
    if form.validate_on_submit():
        try:
            saved = save_functionary(
                db.session,
                functionary,
                name=form.name.data or "",
                role_title=form.role_title.data or "",
                department=form.department.data or "",
                email=form.email.data or "",
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return done(
                _("%(name)s staat in de lijst van functionarissen.", name=saved.name),
                "backoffice.admin_functionaries",
            )
        except RegisterError as error:
            db.session.rollback()
            register_error(form, error)
    return _form_page(form, functionary, 422 if request.method == "POST" else 200)


@bp.route("/beheer/functionarissen/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_functionary_new():  # type: ignore[no-untyped-def]
    return _save(None)


@bp.route("/beheer/functionarissen/<int:functionary_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_functionary_edit(functionary_id: int):  # type: ignore[no-untyped-def]
    functionary = db.session.get(Functionary, functionary_id)
    if functionary is None:
        abort(404)
    return _save(functionary)
