"""The admin's screen for a resident's privacy request (AVG): look up everything held about an
email address or phone number, download it as one ZIP, or erase it with a reason.

The address travels in POST bodies only, never in a URL (server logs and browser history
keep URLs). Every lookup, export and erasure is in the audit trail, under a keyed hash of
the address (``privacy.holdings``)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from typing import Any

from flask import current_app, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.backoffice import bp
from portal.backoffice.access import roles_required
from portal.backoffice.admin.common import add_error, done
from portal.domain.privacy import erasure, export, holdings
from portal.domain.privacy.holdings import Holdings, NotASubject, Subject
from portal.extensions import db
from portal.models import Role
from portal.public.form_base import PortalForm
from portal.public.services import photo_store

# An export of up to this size is built in memory, a larger one in a temporary file.
_IN_MEMORY_EXPORT = 16 * 1024 * 1024
# Three forms on one page: prefixed, so that no two fields share an id.
_EXPORT, _ERASE = "download", "wissen"


class SubjectForm(PortalForm):
    subject = StringField(
        _l("E-mailadres of telefoonnummer"),
        validators=[
            InputRequired(_l("Vul een e-mailadres of telefoonnummer in.")),
            Length(max=holdings.MAX_QUERY, message=_l("Dit is te lang voor een e-mailadres.")),
        ],
    )


class ExportForm(PortalForm):
    subject = HiddenField()


class EraseForm(PortalForm):
    subject = HiddenField()
    reason = TextAreaField(
        _l("Reden"),
        validators=[
            InputRequired(_l("Vul de reden in, bijvoorbeeld het verzoek van de bewoner.")),
            Length(
                min=erasure.REASON_MIN,
                max=erasure.REASON_MAX,
                message=_l(
                    "Schrijf de reden in %(min)d tot %(max)d tekens.",
                    min=erasure.REASON_MIN,
                    max=erasure.REASON_MAX,
                ),
            ),
        ],
    )
    with_photos = BooleanField(_l("Ook de foto's van deze meldingen verwijderen"))
    confirm = BooleanField(
        _l("Ik weet dat dit niet ongedaan kan worden"),
        validators=[DataRequired(_l("Vink aan dat u weet dat dit niet ongedaan kan worden."))],
    )


@bp.route("/beheer/privacy", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def admin_privacy():  # type: ignore[no-untyped-def]
    form = SubjectForm()
    if form.validate_on_submit():
        held = _find(form.subject.data, form)
        if held is not None:
            holdings.record_lookup(db.session, held, action="subject_access.searched", **_who())
            db.session.commit()
            return _results(held, form)
    return _search_page(form)


@bp.post("/beheer/privacy/download")
@roles_required(Role.ADMIN)
def admin_privacy_export():  # type: ignore[no-untyped-def]
    form = ExportForm(prefix=_EXPORT)
    search = SubjectForm(formdata=None, data={"subject": form.subject.data})
    held = _find(form.subject.data, search) if form.validate_on_submit() else None
    if held is None:
        return _search_page(search)
    now = datetime.now(UTC)
    holdings.record_lookup(db.session, held, action="subject_access.exported", **_who())
    summary = render_template(
        "backoffice/admin/privacy_summary.txt", held=held, asked=form.subject.data, now=now
    )
    out = tempfile.SpooledTemporaryFile(max_size=_IN_MEMORY_EXPORT)  # noqa: SIM115 (sent, then closed)
    export.write_zip(held, out, summary=summary, photo_path=photo_store().path, now=now)
    db.session.commit()
    out.seek(0)
    response = send_file(
        out,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"gegevens-{now:%Y%m%d-%H%M}.zip",
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/beheer/privacy/wissen")
@roles_required(Role.ADMIN)
def admin_privacy_erase():  # type: ignore[no-untyped-def]
    form = EraseForm(prefix=_ERASE)
    search = SubjectForm(formdata=None, data={"subject": form.subject.data})
    held = _find(form.subject.data, search)
    if held is None:
        return _search_page(search)
    if not form.validate_on_submit():
        return _results(held, search, erase_form=form, code=422)
    report = erasure.erase(
        db.session,
        held,
        reason=form.reason.data,
        with_photos=bool(form.with_photos.data),
        now=datetime.now(UTC),
        **_who(),
    )
    db.session.commit()
    photo_store().remove(report.photo_files)  # only once the rows are surely gone
    return done(
        _(
            "Gewist. Meldingen zonder contactgegevens: %(signals)d. Foto's: %(photos)d. "
            "Gevolgde meldingen: %(following)d. Aanmeldingen voor wijkberichten: %(alerts)d. "
            "E-mails: %(mails)d. De meldingen zelf blijven bewaard.",
            signals=report.signals,
            photos=report.photos,
            following=report.following,
            alerts=report.alerts,
            mails=report.mails,
        ),
        "backoffice.admin_privacy",
    )


def _who() -> dict[str, Any]:
    return {"actor_id": current_user.id, "secret": current_app.config["SECRET_KEY"]}


def _find(text: str | None, form: SubjectForm) -> Holdings | None:
    try:
        subject = Subject.parse(text or "")
    except NotASubject:
        add_error(
            form.subject,
            _("Vul een e-mailadres in (zoals naam@voorbeeld.nl) of een telefoonnummer."),
        )
        return None
    return holdings.find(db.session, subject)


def _search_page(form: SubjectForm) -> Any:
    errors = form.error_summary()
    page = render_template(
        "backoffice/admin/privacy.html", form=form, errors=errors, held=None, nav="admin"
    )
    return page, 422 if errors else 200


def _results(
    held: Holdings, form: SubjectForm, *, erase_form: EraseForm | None = None, code: int = 200
) -> Any:
    subject = {"subject": form.subject.data}
    erase_form = erase_form or EraseForm(formdata=None, data=subject, prefix=_ERASE)
    export_form = ExportForm(formdata=None, data=subject, prefix=_EXPORT)
    page = render_template(
        "backoffice/admin/privacy.html",
        form=form,
        errors=erase_form.error_summary(),
        held=held,
        export_form=export_form,
        erase_form=erase_form,
        nav="admin",
    )
    return page, code
