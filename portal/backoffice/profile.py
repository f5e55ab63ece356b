"""The accountmanager's public profile on the wijk page ("Mijn wijkprofiel"), and the same
page for an admin who edits any accountmanager's: the introduction and work contacts, the
photo, and taking the photo off. One form per action, each with its own button.

Authorisation by address: ``/backoffice/profiel`` is always the logged-in accountmanager's
own (there is no id to change), ``/backoffice/beheer/gebruikers/<id>/profiel`` is for admins
only; ``profiles.may_edit`` is asked again on every route all the same."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, user_or_404
from portal.backoffice.forms import ConfirmForm
from portal.domain import profiles
from portal.domain.photos import MAX_PIXELS, PhotoRejected, PhotoStore
from portal.extensions import db
from portal.models import Role, User
from portal.public.form_base import PortalForm


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class ProfileForm(PortalForm):
    # The length is checked by profiles.update_profile, not by a Length validator: that
    # would render maxlength, and the browser would silently cut off what she typed.
    intro = TextAreaField(_l("Over mij"))
    public_phone = StringField(_l("Telefoonnummer voor bewoners"), filters=[_strip])
    public_email = StringField(_l("E-mailadres voor bewoners"), filters=[_strip])


class PhotoForm(PortalForm):
    photo = FileField(_l("Kies een foto"))


PROFILE_ERRORS = {
    ("intro", "too_long"): _l(
        "Uw introductie is te lang: gebruik hoogstens %(max)d tekens.", max=profiles.INTRO_MAX
    ),
    ("phone", "invalid"): _l(
        "Vul een telefoonnummer in met alleen cijfers en spaties, bijvoorbeeld 035 629 22 11."
    ),
    ("phone", "too_long"): _l("Dit telefoonnummer is te lang."),
    ("email", "invalid"): _l("Vul een geldig e-mailadres in, bijvoorbeeld naam@hilversum.nl."),
    ("email", "too_long"): _l("Dit e-mailadres is te lang."),
}
PHOTO_ERRORS = {
    "too_large": _l("Deze foto is groter dan %(mb)d MB. Kies een kleinere foto."),
    "too_many_pixels": _l(
        "Deze foto is te groot: hooguit %(mp)d megapixel. Kies een kleinere foto."
    ),
    "not_an_image": _l("Dit is geen foto in JPG of PNG. Kies een andere foto."),
    "unsupported": _l("Dit is geen foto in JPG of PNG. Kies een andere foto."),
}


# --- who, and where their page is ------------------------------------------------------------


def _own() -> User:
    user = db.session.get(User, current_user.id)
    if user is None or not profiles.may_edit(current_user, user):
        abort(403)
    return user


def _someone(user_id: int) -> User:
    user = user_or_404(user_id)
    if not profiles.has_profile(user):
        abort(404)  # only accountmanagers have a wijk profile
    if not profiles.may_edit(current_user, user):
        abort(403)
    return user


def _urls(target: User) -> dict[str, str]:
    if target.id == current_user.id and current_user.role == Role.ACCOUNTMANAGER:
        return {
            "page": url_for(".profile_own"),
            "photo": url_for(".profile_own_photo"),
            "remove": url_for(".profile_own_photo_remove"),
        }
    return {
        "page": url_for(".admin_user_profile", user_id=target.id),
        "photo": url_for(".admin_user_profile_photo", user_id=target.id),
        "remove": url_for(".admin_user_profile_photo_remove", user_id=target.id),
    }


def _store() -> PhotoStore:
    return profiles.photo_store(
        current_app.config["UPLOAD_FOLDER"], current_app.config["MAX_PHOTO_BYTES"]
    )


# --- the page and its three actions ------------------------------------------------------------


def _render(
    target: User,
    form: ProfileForm | None = None,
    photo_form: PhotoForm | None = None,
    code: int = 200,
) -> Any:
    profile = profiles.profile_of(db.session, target)
    if form is None:
        form = ProfileForm(
            formdata=None,
            data={
                "intro": profile.intro if profile else "",
                "public_phone": profile.public_phone if profile else "",
                "public_email": profile.public_email if profile else "",
            },
        )
    photo_form = photo_form or PhotoForm(formdata=None)
    own = target.id == current_user.id
    return (
        render_template(
            "backoffice/profile.html",
            target=target,
            own=own,
            profile=profile,
            form=form,
            photo_form=photo_form,
            remove_form=ConfirmForm(formdata=None),
            errors=form.error_summary() + photo_form.error_summary(),
            urls=_urls(target),
            intro_max=profiles.INTRO_MAX,
            max_mb=max(1, current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)),
            nav="account" if own else "admin",
        ),
        code,
    )


def _saved(target: User, message: str) -> Any:
    flash(message, "ok")
    return redirect(_urls(target)["page"], code=303)


def _save_text(target: User) -> Any:
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render(target, form=form, code=422)
    data = profiles.ProfileInput(
        intro=form.intro.data, phone=form.public_phone.data, email=form.public_email.data
    )
    try:
        changed = profiles.update_profile(db.session, target, data, actor_id=current_user.id)
    except profiles.ProfileRefused as refused:
        db.session.rollback()
        fields = {"intro": form.intro, "phone": form.public_phone, "email": form.public_email}
        for field, problem in refused.problems:
            add_error(fields[field], str(PROFILE_ERRORS[(field, problem)]))
        return _render(target, form=form, code=422)
    db.session.commit()
    if not changed:
        return _saved(target, _("Er is niets veranderd."))
    if target.id == current_user.id:
        return _saved(target, _("Uw wijkprofiel is opgeslagen. Bewoners zien het meteen."))
    return _saved(target, _("Het wijkprofiel van %(name)s is opgeslagen.", name=target.name))


def _save_photo(target: User) -> Any:
    form = PhotoForm()
    upload = request.files.get(form.photo.name)
    if not form.validate_on_submit():
        return _render(target, photo_form=form, code=422)
    if upload is None or not upload.filename:
        add_error(form.photo, _("Kies een foto om te uploaden."))
        return _render(target, photo_form=form, code=422)
    store = _store()
    try:
        previous = profiles.set_photo(
            db.session, target, store, upload.stream, actor_id=current_user.id
        )
    except PhotoRejected as rejected:
        db.session.rollback()
        sizes = {
            "mb": max(1, current_app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)),
            "mp": MAX_PIXELS // 1_000_000,
        }
        add_error(form.photo, str(PHOTO_ERRORS[rejected.reason]) % sizes)
        return _render(target, photo_form=form, code=422)
    db.session.commit()
    profiles.discard_photo(store, previous)  # only now: a failed commit keeps the old one
    return _saved(target, _("De foto staat op de wijkpagina."))


def _remove_photo(target: User) -> Any:
    if not ConfirmForm().validate_on_submit():
        return _render(target, code=400)
    previous = profiles.remove_photo(db.session, target, actor_id=current_user.id)
    db.session.commit()
    profiles.discard_photo(_store(), previous)
    if previous is None:
        return _saved(target, _("Er stond geen foto op de wijkpagina."))
    return _saved(target, _("De foto is van de wijkpagina gehaald."))


# --- the accountmanager's own -----------------------------------------------------------------


@bp.route("/profiel", methods=["GET", "POST"])
@roles_required(Role.ACCOUNTMANAGER)
def profile_own():  # type: ignore[no-untyped-def]
    target = _own()
    return _save_text(target) if request.method == "POST" else _render(target)


@bp.post("/profiel/foto")
@roles_required(Role.ACCOUNTMANAGER)
def profile_own_photo():  # type: ignore[no-untyped-def]
    return _save_photo(_own())


@bp.post("/profiel/foto/verwijderen")
@roles_required(Role.ACCOUNTMANAGER)
def profile_own_photo_remove():  # type: ignore[no-untyped-def]
    return _remove_photo(_own())


# --- an admin's, for any accountmanager --------------------------------------------------------


@bp.route("/beheer/gebruikers/<int:user_id>/profiel", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_user_profile(user_id: int):  # type: ignore[no-untyped-def]
    target = _someone(user_id)
    return _save_text(target) if request.method == "POST" else _render(target)


@bp.post("/beheer/gebruikers/<int:user_id>/profiel/foto")
@roles_required(Role.ADMIN)
def admin_user_profile_photo(user_id: int):  # type: ignore[no-untyped-def]
    return _save_photo(_someone(user_id))


@bp.post("/beheer/gebruikers/<int:user_id>/profiel/foto/verwijderen")
@roles_required(Role.ADMIN)
def admin_user_profile_photo_remove(user_id: int):  # type: ignore[no-untyped-def]
    return _remove_photo(_someone(user_id))
