"""Admin screen for routing rules: who gets the new signals of each wijk and of the general
inbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import Form

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.backoffice.admin.forms import (
    ROLE_LABELS,
    make_routing_form,
    routing_field_name,
)
from portal.domain.ids import parse_id
from portal.domain.routing_admin import (
    RoutingError,
    set_routing_rules,
    wijken_without_owner,
)
from portal.domain.users import (
    OWNER_ROLES,
)
from portal.extensions import db
from portal.models import GENERAL_INBOX, Role, RoutingRule, User, Wijk

ROUTING_ERRORS = {
    "general_needs_owner": _l("De algemene inbox heeft altijd een eigenaar nodig."),
    "unknown_owner": _l("Deze persoon bestaat niet (meer). Kies iemand anders."),
    "owner_inactive": _l("Deze persoon is niet actief. Kies iemand anders."),
    "owner_role": _l(
        "Alleen een accountmanager of beheerder kan eigenaar zijn; management behandelt geen "
        "signalen."
    ),
    "unknown_scope": _l("Deze wijk bestaat niet (meer)."),
}


def _owner_label(user: User) -> str:
    if not user.active:
        return _("%(name)s (niet actief)", name=user.name)
    if user.role not in OWNER_ROLES:
        return _("%(name)s (%(role)s)", name=user.name, role=_(ROLE_LABELS[Role(user.role)]))
    return user.name


def _routing_page() -> tuple[Form, list[dict[str, Any]], dict[str, Any]]:
    """The one form of the routing page and what the template shows next to each select."""
    rules = {r.scope: r for r in db.session.scalars(select(RoutingRule))}
    candidates = db.session.scalars(
        select(User)
        .where(User.active.is_(True), User.role.in_([r.value for r in OWNER_ROLES]))
        .order_by(User.name, User.id)
    ).all()
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.code)).all()
    managers: dict[str, list[str]] = {w.code: [] for w in wijken}
    for user in db.session.scalars(
        select(User).options(selectinload(User.wijken)).where(User.active.is_(True))
    ):
        for wijk in user.wijken:
            managers.setdefault(wijk.code, []).append(user.name)

    def choices(scope: str) -> list[tuple[str, str]]:
        options = [(str(u.id), u.name) for u in candidates]
        current = rules.get(scope)
        if current is not None and all(int(v) != current.owner_id for v, _n in options):
            # Keep showing an owner who no longer qualifies, so the admin sees the problem.
            options.append((str(current.owner_id), _owner_label(current.owner)))
        if scope != GENERAL_INBOX:
            options.insert(0, ("", _("Geen eigenaar: naar de algemene inbox")))
        elif current is None or request.form.get(routing_field_name(scope)) == "":
            # Also when "nobody" came in, so the refused form shows what was sent.
            options.insert(0, ("", _("Kies een eigenaar")))
        return options

    scopes = [(GENERAL_INBOX, _("Eigenaar van de algemene inbox"), choices(GENERAL_INBOX))]
    scopes += [(w.code, w.name, choices(w.code)) for w in wijken]
    form = make_routing_form(scopes)
    if request.method == "GET":
        for scope, rule in rules.items():
            field = getattr(form, routing_field_name(scope), None)
            if field is not None:
                field.data = str(rule.owner_id)
    rows = [
        {
            "wijk": w,
            "field": getattr(form, routing_field_name(w.code)),
            "managers": sorted(managers.get(w.code, [])),
        }
        for w in wijken
    ]
    general = {"field": getattr(form, routing_field_name(GENERAL_INBOX))}
    return form, rows, general


def _owner_value(value: str | None) -> int | None:
    if not value:
        return None
    return parse_id(value) or 0  # 0: nobody, and the domain says so


@bp.route("/beheer/routering", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_routing():  # type: ignore[no-untyped-def]
    form, rows, general = _routing_page()
    if form.validate_on_submit():
        # Only the selects that were sent: a partial form never removes other rules.
        owners: Mapping[str, int | None] = {
            field.short_name.removeprefix("owner_"): _owner_value(field.data)
            for field in form
            if field.short_name.startswith("owner_") and field.name in request.form
        }
        try:
            changed = set_routing_rules(db.session, owners, current_user.id)
            if not changed:
                return done(_("Er is niets gewijzigd."), "backoffice.admin_routing")
            return done(
                _(
                    "De routering is opgeslagen. Nieuwe signalen gaan naar de gekozen eigenaar; "
                    "signalen die er al zijn houden hun eigenaar."
                ),
                "backoffice.admin_routing",
            )
        except RoutingError as error:
            db.session.rollback()
            for scope, code in error.problems:
                field = getattr(form, routing_field_name(scope), None)
                if field is not None:
                    add_error(field, str(ROUTING_ERRORS.get(code, code)))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "backoffice/admin/routing.html",
            form=form,
            rows=rows,
            general=general,
            errors=form.error_summary(),
            unowned=wijken_without_owner(db.session),
            nav="admin",
        ),
        status,
    )
