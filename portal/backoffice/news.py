"""Wijk news in the back office: an accountmanager posts, edits and withdraws news for their
own wijken (an admin for any). Management reads the list, as it reads everything, and
changes nothing. Another wijk's news is not found (404), as if it did not exist."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, FileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.backoffice import bp
from portal.backoffice.access import STAFF_ROLES, WORKER_ROLES, roles_required
from portal.domain import wijk_news
from portal.domain.photos import MAX_PIXELS, PhotoRejected
from portal.domain.wijk_news import NewsError, NewsInput
from portal.extensions import db
from portal.models import WijkNews
from portal.public.form_base import PortalForm, strip_text
from portal.public.news_views import news_photo_store
from portal.public.photo_uploads import PHOTO_ERRORS, max_mb


class NewsForm(PortalForm):
    # The choice is checked by the domain (only the user's own wijken), not by WTForms.
    wijk = SelectField(
        _l("Wijk"), validate_choice=False, validators=[DataRequired(_l("Kies een wijk."))]
    )
    title = StringField(
        _l("Titel"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul een titel in.")),
            Length(max=wijk_news.TITLE_MAX, message=_l("De titel mag maximaal 120 tekens zijn.")),
        ],
    )
    text = TextAreaField(
        _l("Tekst"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Schrijf de tekst van het bericht.")),
            Length(max=wijk_news.TEXT_MAX, message=_l("De tekst mag maximaal 2000 tekens zijn.")),
        ],
    )
    photo = FileField(_l("Foto (niet verplicht)"))
    photo_alt = StringField(
        _l("Wat staat er op de foto?"),
        filters=[strip_text],
        validators=[
            Optional(),
            Length(
                max=wijk_news.PHOTO_ALT_MAX,
                message=_l("Beschrijf de foto in maximaal 200 tekens."),
            ),
        ],
    )
    remove_photo = BooleanField(_l("Haal de foto weg"))


NEWS_ERRORS = {
    "wijk_not_allowed": ("wijk", _l("Kies een van uw wijken.")),
    "title_required": ("title", _l("Vul een titel in.")),
    "title_too_long": ("title", _l("De titel mag maximaal 120 tekens zijn.")),
    "text_required": ("text", _l("Schrijf de tekst van het bericht.")),
    "text_too_long": ("text", _l("De tekst mag maximaal 2000 tekens zijn.")),
    "alt_required": (
        "photo_alt",
        _l("Beschrijf wat er op de foto staat, voor wie de foto niet kan zien."),
    ),
    "alt_too_long": ("photo_alt", _l("Beschrijf de foto in maximaal 200 tekens.")),
    "withdrawn": ("title", _l("Dit bericht is ingetrokken en kan niet meer worden gewijzigd.")),
}


def _now() -> datetime:
    return datetime.now(UTC)


def _news_or_404(news_id: int) -> WijkNews:
    """News this user may change; another wijk's is not found."""
    news = db.session.get(WijkNews, news_id)
    if news is None or not wijk_news.may_edit(current_user, news):
        abort(404)
    return news


def _add_error(form: NewsForm, field_name: str, message: str) -> None:
    field = form[field_name]
    field.errors = [*field.errors, message]


def _form_page(form: NewsForm, news: WijkNews | None, code: int = 200) -> Any:
    wijken = wijk_news.postable_wijken(db.session, current_user)
    return (
        render_template(
            "backoffice/news_form.html",
            form=form,
            news=news,
            wijk_options=[(w.code, w.name) for w in wijken],
            errors=form.error_summary(),
            max_mb=max_mb(),
            nav="news",
        ),
        code,
    )


@bp.get("/wijknieuws", endpoint="news")
@roles_required(*STAFF_ROLES)
def news_list():  # type: ignore[no-untyped-def]
    user = current_user._get_current_object()
    return render_template(
        "backoffice/news.html",
        items=wijk_news.staff_listing(db.session, user),
        may_post=wijk_news.may_post(user),
        has_wijken=bool(wijk_news.postable_wijken(db.session, user)),
        nav="news",
    )


