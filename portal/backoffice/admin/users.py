"""Admin screens for staff accounts: list, create (a set-password link is mailed), edit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from wtforms import Form

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done, scope_name, user_or_404, wijk_choices
from portal.backoffice.admin.forms import (
    ROLE_HINTS,
    ROLE_LABELS,
    EditUserForm,
    NewUserForm,
    set_wijk_choices,
)
from portal.domain.password_links import invite_user
from portal.domain.passwords import UNUSABLE_PREFIX
from portal.domain.users import (
    NAME_MAX,
    UserError,
    open_signal_count,
    update_user,
)
from portal.extensions import db
from portal.models import Role, User
from portal.public.services import mail_context


def _user_error(form: NewUserForm | EditUserForm, error: UserError) -> None:
    """Puts the domain's refusal next to the field it is about."""
    code = error.code
    if code == "email_taken":
        add_error(form.email, _("Er is al een account met dit e-mailadres."))
    elif code == "email_invalid":
        add_error(form.email, _("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."))
    elif code in ("name_required", "name_too_long"):
        add_error(form.name, _("Vul een naam in van hoogstens %(max)d tekens.", max=NAME_MAX))
    elif code == "unknown_role":
        add_error(form.role, _("Kies een rol."))
    elif code == "unknown_wijk":
        codes = ", ".join(str(c) for c in error.details.get("codes", []))  # type: ignore[attr-defined]
        add_error(form.wijken, _("Deze wijk bestaat niet (meer): %(codes)s.", codes=codes))
    elif code == "self_lockout" and isinstance(form, EditUserForm):
        field = form.active if not form.active.data else form.role
        add_error(
            field,
            _(
                "U kunt uw eigen account niet deactiveren en uzelf de rol beheerder niet "
                "afnemen. Vraag dat zo nodig aan een andere beheerder."
            ),
        )
    elif code == "owns_routing" and isinstance(form, EditUserForm):
        scopes = [str(s) for s in error.details.get("scopes", [])]  # type: ignore[attr-defined]
        field = form.active if not form.active.data else form.role
        add_error(
            field,
            _(
                "Deze persoon is eigenaar van %(scopes)s in de routering. Kies daar eerst "
                "iemand anders, zodat nieuwe signalen niet verloren gaan.",
                scopes=", ".join(scope_name(s) for s in scopes),
            ),
        )
    else:  # pragma: no cover - every code above; a new one still shows something
        add_error(form.name, str(error))


def _render_users_form(template: str, form: Form, status: int, **context: Any) -> Any:
    errors = form.error_summary()
    for extra in context.get("extra_forms", ()):
        errors += extra.error_summary()
    return (
        render_template(
            template,
            form=form,
            errors=errors,
            role_hints=ROLE_HINTS,
            nav="admin",
            **context,
        ),
        status,
    )


@bp.get("/beheer/gebruikers")
@roles_required(Role.ADMIN)
def admin_users():  # type: ignore[no-untyped-def]
    users = db.session.scalars(
        select(User)
        .options(selectinload(User.wijken))
        .order_by(User.active.desc(), User.name, User.id)
    ).all()
    return render_template(
        "backoffice/admin/users.html", users=users, role_labels=ROLE_LABELS, nav="admin"
    )


@bp.route("/beheer/gebruikers/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user_new():  # type: ignore[no-untyped-def]
    form = NewUserForm()
    set_wijk_choices(form.wijken, wijk_choices())
    if form.validate_on_submit():
        try:
            user = invite_user(
                db.session,
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                wijk_codes=form.wijken.data or [],
                actor_id=current_user.id,
                now=datetime.now(UTC),
                mail=mail_context(),
            )
            return done(
                _(
                    "Het account van %(name)s is aangemaakt. %(name)s krijgt een e-mail met een "
                    "link om zelf een wachtwoord te kiezen.",
                    name=user.name,
                ),
                "backoffice.admin_users",
            )
        except UserError as error:
            db.session.rollback()
            _user_error(form, error)
        except IntegrityError:  # the same address, added at the same moment by someone else
            db.session.rollback()
            add_error(form.email, _("Er is al een account met dit e-mailadres."))
    status = 422 if request.method == "POST" else 200
    return _render_users_form("backoffice/admin/user_new.html", form, status)


def _edit_user_data(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "wijken": [w.code for w in user.wijken],
        "active": user.active,
    }


def _render_user_edit(user: User, form: EditUserForm, status: int) -> Any:
    return _render_users_form(
        "backoffice/admin/user_edit.html",
        form,
        status,
        user=user,
        open_signals=open_signal_count(db.session, user.id),
        is_self=user.id == current_user.id,
        waiting_for_password=user.password_hash.startswith(UNUSABLE_PREFIX),
    )


@bp.route("/beheer/gebruikers/<int:user_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user_edit(user_id: int):  # type: ignore[no-untyped-def]
    user = user_or_404(user_id)
    if request.method == "POST":
        form = EditUserForm()
    else:
        form = EditUserForm(formdata=None, data=_edit_user_data(user))
    set_wijk_choices(form.wijken, wijk_choices())
    if form.validate_on_submit():
        try:
            update_user(
                db.session,
                user,
                name=form.name.data or "",
                email=form.email.data or "",
                role=form.role.data or "",
                wijk_codes=form.wijken.data or [],
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return done(
                _("De gegevens van %(name)s zijn opgeslagen.", name=user.name),
                "backoffice.admin_user_edit",
                user_id=user.id,
            )
        except UserError as error:
            db.session.rollback()
            _user_error(form, error)
        except IntegrityError:
            db.session.rollback()
            add_error(form.email, _("Er is al een account met dit e-mailadres."))
        user = user_or_404(user_id)
    status = 422 if request.method == "POST" else 200
    return _render_user_edit(user, form, status)
