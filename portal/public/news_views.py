"""Wijk news for residents (a page per item, its photo, the wijk's Atom feed) and the email
alerts per wijk: subscribe, confirm, unsubscribe. The partials on the wijk page are
templates/public/wijk/_news.html and _alerts.html."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from wtforms import StringField
from wtforms.validators import DataRequired, Email, Length

from portal.domain import alerts, wijk_news
from portal.domain.photos import FORMATS, PhotoStore
from portal.extensions import csrf, db, limiter
from portal.models import Wijk, WijkAlert, WijkNews
from portal.public import bp
from portal.public.form_base import PortalForm
from portal.public.services import links, mail_context

ATOM = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
FEED_ENTRIES = 20
FEED_MAX_AGE = 300  # seconds; a withdrawn item leaves readers' caches soon enough
PHOTO_MAX_AGE = 3600
# Characters XML 1.0 cannot hold (control characters a paste may bring along).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ET.register_namespace("", ATOM)


def _wijk_or_404(code: str) -> Wijk:
    wijk = db.session.get(Wijk, code) if len(code) <= 10 else None
    if wijk is None:
        abort(404)
    return wijk


def _wijk_page(code: str) -> str:
    return url_for("public.wijk", code=code)  # wijk_views.py


def news_photo_store() -> PhotoStore:
    """News photos in a folder of their own (see wijk_news.PHOTO_SUBFOLDER)."""
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / wijk_news.PHOTO_SUBFOLDER
    return PhotoStore(folder, current_app.config["MAX_PHOTO_BYTES"])


@bp.app_template_global()
def news_photo(news: WijkNews) -> dict[str, str] | None:
    """The URL and alt text of a news item's photo, for the templates (None: no photo)."""
    name = wijk_news.photo_name(news)
    if name is None:
        return None
    # A replaced photo gets a new URL: caches may keep the old one (PHOTO_MAX_AGE).
    url = url_for("public.wijk_news_photo", code=news.wijk_code, news_id=news.id, v=name[:8])
    return {"url": url, "alt": wijk_news.photo_alt(news)}


# --- news -------------------------------------------------------------------------------------


@bp.get("/wijken/<code>/nieuws/<int:news_id>")
def wijk_news_item(code: str, news_id: int):  # type: ignore[no-untyped-def]
    wijk = _wijk_or_404(code)
    news = wijk_news.published(db.session, wijk.code, news_id)
    if news is None:
        abort(404)
    return render_template(
        "public/news_item.html", wijk=wijk, item=news, wijk_url=_wijk_page(wijk.code)
    )


@bp.get("/wijken/<code>/nieuws/<int:news_id>/foto")
def wijk_news_photo(code: str, news_id: int):  # type: ignore[no-untyped-def]
    news = wijk_news.published(db.session, code, news_id)
    name = wijk_news.photo_name(news) if news else None
    path = news_photo_store().path(name) if name else None
    if path is None or not path.is_file():
        abort(404)
    content_type = next(t for t, ext in FORMATS.values() if path.name.endswith(ext))
    response = send_file(path, mimetype=content_type, max_age=PHOTO_MAX_AGE)
    response.cache_control.public = True
    return response


def _atom_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("", text)


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str):  # type: ignore[no-untyped-def]
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = _xml_text(text)
    return element


def atom_feed(wijk: Wijk, items: list[WijkNews], base_url: str, updated: datetime) -> bytes:
    """The wijk's news as an Atom 1.0 feed (RFC 4287); ids are the pages' URLs."""
    base = base_url.rstrip("/")
    page = base + _wijk_page(wijk.code)
    # The feed's own words in the reader's language; the news itself is written in Dutch.
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_LANG: str(get_locale() or "nl")})
    _element(feed, "id", page)
    _element(feed, "title", _("Nieuws uit wijk %(wijk)s", wijk=wijk.name))
    _element(feed, "subtitle", _("Berichten van Bureau Wijkzaken, Gemeente Hilversum"))
    _element(feed, "updated", _atom_time(updated))
    self_url = base + url_for("public.wijk_news_feed", code=wijk.code)
    _element(feed, "link", rel="self", type="application/atom+xml", href=self_url)
    _element(feed, "link", rel="alternate", type="text/html", href=page)
    author = _element(feed, "author")
    _element(author, "name", _("Bureau Wijkzaken, Gemeente Hilversum"))
    _element(author, "uri", base + "/")
    for news in items:
        url = base + url_for("public.wijk_news_item", code=wijk.code, news_id=news.id)
        entry = _element(feed, "entry", **{XML_LANG: "nl"})
        _element(entry, "id", url)
        _element(entry, "title", news.title, type="text")
        _element(entry, "updated", _atom_time(news.updated_at))
        _element(entry, "published", _atom_time(news.published_at))
        _element(entry, "link", rel="alternate", type="text/html", href=url)
        if news.author is not None:
            _element(_element(entry, "author"), "name", news.author.name)
        _element(entry, "content", news.body, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@bp.get("/wijken/<code>/nieuws.atom")
def wijk_news_feed(code: str):  # type: ignore[no-untyped-def]
    wijk = _wijk_or_404(code)
    items = wijk_news.recent_for_wijk(db.session, wijk.code, limit=FEED_ENTRIES)
    # A feed with nothing ever posted still needs an updated moment: now will do.
    updated = wijk_news.last_change(db.session, wijk.code) or datetime.now(UTC)
    body = atom_feed(wijk, items, links().base_url, updated)
    response = Response(body, content_type=ATOM_TYPE)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    # Its titles follow the language chosen in the session: a shared cache keeps one per cookie.
    response.vary.add("Cookie")
    response.add_etag()
    return response.make_conditional(request)


# --- alerts -----------------------------------------------------------------------------------


class AlertForm(PortalForm):
    email = StringField(
        _l("E-mailadres"),
        id="alert-email",
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        validators=[
            DataRequired(_l("Vul uw e-mailadres in.")),
            Length(max=320, message=_l("Dit e-mailadres is te lang.")),
            Email(
                message=_l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
                check_deliverability=False,
            ),
        ],
    )


@bp.context_processor
def _alert_form() -> dict[str, object]:
    # The wijk page's partial needs a form of its own without the view knowing about it.
    return {"new_alert_form": lambda: AlertForm(formdata=None)}


def _no_store(page: str, code: int = 200):  # type: ignore[no-untyped-def]
    """Pages behind a link with a token: never in any cache."""
    response = current_app.make_response((page, code))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/wijken/<code>/attendering", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STATUS_LOOKUP_RATE_LIMIT"], methods=["POST"])
