"""What reaches every signal of a dossier at once: the public update and the status change.

A public update is one message on every signal in the dossier (a public step, so each
resident reads it on their own status page) and ONE mail per address: whoever reported two
of its signals gets one mail naming both, each with a fresh status link. Signals without an
address show it on the status page only. Followers get nothing: they hear of status changes
only (``following``).

A status change applies one status (and the message the workflow may require) to the open
signals of the dossier through ``casework.change_status``, so each is audited, its resident
mailed and its followers told, all in the caller's one transaction. Everything is checked
before anything changes: if one signal refuses, nothing changes and the refusal names it.

Both need a user who may open every signal in the dossier: a message "to everyone" that
silently skips a sensitive signal, or reaches a resident the sender may not know of, is
neither. The refusal does not name the hidden signal (the user may not know of it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from portal.domain import audit, casework, notifications, workflow
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.domain.dossiers.dossiers import (
    actor_user,
    check_dossier_version,
    check_open,
    clean_message,
    dossier_event,
    membership,
)
from portal.domain.notifications import MailContext
from portal.domain.tokens import links_expire_at
from portal.models import Dossier, Signal, SignalEvent
from portal.vocabulary import Status

OPEN_STATUSES = [s for s in Status if s.is_open]


class SignalRefused(CaseworkError):
    """One signal of the dossier refuses the step; ``reason`` is casework's code for why."""

    def __init__(self, reference: str, reason: str) -> None:
        super().__init__("signal_refused")
        self.reference = reference
        self.reason = reason


@dataclass(frozen=True)
class Recipient:
    address: str
    signals: list[Signal]


@dataclass(frozen=True)
class Reach:
    """Who a public update reaches: one mail per address, the status page only for signals
    without one, and nobody for a signal whose status page no longer opens (closed longer
    than ``tokens.LINK_DAYS_AFTER_CLOSING`` ago; it still gets the step on its timeline)."""

    recipients: list[Recipient] = field(default_factory=list)
    page_only: list[Signal] = field(default_factory=list)
    unreachable: list[Signal] = field(default_factory=list)

    @property
    def mailed_signals(self) -> int:
        return sum(len(r.signals) for r in self.recipients)


def _address(signal: Signal) -> str | None:
    """The address as one person: "A@x.nl" and "a@x.nl " are the same resident."""
    if signal.reporter is None:
        return None
    return (signal.reporter.email or "").strip().lower() or None


def reach(signals: list[Signal], now: datetime) -> Reach:
    result = Reach()
    by_address: dict[str, list[Signal]] = {}
    for signal in sorted(signals, key=lambda s: s.id):
        expires = links_expire_at(signal)
        if expires is not None and _naive(now) >= _naive(expires):
            result.unreachable.append(signal)
        elif (address := _address(signal)) is not None:
            by_address.setdefault(address, []).append(signal)
        else:
            result.page_only.append(signal)
    result.recipients.extend(Recipient(a, s) for a, s in by_address.items())
    return result


def _naive(moment: datetime) -> datetime:
    # SQLite gives back naive UTC moments, PostgreSQL aware ones: compare them alike.
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def _all_signals(session: Session, dossier: Dossier, actor: Actor) -> list[Signal]:
    """Every signal of the dossier, if this actor may open each of them."""
    members = membership(session, dossier, actor_user(session, actor))
    if members.hidden_count:
        raise CaseworkError("hidden_signals")
    if not members.visible:
        raise CaseworkError("no_signals")
    return members.visible


def check_public_update(
    session: Session, dossier: Dossier, message: str | None, actor: Actor
) -> tuple[list[Signal], str]:
    """The checks of ``public_update`` without changing anything: its signals and the text."""
    check_open(dossier)
    signals = _all_signals(session, dossier, actor)
    text = clean_message(message, required=True)
    assert text is not None  # required
    return signals, text


