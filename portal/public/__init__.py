"""The resident's side: home, the form and its map, confirmation, status and follow pages, the
wijk pages with their news and alerts, privacy, accessibility."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import (  # noqa: E402, F401 - register routes
    answer_views,
    duplicate_views,
    figures_views,
    follow_views,
    nearby_views,
    news_views,
    place_views,
    privacy_views,
    status_views,
    support_views,
    views,
    wijk_views,
)
