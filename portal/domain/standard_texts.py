"""Standard texts: admin-managed replies with placeholders such as {meldnummer}."""

from __future__ import annotations

import string

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.models import Signal, StandardText

PLACEHOLDERS = ("meldnummer", "titel", "wijk", "buurt", "accountmanager")


class TextError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
    out = []
    for literal, field, spec, conversion in string.Formatter().parse(body):
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
    """The unknown placeholders in a body (an admin typo such as {melnummer})."""
    try:
        fields = [f for _lit, f, _s, _c in string.Formatter().parse(body) if f is not None]
    except ValueError:
        return ["{"]
    return [f for f in fields if f not in PLACEHOLDERS]


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
    if not title.strip() or not body.strip():
        raise TextError("required")
    if check_placeholders(body):
        raise TextError("unknown_placeholder")
    created = text is None
    text = text or StandardText()
    text.title, text.body = title.strip(), body.strip()
    text.status, text.kind, text.active = status or None, kind or None, active
    session.add(text)
    session.flush()
    audit.record(
        session,
        "standard_text.created" if created else "standard_text.updated",
        actor_id=actor_id,
        standard_text_id=text.id,
    )
    return text