def public_update(
    session: Session,
    dossier: Dossier,
    *,
    message: str,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> Reach:
    check_dossier_version(dossier, seen_version)
    signals, text = check_public_update(session, dossier, message, actor)
    events: dict[int, SignalEvent] = {}
    for signal in signals:
        events[signal.id] = add_event(
            session, signal, actor, "dossier_update", public=True, message=text
        )
        audit.record(
            session,
            "signal.dossier_update",
            actor_id=actor.user_id,
            signal_id=signal.id,
            dossier_id=dossier.id,
        )
    reached = reach(signals, actor.now)
    for recipient in reached.recipients:
        notifications.dossier_update(
            session,
            recipient.address,
            [(signal, events[signal.id]) for signal in recipient.signals],
            mail,
        )
    dossier_event(session, dossier, actor, "public_update", is_public=True, message=text)
    audit.record(
        session,
        "dossier.public_update",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        signal_ids=[s.id for s in signals],
        mails=len(reached.recipients),
        page_only=len(reached.page_only),
        unreachable=len(reached.unreachable),
    )
    session.flush()
    return reached


@dataclass(frozen=True)
class StatusPlan:
    """What a status change on the dossier does: ``changing`` get the new status, ``already``
    have it (left alone: no second mail), ``closed`` are resolved or declined and stay so."""

    target: str
    changing: list[Signal]
    already: list[Signal]
    closed: list[Signal]


def bulk_targets() -> list[Status]:
    """The statuses one can give an open signal (every open status allows each of them,
    except the one it has), in the order of the status model."""
    return [s for s in Status if all(s == o or workflow.is_allowed(o, s) for o in OPEN_STATUSES)]


def plan_status(signals: list[Signal], target: str) -> StatusPlan:
    changing, already, closed = [], [], []
    for signal in signals:
        if not Status(signal.status).is_open:
            closed.append(signal)
        elif signal.status == target:
            already.append(signal)
        else:
            changing.append(signal)
    return StatusPlan(target, changing, already, closed)


def check_status(
    session: Session, dossier: Dossier, target: str, message: str | None, actor: Actor
) -> tuple[StatusPlan, str | None]:
    """The checks that do not depend on a signal (for the form): the plan and the text."""
    check_open(dossier)
    if target not in set(Status):
        raise CaseworkError("transition_not_allowed")
    signals = _all_signals(session, dossier, actor)
    text = clean_message(message, required=workflow.needs_message(target))
    return plan_status(signals, target), text


def apply_status(
    session: Session,
    dossier: Dossier,
    target: str,
    *,
    message: str | None,
    seen_version: int,
    seen_signal_versions: Mapping[int, int],
    actor: Actor,
    mail: MailContext,
) -> StatusPlan:
    """All or nothing: each signal that would change is checked first (the version the user
    saw, the transition); then each goes through ``casework.change_status``. Raises
    SignalRefused naming the first that refuses, or CaseworkError ``nothing_to_change``."""
    check_dossier_version(dossier, seen_version)
    plan, text = check_status(session, dossier, target, message, actor)
    if not plan.changing:
        raise CaseworkError("nothing_to_change")
    for signal in plan.changing:
        try:
            check_version(signal, seen_signal_versions.get(signal.id, -1))
            casework.check_status_change(signal, target, text)
        except CaseworkError as error:
            raise SignalRefused(signal.reference, error.code) from error
    for signal in plan.changing:
        casework.change_status(
            session,
            signal,
            target,
            message=text,
            seen_version=signal.version,
            actor=actor,
            mail=mail,
        )
    dossier_event(
        session, dossier, actor, "status_applied", is_public=True, to_status=target, message=text
    )
    audit.record(
        session,
        "dossier.status_applied",
        actor_id=actor.user_id,
        dossier_id=dossier.id,
        to_status=target,
        signal_ids=[s.id for s in plan.changing],
        already=[s.id for s in plan.already],
        closed=[s.id for s in plan.closed],
    )
    session.flush()
    return plan
