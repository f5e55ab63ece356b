"""What the admin screens share: errors on fields, the done-redirect, lists of wijken."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import Field

from portal.extensions import db
from portal.models import GENERAL_INBOX, User, Wijk


def add_error(field: Field, message: str) -> None:
    field.errors = [*field.errors, message]


def done(message: str, endpoint: str, anchor: str | None = None, **values: Any) -> Any:
    db.session.commit()
    flash(message, "ok")
    url = url_for(endpoint, **values) + (f"#{anchor}" if anchor else "")
    return redirect(url, code=303)


def wijk_choices() -> list[tuple[str, str]]:
    wijken = db.session.scalars(select(Wijk).order_by(Wijk.name)).all()
    return [(w.code, w.name) for w in wijken]


def scope_name(scope: str) -> str:
    if scope == GENERAL_INBOX:
        return _("de algemene inbox")
    wijk = db.session.get(Wijk, scope)
    return _("wijk %(name)s", name=wijk.name if wijk else scope)


def user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)  # the route's converter keeps the id in range
    if user is None:
        abort(404)
    return user
