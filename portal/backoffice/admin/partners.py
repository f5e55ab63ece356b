"""Admin screens for the wijkteam partners (police, Versa Welzijn, housing corporations) with
whom accountmanagers share signals: list, add, change. Nobody is deleted (shares point at
them): a partner no longer in the wijkteam is set inactive and can no longer be chosen."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import BooleanField
from wtforms.validators import Optional

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import done, wijk_choices
from portal.backoffice.admin.forms import MultiCheckboxField, set_wijk_choices
from portal.backoffice.admin.functionaries import email_field, register_error, text_field
from portal.domain.partners import save_partner
from portal.domain.reply_links import RegisterError
from portal.extensions import db
from portal.models import Partner, Role
from portal.public.form_base import PortalForm


class PartnerForm(PortalForm):
    organisation = text_field(_l("Organisatie"), _l("Vul de naam van de organisatie in."))
    contact_name = text_field(_l("Contactpersoon"), _l("Vul de naam van de contactpersoon in."))
    email = email_field()
    wijken = MultiCheckboxField(_l("Wijken"), choices=[], validators=[Optional()])
    active = BooleanField(_l("Actief: accountmanagers kunnen met deze partner delen"))


@bp.get("/beheer/partners")
@roles_required(Role.ADMIN)
def admin_partners():  # type: ignore[no-untyped-def]
    partners = db.session.scalars(
        select(Partner)
        .options(selectinload(Partner.wijken))
        .order_by(Partner.active.desc(), Partner.organisation, Partner.id)
    ).all()
    return render_template("backoffice/admin/partners.html", partners=partners, nav="admin")


def _save(partner: Partner | None) -> Any:
    if request.method == "POST":
        form = PartnerForm()
    elif partner is None:
        form = PartnerForm(formdata=None, data={"active": True})
    else:
        form = PartnerForm(
            formdata=None,
            data={
                "organisation": partner.organisation,
                "contact_name": partner.contact_name,
                "email": partner.email,
                "wijken": [w.code for w in partner.wijken],
                "active": partner.active,
            },
        )
    set_wijk_choices(form.wijken, wijk_choices())
    if form.validate_on_submit():
        try:
            saved = save_partner(
                db.session,
                partner,
                organisation=form.organisation.data or "",
                contact_name=form.contact_name.data or "",
                email=form.email.data or "",
                wijk_codes=form.wijken.data or [],
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return done(
                _("%(name)s staat in de lijst van partners.", name=saved.organisation),
                "backoffice.admin_partners",
            )
        except RegisterError as error:
            db.session.rollback()
            register_error(form, error)
    return (
        render_template(
            "backoffice/admin/partner_form.html",
            form=form,
            partner=partner,
            errors=form.error_summary(),
            nav="admin",
        ),
        422 if request.method == "POST" else 200,
    )


@bp.route("/beheer/partners/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_partner_new():  # type: ignore[no-untyped-def]
    return _save(None)


@bp.route("/beheer/partners/<int:partner_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_partner_edit(partner_id: int):  # type: ignore[no-untyped-def]
    partner = db.session.get(Partner, partner_id)
    if partner is None:
        abort(404)
    return _save(partner)