def wijk_alert_subscribe(code: str):  # type: ignore[no-untyped-def]
    wijk = _wijk_or_404(code)
    form = AlertForm()
    if form.validate_on_submit():
        try:
            alerts.subscribe(
                db.session,
                form.email.data or "",
                wijk,
                locale=str(get_locale() or "nl"),
                now=datetime.now(UTC),
                mail=mail_context(),
                secret=current_app.config["SECRET_KEY"],
            )
            db.session.commit()
        except IntegrityError:
            # The same address raced in twice (a double click): the other request mailed.
            db.session.rollback()
        # The same answer whatever the address: no way to find out who subscribed.
        return redirect(url_for(".wijk_alert_sent", code=wijk.code), code=303)
    status = 422 if request.method == "POST" else 200
    page = render_template(
        "public/alert_subscribe.html",
        wijk=wijk,
        form=form,
        errors=form.error_summary(),
        wijk_url=_wijk_page(wijk.code),
    )
    return page, status


@bp.get("/wijken/<code>/attendering/verstuurd")
def wijk_alert_sent(code: str):  # type: ignore[no-untyped-def]
    wijk = _wijk_or_404(code)
    return render_template("public/alert_sent.html", wijk=wijk, wijk_url=_wijk_page(wijk.code))


def _alert_or_unknown(token: str) -> WijkAlert | None:
    alert = alerts.alert_for_token(db.session, token)
    if alert is None or alerts.confirm_link_expired(alert, datetime.now(UTC)):
        return None
    return alert


def _unknown_link():  # type: ignore[no-untyped-def]
    page = render_template("public/alert_unknown.html", confirm_days=alerts.CONFIRM_DAYS)
    return _no_store(page, 404)


@bp.route("/attendering/bevestigen/<token>", methods=["GET", "POST"])
def alert_confirm(token: str):  # type: ignore[no-untyped-def]
    alert = _alert_or_unknown(token)
    if alert is None:
        return _unknown_link()
    if request.method == "POST":
        # Only a person's button press confirms; opening the link (GET) never does.
        alerts.confirm(db.session, alert, now=datetime.now(UTC))
        db.session.commit()
        return redirect(url_for(".alert_confirm", token=token), code=303)
    page = render_template(
        "public/alert_confirm.html",
        alert=alert,
        wijk=alert.wijk,
        state=alerts.state_of(alert).value,
        token=token,
        wijk_url=_wijk_page(alert.wijk_code),
    )
    return _no_store(page)


# RFC 8058: a mail client's one-click unsubscribe is a POST without our CSRF token; the
# token in the URL is what authorises it. A person gets a page with a button (GET).
@csrf.exempt
@bp.route("/attendering/afmelden/<token>", methods=["GET", "POST"])
def alert_unsubscribe(token: str):  # type: ignore[no-untyped-def]
    alert = _alert_or_unknown(token)
    if alert is None:
        return _unknown_link()
    if request.method == "POST":
        alerts.unsubscribe(db.session, alert, now=datetime.now(UTC))
        db.session.commit()
    page = render_template(
        "public/alert_unsubscribe.html",
        wijk=alert.wijk,
        state=alerts.state_of(alert).value,
        token=token,
        subscribe_url=url_for(".wijk_alert_subscribe", code=alert.wijk_code),
        wijk_url=_wijk_page(alert.wijk_code),
    )
    return _no_store(page)
