"""The wijk pages: every wijk with its buurten and accountmanager(s), one wijk's page with how
to reach them, its partners, news and initiatives, and the accountmanagers' public photos."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, send_file, url_for

from portal.domain import profiles, wijk_news, wijk_pages
from portal.domain.photos import is_stored_name
from portal.domain.steering import thermometer
from portal.extensions import db
from portal.public import bp
from portal.public.figures_views import current_thermometer

# Bureau Wijkzaken's own number, for residents whose wijk has nobody (or who prefer it).
BUREAU_PHONE = "14 035"
# A photo's name changes with every upload, so a browser may keep one for a day; a removed
# photo is refused at once (the route checks the profile), a cached copy lasts at most this.
PHOTO_MAX_AGE = 86400


@bp.context_processor
def _wijk_helpers() -> dict[str, object]:
    # The home page (and any public page) can name the accountmanager per wijk; the
    # query runs only when a template asks.
    return {
        "wijk_contacts": lambda: wijk_pages.contacts_by_wijk(db.session),
        "bureau_phone": BUREAU_PHONE,
    }


@bp.app_template_filter("tel_uri")
def _tel_uri(phone: str) -> str:
    return profiles.tel_uri(phone)


@bp.get("/wijken")
def wijken():  # type: ignore[no-untyped-def]
    return render_template("public/wijken.html", index=wijk_pages.wijk_index(db.session))


@bp.get("/wijken/<code>")
def wijk(code: str):  # type: ignore[no-untyped-def]
    canonical = code.strip().upper()
    page = wijk_pages.wijk_page(db.session, canonical) if len(canonical) <= 10 else None
    if page is None:
        index = wijk_pages.wijk_index(db.session)
        return render_template("public/wijken.html", index=index, unknown=True), 404
    if canonical != code:  # "wk040203" from a typed or printed link: the one address
        return redirect(url_for(".wijk", code=canonical), code=301)
    return render_template(
        "public/wijk.html",
        page=page,
        wijk=page.wijk,
        news=wijk_news.recent_for_wijk(db.session, page.wijk.code),
        initiative_labels=wijk_pages.INITIATIVE_STATUS_LABELS,
        figures=current_thermometer(),
        minimum=thermometer.MINIMUM,
    )


@bp.get("/profielfoto/<name>")
def profile_photo(name: str):  # type: ignore[no-untyped-def]
    """An accountmanager's public photo; nothing else from the upload folder, ever."""
    if not is_stored_name(name) or not wijk_pages.photo_in_use(db.session, name):
        abort(404)
    store = profiles.photo_store(
        current_app.config["UPLOAD_FOLDER"], current_app.config["MAX_PHOTO_BYTES"]
    )
    path = store.path(name)
    if path is None or not path.is_file():
        abort(404)
    mimetype = "image/png" if name.endswith(".png") else "image/jpeg"
    response = send_file(path, mimetype=mimetype, max_age=PHOTO_MAX_AGE, conditional=True)
    response.cache_control.public = True
    return response
