"""Every back-office view states which roles may use it; a view that does not is refused
(fail closed), and a test walks the whole matrix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from portal.domain import two_factor
from portal.extensions import db, login_manager
from portal.models import Role

STAFF_ROLES = (Role.ADMIN, Role.ACCOUNTMANAGER, Role.MANAGEMENT)
WORKER_ROLES = (Role.ADMIN, Role.ACCOUNTMANAGER)
PUBLIC = frozenset[Role]()  # marker: no login needed (the login page itself)
LAST_SEEN = "backoffice_last_seen"
# The account's session epoch when this session was opened (see User.session_epoch).
SESSION_EPOCH = "backoffice_epoch"


def roles_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    allowed = frozenset(roles)

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # type: ignore[attr-defined]
        return wrapped

    return decorator


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    view.allowed_roles = PUBLIC  # type: ignore[attr-defined]
    return view


def allowed_roles(endpoint: str) -> frozenset[Role] | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "allowed_roles", None)


def guard() -> Any:
    """Runs before every back-office request."""
    if request.endpoint is None or allowed_roles(request.endpoint) is None:
        abort(403)  # a view without a stated role list is a bug: refuse, never allow
    if current_user.is_authenticated:
        now = datetime.now(UTC).timestamp()
        idle = current_app.config["BACKOFFICE_IDLE_MINUTES"] * 60
        if now - session.get(LAST_SEEN, now) > idle:
            logout_user()
            session.pop(LAST_SEEN, None)
            return redirect(url_for("backoffice.login", next=request.full_path, expired=1))
        session[LAST_SEEN] = now
        if request.endpoint not in ENROLMENT_ENDPOINTS and _must_enrol(current_user):
            flash(
                _(
                    "Stel eerst de tweestapsverificatie in. Dat is verplicht voor uw account; "
                    "daarna kunt u verder."
                ),
                "info",
            )
            return redirect(url_for("backoffice.two_factor_page"))
    return None


# What someone who must still set up two-step login may reach (and nothing else).
ENROLMENT_ENDPOINTS = frozenset(
    {
        "backoffice.two_factor_page",
        "backoffice.two_factor_enable",
        "backoffice.logout",
        "backoffice.login",
        "backoffice.login_code",
    }
)


def _must_enrol(user: Any) -> bool:
    production = bool(current_app.config.get("PORTAL_ENV_IS_PRODUCTION"))
    return not user.has_2fa and two_factor.is_required(db.session, user, production=production)


def safe_next(target: str | None) -> str:
    """Only our own back-office paths: never another host, scheme or protocol-relative URL."""
    fallback = url_for("backoffice.inbox")
    if not target or not target.startswith("/backoffice") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    return target
