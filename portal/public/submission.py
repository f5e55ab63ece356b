"""The answers of the report form (the public one, or staff intake built from its fields) as
the input of the one intake operation."""

from __future__ import annotations

from typing import Any

from portal.domain import intake
from portal.domain.geography import normalise_postcode
from portal.domain.routing import LocationInput
from portal.public.photo_uploads import KeptPhoto
from portal.vocabulary import Kind, Theme


def submission_from(
    form: Any, kept: list[KeptPhoto], *, locale: str, **extra: Any
) -> intake.Submission:
    """``form`` has the report form's fields and its ``pin()`` and ``organisation()`` (checked
    with the form: on behalf of an organisation its name and KvK number cleaned, as a resident
    none; intake derives the submitter kind from the name). ``extra``: the Submission's other
    fields (public_display on the public form; channel and registrar_id for staff)."""
    pin = form.pin()
    organisation = form.organisation()
    return intake.Submission(
        kind=Kind(form.kind.data),
        themes=[Theme(t) for t in form.themes.data if t in set(Theme)],
        title=form.title.data or "",
        description=form.description.data,
        location=LocationInput(
            lon=pin[0] if pin else None,
            lat=pin[1] if pin else None,
            buurt_code=form.buurt.data or None,
            wijk_code=form.wijk.data or None,
            postcode=normalise_postcode(form.postcode.data or ""),
        ),
        street=form.street.data or None,
        house_number=form.house_number.data or None,
        photos=[k.stored for k in kept],
        reporter=intake.ReporterInput(
            name=form.name.data or None,
            email=(form.email.data or "").lower() or None,
            phone=form.phone.data or None,
            may_contact=form.may_contact.data,
            may_share_with_partners=form.may_share_with_partners.data,
            organisation_name=organisation.name,
            kvk_number=organisation.kvk_number,
        ),
        locale=locale,
        submission_key=form.submission_key.data,
        **extra,
    )
