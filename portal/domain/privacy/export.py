"""The copy a resident receives of what is held about them (AVG art. 15 and 20): one ZIP with
``gegevens.json`` (everything, machine-readable), ``samenvatting.txt`` (the same, readable;
written by the caller in the resident's language), the photos as ``fotos/<meldnummer>-<n>``
and the mails they sent in as ``e-mail/<n>.eml``.

What staff wrote for each other on a signal (internal notes) is listed by date and kind, not
its text: those notes can hold other people's data, and the privacy officer weighs each
request for them separately (UAVG art. 41)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from portal.domain.privacy.holdings import Holdings
from portal.models import AuditRecord, OutboxMessage, Signal, SignalEvent

JSON_NAME = "gegevens.json"
SUMMARY_NAME = "samenvatting.txt"


def photo_name(signal: Signal, position: int, stored_name: str) -> str:
    return f"fotos/{signal.reference}-{position}{Path(stored_name).suffix}"


def write_zip(
    held: Holdings,
    out: IO[bytes],
    *,
    summary: str,
    photo_path: Callable[[str], Path | None],
    now: datetime,
) -> None:
    """``photo_path``: where a stored photo's file is (``PhotoStore.path``). A photo whose
    file is gone (the sweep was first) is named in the JSON without a file."""
    data = as_json(held, now=now)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for signal_data, signal in zip(data["meldingen"], held.signals, strict=True):
            for photo, attachment in zip(signal_data["fotos"], signal.attachments, strict=True):
                path = photo_path(attachment.stored_name)
                if path is not None and path.is_file():
                    # Already compressed: stored as they are.
                    archive.write(path, photo["bestand"], compress_type=zipfile.ZIP_STORED)
                else:
                    photo["bestand"] = None
        for number, mail in enumerate(held.mail_in, start=1):
            if mail.raw:
                archive.writestr(f"e-mail/{number}.eml", mail.raw)
        archive.writestr(JSON_NAME, json.dumps(data, ensure_ascii=False, indent=2))
        archive.writestr(SUMMARY_NAME, summary)


def as_json(held: Holdings, *, now: datetime) -> dict[str, Any]:
    return {
        "gemaakt_op": _time(now),
        "gezocht_op": {"soort": str(held.subject.kind), "waarde": held.subject.value},
        "meldingen": [_signal(s) for s in held.signals],
        "meer_meldingen_dan_getoond": held.more_signals,
        "gevolgde_meldingen": [
            {
                "meldnummer": held.references.get(f.signal_id),
                "e_mailadres": f.email,
                "sinds": _time(f.created_at),
                "gestopt_op": _time(f.unsubscribed_at),
            }
            for f in held.following
        ],
        "wijkberichten": [
            {
                "wijk": a.wijk_code,
                "e_mailadres": a.email,
                "aangemeld_op": _time(a.created_at),
                "bevestigd_op": _time(a.confirmed_at),
                "afgemeld_op": _time(a.unsubscribed_at),
            }
            for a in held.alerts
        ],
        "e_mails_aan_u": [_mail_out(m) for m in held.mail_out],
        "e_mails_van_u": [
            {
                "ontvangen_op": _time(m.received_at),
                "van": m.envelope_from,
                "onderwerp": m.subject,
                "bestand": f"e-mail/{n}.eml" if m.raw else None,
            }
            for n, m in enumerate(held.mail_in, start=1)
        ],
        "logboek": [_audit(r, held) for r in held.audit_trail],
    }


def _signal(signal: Signal) -> dict[str, Any]:
    reporter = signal.reporter
    return {
        "meldnummer": signal.reference,
        "soort": signal.kind,
        "onderwerpen": [t.theme for t in signal.themes],
        "titel": signal.title,
        "omschrijving": signal.description,
        "plek": {
            "straat": signal.street,
            "huisnummer": signal.house_number,
            "postcode": signal.postcode,
            "wijk": signal.wijk_code,
            "buurt": signal.buurt_code,
            "lengtegraad": signal.lon,
            "breedtegraad": signal.lat,
        },
        "status": signal.status,
        "ontvangen_op": _time(signal.created_at),
        "afgesloten_op": _time(signal.closed_at),
        "melder": {
            "naam": reporter.name if reporter else None,
            "e_mailadres": reporter.email if reporter else None,
            "telefoon": reporter.phone if reporter else None,
            "organisatie": reporter.organisation_name if reporter else None,
            "kvk_nummer": reporter.kvk_number if reporter else None,
            "mag_contact_opnemen": reporter.may_contact if reporter else False,
            "mag_delen_met_partners": reporter.may_share_with_partners if reporter else False,
        },
        "contactgegevens_verwijderd_op": _time(signal.contact_data_removed_at),
        "tijdlijn": [_event(e) for e in signal.events],
        "fotos": [
            {
                "bestand": photo_name(signal, n, a.stored_name),
                "ontvangen_op": _time(a.created_at),
                "breedte": a.width,
                "hoogte": a.height,
            }
            for n, a in enumerate(signal.attachments, start=1)
        ],
    }


def _event(event: SignalEvent) -> dict[str, Any]:
    shown = event.is_public or event.by_resident
    return {
        "op": _time(event.created_at),
        "soort": event.kind,
        "van_u": event.by_resident,
        "openbaar": event.is_public,
        "van_status": event.from_status,
        "naar_status": event.to_status,
        # An internal note's text is for the privacy officer to weigh (module docstring).
        "tekst": event.message if shown else None,
    }


def _mail_out(message: OutboxMessage) -> dict[str, Any]:
    return {
        "gemaakt_op": _time(message.created_at),
        "verstuurd_op": _time(message.sent_at),
        "aan": message.recipient,
        "onderwerp": message.subject,
        "status": message.status,
        "tekst": message.body_text,
    }


def _audit(record: AuditRecord, held: Holdings) -> dict[str, Any]:
    # Which colleague did it is their data, not the resident's: the action and the moment.
    return {
        "op": _time(record.created_at),
        "handeling": record.action,
        "meldnummer": held.references.get(record.signal_id or 0),
    }


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
