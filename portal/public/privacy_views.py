"""A resident asks for an overview of what we keep about their email address (AVG art. 15):
/privacy/mijn-gegevens. The overview goes by mail to that address only; the page says the
same whether or not anything is held (portal/domain/privacy/overview.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Email

from portal.domain.privacy import overview
from portal.domain.privacy.holdings import NotASubject
from portal.extensions import db, limiter
from portal.public import bp
from portal.public.form_base import PortalForm, strip_text
from portal.public.services import mail_context

_NOT_AN_ADDRESS = _l("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl.")


class OverviewRequestForm(PortalForm):
    email = StringField(
        _l("E-mailadres"),
        filters=[strip_text],
        validators=[
            DataRequired(_l("Vul uw e-mailadres in.")),
            # Also refuses addresses too long to be one (the domain checks again).
            Email(message=_NOT_AN_ADDRESS, check_deliverability=False),
        ],
    )


def _settings() -> overview.OverviewSettings:
    config = current_app.config
    return overview.OverviewSettings(
        privacy_officer_email=config["PRIVACY_OFFICER_EMAIL"],
        privacy_phone=config["PRIVACY_CONTACT_PHONE"],
        repeat_minutes=int(config["PRIVACY_OVERVIEW_REPEAT_MINUTES"]),
        secret=config["SECRET_KEY"],
    )


@bp.route("/privacy/mijn-gegevens", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["PRIVACY_OVERVIEW_RATE_LIMIT"], methods=["POST"])
def privacy_overview():  # type: ignore[no-untyped-def]
    form = OverviewRequestForm()
    if form.validate_on_submit():
        try:
            overview.mail_overview(
                db.session,
                form.email.data,
                locale=str(get_locale() or "nl"),
                now=datetime.now(UTC),
                mail=mail_context(),
                settings=_settings(),
            )
        except NotASubject:
            form.email.errors = [str(_NOT_AN_ADDRESS)]
        else:
            db.session.commit()
            # The same answer whether anything is held or not: only the mailbox's owner learns.
            return redirect(url_for(".privacy_overview_sent"), code=303)
    return _render_form(form, code=422 if request.method == "POST" else 200)


@bp.get("/privacy/mijn-gegevens/verstuurd")
def privacy_overview_sent():  # type: ignore[no-untyped-def]
    return render_template(
        "public/privacy_overview_sent.html",
        repeat_minutes=int(current_app.config["PRIVACY_OVERVIEW_REPEAT_MINUTES"]),
    )


def _render_form(form: OverviewRequestForm, *, general_errors: list[str] | None = None, code: int):  # type: ignore[no-untyped-def]
    errors = form.error_summary()
    errors += [(form.email.id, message) for message in general_errors or []]
    page = render_template("public/privacy_overview.html", form=form, errors=errors)
    return page, code


def overview_after_csrf_failure():  # type: ignore[no-untyped-def]
    form = OverviewRequestForm(meta={"csrf": True})
    message = _("Uw formulier is verlopen. Controleer uw e-mailadres en verstuur het nog een keer.")
    return _render_form(form, general_errors=[message], code=400)


def overview_after_rate_limit():  # type: ignore[no-untyped-def]
    form = OverviewRequestForm(meta={"csrf": True})
    message = _(
        "U heeft in korte tijd vaak een overzicht gevraagd. Wacht even en probeer het dan "
        "opnieuw. Uw e-mailadres staat nog klaar."
    )
    return _render_form(form, general_errors=[message], code=429)
