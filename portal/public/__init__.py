"""The resident's side: home, the form, confirmation, status pages, privacy, accessibility."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import answer_views, place_views, status_views, views  # noqa: E402, F401 - register routes
