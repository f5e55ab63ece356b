"""The participation ladder: each initiative has a rung (vocabulary.Rung) with its history -
who moved it, when and why. The initiators see the current rung on their status page with one
sentence about what it means for them (vocabulary.RUNG_MEANINGS)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain import audit
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.models import LadderStep, Signal
from portal.vocabulary import Kind, Rung

REASON_MAX = 1000


def move(
    session: Session, signal: Signal, rung: str, *, reason: str, actor: Actor, seen_version: int
) -> LadderStep:
    """Puts the initiative on ``rung`` with the reason (required: the history explains every
    step). Raises CaseworkError: ``not_an_initiative``, ``unknown_rung``, ``same_rung``,
    ``reason_required``, ``reason_too_long``; StaleSignal when it changed meanwhile."""
    check_version(signal, seen_version)
    if signal.kind != Kind.INITIATIEF.value:
        raise CaseworkError("not_an_initiative")
    try:
        target = Rung(rung)
    except ValueError:
        raise CaseworkError("unknown_rung") from None
    if signal.participation_rung == target.value:
        raise CaseworkError("same_rung")
    text = (reason or "").strip()
    if not text:
        raise CaseworkError("reason_required")
    if len(text) > REASON_MAX:
        raise CaseworkError("reason_too_long")
    step = LadderStep(
        signal_id=signal.id,
        from_rung=signal.participation_rung,
        to_rung=target.value,
        reason=text,
        actor_id=actor.user_id,
        created_at=actor.now,
    )
    session.add(step)
    signal.participation_rung = target.value
    # On the staff timeline; the initiators see the rung itself on their page.
    add_event(session, signal, actor, "ladder_moved", public=False, message=text)
    audit.record(
        session,
        "signal.ladder_moved",
        actor_id=actor.user_id,
        signal_id=signal.id,
        from_rung=step.from_rung,
        to_rung=step.to_rung,
    )
    return step


def history(session: Session, signal: Signal) -> list[LadderStep]:
    """Every step, oldest first."""
    return list(
        session.scalars(
            select(LadderStep)
            .where(LadderStep.signal_id == signal.id)
            .order_by(LadderStep.created_at, LadderStep.id)
        )
    )
