"""Standard texts: admin-managed replies with placeholders such as {meldnummer}."""

from __future__ import annotations

import string

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.models import Signal, StandardText
from portal.vocabulary import Kind, Status

PLACEHOLDERS = ("meldnummer", "titel", "wijk", "buurt", "accountmanager")
TITLE_MAX = 120
BODY_MAX = 5000


class TextError(ValueError):
    """The text cannot be saved; ``code`` says why (the web layer words it). For
    ``unknown_placeholder``, ``unknown`` lists the placeholders as written ({melnummer})."""

    def __init__(self, code: str, unknown: list[str] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.unknown = unknown or []


def values_for(signal: Signal) -> dict[str, str]:
    return {
        "meldnummer": signal.reference,
        "titel": signal.title,
        "wijk": signal.wijk.name if signal.wijk else "",
        "buurt": signal.buurt.name if signal.buurt else "",
        "accountmanager": signal.owner.name if signal.owner else "Bureau Wijkzaken",
    }


def fill(body: str, signal: Signal) -> str:
    """Replaces the known placeholders and leaves every other brace alone."""
    values = values_for(signal)
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError:  # a lone brace (a text written straight into the database): as is
        return body
    out = []
    for literal, field, spec, conversion in parts:
        out.append(literal)
        if field is None:
            continue
        if field in values and not spec and not conversion:
            out.append(values[field])
        else:  # not ours: put it back as written
            extra = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            out.append("{" + field + extra + "}")
    return "".join(out)


def check_placeholders(body: str) -> list[str]:
    """The unknown placeholders in a body as written (an admin typo such as {melnummer},
    or {titel:>10}, which ``fill`` would not replace); ["{"] when a brace is unpaired."""
    try:
        parts = [(f, s, c) for _lit, f, s, c in string.Formatter().parse(body) if f is not None]
    except ValueError:
        return ["{"]
    unknown = []
    for field, spec, conversion in parts:
        if field not in PLACEHOLDERS or spec or conversion:
            extra = (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            unknown.append("{" + field + extra + "}")
    return list(dict.fromkeys(unknown))


def texts_for(session: Session, signal: Signal, status: str | None = None) -> list[StandardText]:
    """Active texts that fit this signal's kind and the given status (or any)."""
    query = select(StandardText).where(
        StandardText.active.is_(True),
        or_(StandardText.kind.is_(None), StandardText.kind == signal.kind),
    )
    if status is not None:
        query = query.where(or_(StandardText.status.is_(None), StandardText.status == status))
    return list(session.scalars(query.order_by(StandardText.title)))


def save_text(
    session: Session,
    text: StandardText | None,
    *,
    title: str,
    body: str,
    status: str | None,
    kind: str | None,
    active: bool,
    actor_id: int,
) -> StandardText:
    """Creates (``text`` None) or changes a standard text. ``status``/``kind`` None (or "")
    means: fits every status / every kind. Texts are never deleted, only made inactive."""
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise TextError("required")
    if len(title) > TITLE_MAX:
        raise TextError("title_too_long")
    if len(body) > BODY_MAX:
        raise TextError("body_too_long")
    if status and status not in set(Status):
        raise TextError("unknown_status")
    if kind and kind not in set(Kind):
        raise TextError("unknown_kind")
    unknown = check_placeholders(body)
    if unknown == ["{"]:
        raise TextError("unpaired_brace")
    if unknown:
        raise TextError("unknown_placeholder", unknown)
    created = text is None
    text = text or StandardText()
    text.title, text.body = title, body
    text.status, text.kind, text.active = status or None, kind or None, active
    session.add(text)
    session.flush()
    audit.record(
        session,
        "standard_text.created" if created else "standard_text.updated",
        actor_id=actor_id,
        standard_text_id=text.id,
        title=text.title,
        status=text.status,
        kind=text.kind,
        active=text.active,
    )
    return text
