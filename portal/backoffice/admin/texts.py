"""Admin screens for standard texts (answers accountmanagers start from)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.backoffice.admin.forms import (
    StandardTextForm,
)
from portal.domain.standard_texts import PLACEHOLDERS, TextError, save_text
from portal.extensions import db
from portal.models import Role, StandardText
from portal.vocabulary import KIND_NAMES, STATUS_LABELS


def _placeholder_list() -> str:
    return ", ".join("{" + p + "}" for p in PLACEHOLDERS)


def _text_error(form: StandardTextForm, error: TextError) -> None:
    code = error.code
    if code == "unknown_placeholder":
        add_error(
            form.body,
            _(
                "Deze plaatshouder kennen we niet: %(unknown)s. U kunt gebruiken: %(known)s.",
                unknown=", ".join(error.unknown),
                known=_placeholder_list(),
            ),
        )
    elif code == "unpaired_brace":
        add_error(
            form.body,
            _(
                "Er staat een losse { of } in de tekst. Gebruik accolades alleen rond een "
                "plaatshouder, zoals {meldnummer}."
            ),
        )
    elif code == "unknown_status":
        add_error(form.status, _("Kies een status uit de lijst."))
    elif code == "unknown_kind":
        add_error(form.kind, _("Kies een soort uit de lijst."))
    elif code == "title_too_long":
        add_error(form.title, _("De titel is te lang."))
    elif code == "body_too_long":
        add_error(form.body, _("De tekst is te lang."))
    else:
        add_error(form.title, _("Vul een titel en een tekst in."))


def _text_form_page(form: StandardTextForm, text: StandardText | None, status: int) -> Any:
    return (
        render_template(
            "backoffice/admin/text_form.html",
            form=form,
            text=text,
            placeholders=_placeholder_list(),
            errors=form.error_summary(),
            nav="admin",
        ),
        status,
    )


@bp.get("/beheer/standaardteksten")
@roles_required(Role.ADMIN)
def admin_texts():  # type: ignore[no-untyped-def]
    texts = db.session.scalars(
        select(StandardText).order_by(StandardText.active.desc(), StandardText.title)
    ).all()
    return render_template(
        "backoffice/admin/texts.html",
        texts=texts,
        status_labels=STATUS_LABELS,
        kind_names=KIND_NAMES,
        nav="admin",
    )


def _save_text_view(text: StandardText | None) -> Any:
    if request.method == "POST":
        form = StandardTextForm()
    elif text is None:
        form = StandardTextForm(formdata=None, data={"active": True})
    else:
        form = StandardTextForm(
            formdata=None,
            data={
                "title": text.title,
                "body": text.body,
                "status": text.status or "",
                "kind": text.kind or "",
                "active": text.active,
            },
        )
    if form.validate_on_submit():
        try:
            saved = save_text(
                db.session,
                text,
                title=form.title.data or "",
                body=form.body.data or "",
                status=form.status.data or None,
                kind=form.kind.data or None,
                active=bool(form.active.data),
                actor_id=current_user.id,
            )
            return done(
                _("De standaardtekst ‘%(title)s’ is opgeslagen.", title=saved.title),
                "backoffice.admin_texts",
            )
        except TextError as error:
            db.session.rollback()
            _text_error(form, error)
    status = 422 if request.method == "POST" else 200
    return _text_form_page(form, text, status)


@bp.route("/beheer/standaardteksten/nieuw", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_new():  # type: ignore[no-untyped-def]
    return _save_text_view(None)


@bp.route("/beheer/standaardteksten/<int:text_id>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_text_edit(text_id: int):  # type: ignore[no-untyped-def]
    text = db.session.get(StandardText, text_id)
    if text is None:
        abort(404)
    return _save_text_view(text)
