"""A schouw: a walk-through of a buurt with residents (and often council members), during
which staff register what they see, one signal after another, optionally all in one new
dossier ("Integrale handhaving Sint Vitusbuurt" started that way).

A schouw is not stored as such: it is a few settings the web layer keeps between requests
(signed, in the staff member's own session) plus the signals it registered. Each signal goes
through the one intake operation with channel SCHOUW and the staff member as registrar; the
dossier is made with the first signal, so an abandoned schouw leaves no empty dossier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.domain.casework import Actor
from portal.domain.dossiers import dossiers
from portal.domain.geography import Geography
from portal.domain.intake import (
    IntakeResult,
    IntakeSettings,
    Submission,
    load_routing_rules,
    submit_signal,
)
from portal.domain.routing import choose_owner
from portal.models import Dossier, Signal
from portal.vocabulary import Channel, DossierState

# A schouw with more entries than this is a data-entry session, not a walk-through; the
# limit keeps the state small (it travels in the session cookie).
MAX_ENTRIES = 100


@dataclass(frozen=True)
class Schouw:
    """The schouw in progress: whose it is, the buurt every entry starts in, the title of the
    dossier to group them in (None: no dossier), that dossier once made, and what it
    registered so far."""

    id: str
    user_id: int
    buurt_code: str
    wijk_code: str
    dossier_title: str | None = None
    dossier_id: int | None = None
    signal_ids: tuple[int, ...] = ()

    @property
    def full(self) -> bool:
        return len(self.signal_ids) >= MAX_ENTRIES

    def with_signal(self, signal_id: int) -> Schouw:
        if signal_id in self.signal_ids:
            return self
        return replace(self, signal_ids=(*self.signal_ids, signal_id))

    def as_state(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user": self.user_id,
            "buurt": self.buurt_code,
            "wijk": self.wijk_code,
            "dossier_title": self.dossier_title,
            "dossier": self.dossier_id,
            "signals": list(self.signal_ids),
        }

    @classmethod
    def from_state(cls, state: object, user_id: int) -> Schouw | None:
        """The schouw kept in ``state``, if it is well formed and ``user_id``'s; else None
        (another person's schouw in a shared browser is no schouw of this one)."""
        if not isinstance(state, Mapping) or state.get("user") != user_id:
            return None
        try:
            signals = tuple(int(i) for i in state.get("signals") or ())
            dossier_id = state.get("dossier")
            return cls(
                id=str(state["id"]),
                user_id=user_id,
                buurt_code=str(state["buurt"]),
                wijk_code=str(state["wijk"]),
                dossier_title=(str(state["dossier_title"]) if state.get("dossier_title") else None),
                dossier_id=int(dossier_id) if dossier_id is not None else None,
                signal_ids=signals,
            )
        except (KeyError, TypeError, ValueError):
            return None


class SchouwError(ValueError):
    """Why a schouw cannot start: ``unknown_buurt``, ``dossier_title_required``,
    ``dossier_title_too_long``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def start(
    geography: Geography,
    *,
    schouw_id: str,
    user_id: int,
    buurt_code: str,
    dossier_title: str | None,
    in_dossier: bool,
) -> Schouw:
    buurt = geography.buurt(buurt_code or "")
    if buurt is None:
        raise SchouwError("unknown_buurt")
    title = (dossier_title or "").strip() if in_dossier else ""
    if in_dossier and not title:
        raise SchouwError("dossier_title_required")
    if len(title) > dossiers.TITLE_MAX:
        raise SchouwError("dossier_title_too_long")
    return Schouw(
        id=schouw_id,
        user_id=user_id,
        buurt_code=buurt.code,
        wijk_code=buurt.wijk_code,
        dossier_title=title or None,
    )


@dataclass(frozen=True)
class Recorded:
    schouw: Schouw
    result: IntakeResult
    dossier: Dossier | None
    # The schouw's dossier was closed meanwhile (by its owner): the signal is not in it.
    dossier_closed: bool = False


def record_entry(
    session: Session,
    schouw: Schouw,
    submission: Submission,
    settings: IntakeSettings,
    *,
    dossier_description: str,
    dossier_prefix: str,
) -> Recorded:
    """One signal of the schouw, through the intake operation (channel SCHOUW, the schouw's
    staff member as registrar), and into the schouw's dossier, made with the first signal.
    Flushes; the caller commits once. Raises ``intake.OutsideHilversum`` as intake does.

    The same form sent twice (a double tap) gives the first signal back, which is already in
    the schouw and its dossier: nothing is added twice."""
    data = replace(submission, channel=Channel.SCHOUW, registrar_id=schouw.user_id)
    result = submit_signal(session, data, settings)
    if result.duplicate:
        again = repeated(schouw, result.signal)
        return Recorded(again, result, _dossier(session, again))
    dossier = _dossier(session, schouw)
    actor = Actor(user_id=schouw.user_id, now=settings.now)
    if schouw.dossier_title and dossier is None:
        dossier = dossiers.create_dossier(
            session,
            title=schouw.dossier_title,
            description=dossier_description,
            owner_id=_dossier_owner(session, schouw),
            wijk_code=schouw.wijk_code,
            actor=actor,
            reference_prefix=dossier_prefix,
        )
    closed = dossier is not None and dossier.state != DossierState.OPEN.value
    if dossier is not None and not closed:
        dossiers.add_signal(session, dossier, result.signal, actor=actor)
    updated = replace(schouw, dossier_id=dossier.id if dossier is not None else None)
    return Recorded(updated.with_signal(result.signal.id), result, dossier, dossier_closed=closed)


def repeated(schouw: Schouw, signal: Signal) -> Schouw:
    """The schouw after an entry that was stored before (a tap again after a lost answer,
    whose state may predate that entry): it takes the dossier the entry went into, so the
    next entry does not start a second one."""
    dossier_id = signal.dossier_id if signal.dossier_id is not None else schouw.dossier_id
    return replace(schouw, dossier_id=dossier_id).with_signal(signal.id)


def _dossier_owner(session: Session, schouw: Schouw) -> int:
    """Who directs the dossier: the one routing gives the schouw's wijk (who also gets its
    signals), else the staff member on the schouw. Stand-ins are not asked: an absence is
    temporary, the dossier is not."""
    owner_id, _general = choose_owner(load_routing_rules(session), schouw.wijk_code)
    return owner_id if owner_id is not None else schouw.user_id


def _dossier(session: Session, schouw: Schouw) -> Dossier | None:
    if not schouw.dossier_title or schouw.dossier_id is None:
        return None
    return session.get(Dossier, schouw.dossier_id)


def entries(session: Session, user_id: int, signal_ids: Sequence[int]) -> list[Signal]:
    """The signals of a schouw, in the order they were registered: only those this staff
    member registered on a schouw, whatever ids the state names."""
    if not signal_ids:
        return []
    return list(
        session.scalars(
            select(Signal)
            .where(
                Signal.id.in_(list(signal_ids)),
                Signal.registered_by_id == user_id,
                Signal.channel == Channel.SCHOUW.value,
            )
            .order_by(Signal.id)
        )
    )
