"""The forms of the dossier screens and of the signal page's dossier part, and the Dutch
sentence for each refusal of the domain (``domain.dossiers``), next to the right field.

The forms only carry the input: the rules (a title, one dossier per signal, who may send to
everyone) are the domain's, which answers with a code that ``explain`` words. Forms that
change what a colleague may be looking at carry the dossier's ``version``; the status
change also carries the version of each signal as the page showed it."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import HiddenInput

from portal.backoffice.signal_forms import VersionedForm
from portal.domain.casework import MESSAGE_MAX
from portal.domain.dossiers import dossiers
from portal.domain.dossiers.bulk import SignalRefused
from portal.domain.ids import parse_id
from portal.public.form_base import PortalForm, strip_text
from portal.vocabulary import STAFF_STATUS_LABELS, Status


class _DossierFields:
    """Title, description, owner and wijk: the same on the new form and the edit form."""

    def owner_id(self) -> int | None:
        return parse_id(self.owner.data)  # type: ignore[attr-defined]


def _title(field_id: str, label: str = _l("Titel")) -> StringField:
    return StringField(
        label,
        id=field_id,
        filters=[strip_text],
        validators=[
            DataRequired(_l("Geef het dossier een titel.")),
            Length(
                max=dossiers.TITLE_MAX,
                message=_l(
                    "Gebruik voor de titel hoogstens %(max)d tekens.", max=dossiers.TITLE_MAX
                ),
            ),
        ],
    )


def _description(field_id: str) -> TextAreaField:
    return TextAreaField(
        _l("Beschrijving (niet verplicht)"),
        id=field_id,
        validators=[
            Length(
                max=dossiers.DESCRIPTION_MAX,
                message=_l(
                    "Gebruik voor de beschrijving hoogstens %(max)d tekens.",
                    max=dossiers.DESCRIPTION_MAX,
                ),
            )
        ],
    )


def _owner(field_id: str) -> StringField:
    return StringField(
        _l("Eigenaar"),
        id=field_id,
        filters=[strip_text],
        validators=[DataRequired(_l("Kies wie het dossier trekt."))],
    )


# The rest of each field's rules (an owner who works signals, a real wijk) is the domain's.
class NewDossierForm(PortalForm, _DossierFields):
    title = _title("title")
    description = _description("description")
    owner = _owner("owner")
    wijk = StringField(_l("Wijk (niet verplicht)"), id="wijk", filters=[strip_text])


class EditDossierForm(VersionedForm, _DossierFields):
    title = _title("edit-title")
    description = _description("edit-description")
    owner = _owner("edit-owner")
    wijk = StringField(_l("Wijk (niet verplicht)"), id="edit-wijk", filters=[strip_text])


class AddSignalForm(PortalForm):
    reference = StringField(_l("Meldnummer"), id="add-reference", filters=[strip_text])


class RemoveSignalForm(PortalForm):
    signal = StringField(widget=HiddenInput(), filters=[strip_text])


class UpdateForm(VersionedForm):
    message = TextAreaField(_l("Bericht aan alle melders"), id="update-message")


class BulkStatusForm(VersionedForm):
    status = StringField(_l("Nieuwe status voor de open meldingen"), id="bulk-status")
    message = TextAreaField(_l("Bericht bij de nieuwe status"), id="bulk-message")
    # "12:3,14:1": signal id and the version the page showed (see ``signal_versions``).
    signal_versions = StringField(widget=HiddenInput(), filters=[strip_text])

    def seen_signal_versions(self) -> dict[int, int]:
        seen: dict[int, int] = {}
        for pair in (self.signal_versions.data or "").split(","):
            signal_id, _sep, version = pair.partition(":")
            parsed_id, parsed_version = parse_id(signal_id), parse_id(version)
            if parsed_id is not None and parsed_version is not None:
                seen[parsed_id] = parsed_version
        return seen


def signal_versions(signals: list) -> str:  # type: ignore[type-arg]
    return ",".join(f"{s.id}:{s.version}" for s in signals)


class StateForm(VersionedForm):
    reason = TextAreaField(_l("Toelichting (niet verplicht)"), id="state-reason")


class DossierNoteForm(PortalForm):
    message = TextAreaField(_l("Interne notitie"), id="dossier-note-message")


# --- on the signal page ---------------------------------------------------------------------


class SignalDossierForm(VersionedForm):
    """Put this signal in an open dossier (the signal's version: it changes the signal)."""

    dossier = StringField(_l("Dossier"), id="dossier-choice", filters=[strip_text])


class SignalNewDossierForm(VersionedForm):
    title = _title("dossier-new-title", _l("Titel van het nieuwe dossier"))


# --- what a refusal means -------------------------------------------------------------------


def first_field(form: PortalForm) -> Field:
    return next(f for f in form if f.name not in ("csrf_token", "version", "signal_versions"))


def stale_message() -> str:
    return _(
        "Iemand anders heeft dit dossier net gewijzigd. Bekijk de nieuwe situatie en probeer "
        "het opnieuw. Wat u typte, staat nog in het formulier."
    )


def _field(form: PortalForm, name: str) -> Field:
    return form[name] if name in form else first_field(form)


def explain(form: PortalForm, error: Exception, *, hidden_count: int = 0) -> tuple[Field, str]:
    """The field a refusal belongs to and what to tell the user."""
    code = getattr(error, "code", "")
    if isinstance(error, SignalRefused):
        return _field(form, "status"), refused_signal(error, form)
    simple = {
        "title_required": ("title", _("Geef het dossier een titel.")),
        "title_too_long": (
            "title",
            _("Gebruik voor de titel hoogstens %(max)d tekens.", max=dossiers.TITLE_MAX),
        ),
        "description_too_long": (
            "description",
            _(
                "Gebruik voor de beschrijving hoogstens %(max)d tekens.",
                max=dossiers.DESCRIPTION_MAX,
            ),
        ),
        "owner_required": ("owner", _("Kies wie het dossier trekt.")),
        "unknown_owner": ("owner", _("Kies een eigenaar uit de lijst.")),
        "unknown_wijk": ("wijk", _("Kies een wijk uit de lijst.")),
        "nothing_changed": ("title", _("Er is niets veranderd: pas eerst iets aan.")),
        "dossier_closed": (
            "",
            _("Dit dossier is gesloten en kan niet worden gewijzigd. Heropen het eerst."),
        ),
        "dossier_open": ("", _("Dit dossier is al open.")),
        "reference_required": (
            "reference",
            _("Vul het meldnummer in, bijvoorbeeld HLV-2026-000123."),
        ),
        "signal_not_found": (
            "reference",
            _("Er is geen melding met dit nummer die u kunt openen. Controleer het nummer."),
        ),
        "already_in_dossier": ("reference", _("Deze melding zit al in dit dossier.")),
        "in_other_dossier": ("reference", _("Deze melding zit al in een ander dossier.")),
        "message_too_long": (
            "message",
            _("Dit bericht is te lang: het mag hoogstens %(max)d tekens hebben.", max=MESSAGE_MAX),
        ),
        "no_signals": (
            "message",
            _("Er zitten nog geen meldingen in dit dossier. Voeg eerst meldingen toe."),
        ),
        "transition_not_allowed": ("status", _("Kies een nieuwe status uit de lijst.")),
        "nothing_to_change": (
            "status",
            _("Alle open meldingen in dit dossier hebben deze status al. Er is niets veranderd."),
        ),
        "stale": ("", stale_message()),
    }
    if code in simple:
        name, message = simple[code]
        return _field(form, name), message
    if code == "hidden_signals":
        target = "status" if "status" in form else "message"
        return _field(form, target), _(
            "In dit dossier zitten meldingen die u niet mag openen (%(count)d). Alleen wie alle "
            "meldingen in het dossier mag openen, kan iets naar alle melders sturen of alle "
            "statussen wijzigen. Vraag de eigenaar van het dossier of een beheerder.",
            count=hidden_count,
        )
    if code == "message_required":
        if isinstance(form, BulkStatusForm) and form.status.data in set(Status):
            return form.message, _(
                "Schrijf een bericht aan de melders: bij de status ‘%(status)s’ is dat verplicht.",
                status=_(STAFF_STATUS_LABELS[Status(form.status.data)]),
            )
        if isinstance(form, DossierNoteForm):
            return form.message, _("Schrijf een notitie.")
        return _field(form, "message"), _("Schrijf het bericht aan de melders.")
    return first_field(form), _("Dit kan niet. Controleer wat u heeft ingevuld.")


def refused_signal(error: SignalRefused, form: PortalForm) -> str:
    """A status change refused by one signal: which one and why; nothing was changed."""
    if error.reason == "stale":
        return _(
            "Melding %(reference)s is net gewijzigd door iemand anders. Er is niets veranderd. "
            "Bekijk de meldingen hieronder en probeer het opnieuw.",
            reference=error.reference,
        )
    if error.reason == "transition_not_allowed":
        status = getattr(form, "status", None)
        target = status.data if status is not None else ""
        label = _(STAFF_STATUS_LABELS[Status(target)]) if target in set(Status) else target
        return _(
            "Melding %(reference)s kan niet naar de status ‘%(status)s’. Er is niets veranderd.",
            reference=error.reference,
            status=label,
        )
    return _(
        "Melding %(reference)s kan deze wijziging niet krijgen. Er is niets veranderd.",
        reference=error.reference,
    )


def in_other_dossier(reference: str, title: str) -> str:
    return _(
        "Deze melding zit al in dossier %(reference)s (‘%(title)s’). Een melding hoort bij één "
        "dossier: haal haar daar eerst uit.",
        reference=reference,
        title=title,
    )
