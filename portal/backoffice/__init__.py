"""The staff side: login, inbox, signal detail and actions, admin screens."""

from flask import Blueprint

from portal.backoffice.access import guard

bp = Blueprint("backoffice", __name__, url_prefix="/backoffice")
bp.before_request(guard)

from portal.backoffice import (  # noqa: E402, F401 - registers routes
    admin,
    auth,
    inbox,
    password_page,
    signals,
    two_factor,
)
