"""Admin screen for the names of wijken and buurten (codes never change)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
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
    RenameForm,
)
from portal.domain.routing_admin import NAME_MAX as PLACE_NAME_MAX
from portal.domain.routing_admin import (
    RoutingError,
    rename_buurt,
    rename_wijk,
)
from portal.extensions import db
from portal.models import Buurt, Role, Wijk

PLACE_ERRORS = {
    "name_required": _l("Vul een naam in."),
    "name_too_long": _l("De naam mag hoogstens %(max)d tekens hebben.", max=PLACE_NAME_MAX),
    "name_taken": _l("Deze naam is al in gebruik. Kies een naam die nog niet bestaat."),
}


def _rename_form(kind: str, code: str, name: str, bound: tuple[str, str, Form] | None) -> Form:
    if bound is not None and bound[:2] == (kind, code):
        return bound[2]
    # CSRF is checked for every POST by CSRFProtect; a prefixed form would want its own
    # prefixed token field, so these small forms leave it to that.
    return RenameForm(
        formdata=None, data={"name": name}, prefix=f"{kind}-{code}", meta={"csrf": False}
    )


def _render_wijken(bound: tuple[str, str, Form] | None = None, status: int = 200) -> Any:
    wijken = db.session.scalars(
        select(Wijk).options(selectinload(Wijk.buurten)).order_by(Wijk.code)
    ).all()
    sections = [
        {
            "wijk": wijk,
            "form": _rename_form("wijk", wijk.code, wijk.name, bound),
            "buurten": [(b, _rename_form("buurt", b.code, b.name, bound)) for b in wijk.buurten],
        }
        for wijk in wijken
    ]
    errors = bound[2].error_summary() if bound is not None else []
    return (
        render_template(
            "backoffice/admin/wijken.html", sections=sections, errors=errors, nav="admin"
        ),
        status,
    )


def _rename(kind: str, code: str) -> Any:
    form = RenameForm(prefix=f"{kind}-{code}", meta={"csrf": False})
    if form.validate_on_submit():
        rename = rename_wijk if kind == "wijk" else rename_buurt
        try:
            changed = rename(db.session, code, form.name.data or "", current_user.id)
            message = (
                _("De naam is gewijzigd. Alle signalen en pagina's tonen de nieuwe naam.")
                if changed
                else _("Er is niets gewijzigd.")
            )
            return done(message, "backoffice.admin_wijken", anchor=f"{kind}-{code}")
        except RoutingError as error:
            db.session.rollback()
            if error.code in ("unknown_wijk", "unknown_buurt"):
                abort(404)
            add_error(form.name, str(PLACE_ERRORS.get(error.code, error.code)))
    return _render_wijken((kind, code, form), 422)


@bp.get("/beheer/wijken")
@roles_required(Role.ADMIN)
def admin_wijken():  # type: ignore[no-untyped-def]
    return _render_wijken()


@bp.post("/beheer/wijken/<code>")
@roles_required(Role.ADMIN)
def admin_wijk_rename(code: str):  # type: ignore[no-untyped-def]
    if db.session.get(Wijk, code) is None:
        abort(404)
    return _rename("wijk", code)


@bp.post("/beheer/buurten/<code>")
@roles_required(Role.ADMIN)
def admin_buurt_rename(code: str):  # type: ignore[no-untyped-def]
    if db.session.get(Buurt, code) is None:
        abort(404)
    return _rename("buurt", code)