@bp.route("/wijknieuws/nieuw", methods=["GET", "POST"])
@roles_required(*WORKER_ROLES)
def news_new():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        wijken = wijk_news.postable_wijken(db.session, current_user)
        first = wijken[0].code if len(wijken) == 1 else ""
        return _form_page(NewsForm(formdata=None, data={"wijk": first}), None)
    return _save(NewsForm(), None)


@bp.route("/wijknieuws/<int:news_id>", methods=["GET", "POST"])
@roles_required(*WORKER_ROLES)
def news_edit(news_id: int):  # type: ignore[no-untyped-def]
    news = _news_or_404(news_id)
    if request.method == "GET":
        data = {
            "wijk": news.wijk_code,
            "title": news.title,
            "text": news.body,
            "photo_alt": wijk_news.photo_alt(news),
        }
        return _form_page(NewsForm(formdata=None, data=data), news)
    if news.withdrawn_at is not None:
        flash(str(NEWS_ERRORS["withdrawn"][1]), "info")
        return redirect(url_for("backoffice.news"), code=303)
    return _save(NewsForm(), news)


def _save(form: NewsForm, news: WijkNews | None) -> Any:
    upload = request.files.get(form.photo.name)
    has_upload = bool(upload and upload.filename)
    keeps_photo = news is not None and not form.remove_photo.data and wijk_news.photo_name(news)
    valid = form.validate()
    if (has_upload or keeps_photo) and not form.photo_alt.data:
        _add_error(form, "photo_alt", str(NEWS_ERRORS["alt_required"][1]))
        valid = False
    if not valid:
        return _form_page(form, news, 422)
    photo_name = wijk_news.photo_name(news) if keeps_photo and news else None
    new_photo = None
    if has_upload and upload is not None:
        # Only a form that is otherwise right stores the photo: a refused one leaves no file.
        try:
            new_photo = news_photo_store().accept(upload.stream).stored_name
        except PhotoRejected as rejected:
            sizes = {"name": upload.filename, "mb": max_mb(), "mp": MAX_PIXELS // 1_000_000}
            _add_error(form, "photo", str(PHOTO_ERRORS[rejected.reason] % sizes))
            return _form_page(form, news, 422)
        photo_name = new_photo
    data = NewsInput(
        wijk_code=form.wijk.data or "",
        title=form.title.data or "",
        text=form.text.data or "",
        photo_name=photo_name,
        photo_alt=form.photo_alt.data if photo_name else None,
    )
    user = current_user._get_current_object()
    try:
        if news is None:
            saved = wijk_news.post_news(db.session, user, data, now=_now())
            unused = None
        else:
            saved = news
            unused = wijk_news.update_news(db.session, user, news, data, now=_now())
        db.session.commit()
    except NewsError as error:
        db.session.rollback()
        _discard(new_photo)
        field_name, message = NEWS_ERRORS[error.code]
        _add_error(form, field_name, str(message))
        return _form_page(form, news, 422)
    _discard(unused)
    if news is None:
        flash(
            _(
                "Uw bericht ‘%(title)s’ staat op de pagina van wijk %(wijk)s.",
                title=saved.title,
                wijk=saved.wijk.name,
            ),
            "ok",
        )
    else:
        flash(_("Uw wijziging in ‘%(title)s’ is opgeslagen.", title=saved.title), "ok")
    return redirect(url_for("backoffice.news"), code=303)


def _discard(name: str | None) -> None:
    """A photo no news refers to any more (replaced, removed, or of a refused save)."""
    path = news_photo_store().path(name) if name else None
    if path is not None:
        path.unlink(missing_ok=True)


@bp.post("/wijknieuws/<int:news_id>/intrekken")
@roles_required(*WORKER_ROLES)
def news_withdraw(news_id: int):  # type: ignore[no-untyped-def]
    news = _news_or_404(news_id)
    try:
        wijk_news.withdraw_news(db.session, current_user, news, now=_now())
    except NewsError:
        db.session.rollback()
        flash(_("Dit bericht was al ingetrokken."), "info")
        return redirect(url_for("backoffice.news"), code=303)
    db.session.commit()
    flash(
        _(
            "‘%(title)s’ is ingetrokken. Het staat niet meer op de wijkpagina en in de feed.",
            title=news.title,
        ),
        "ok",
    )
    return redirect(url_for("backoffice.news"), code=303)
