"""Links between signals. RELATED: two signals that belong together (both stay as they are;
each page lists the other). DUPLICATE: one signal repeats another; it is declined through
the one status operation (timeline, audit, the resident's mail, its followers), with a
message in its resident's language, and the resident's status page points to the other
signal's public face (never its description, reporter or photos) so they can follow it.

Decisions, so every caller answers the same way:
- A reference is typed by a person ("hlv 2026 12"): it is normalised first. A signal the
  actor may not open (a sensitive one) is refused exactly like one that does not exist.
- A pair has at most one link. Marking a related pair as duplicate replaces the related
  link; relating a pair that is already linked is refused.
- An original is never itself a duplicate: chains are refused (``OtherIsDuplicate`` names
  the signal to choose instead), and so is marking a signal that others repeat.
- The original may be closed: the resident then sees its status (no follow button, since a
  closed signal cannot be followed) and is told to report again if the problem is back.
- Only an open signal can be marked as duplicate (it is declined); a closed one can still
  be related.
- Removing a duplicate link leaves the status as it is (reopen it through the status form).
- The relation holds from the decline that marks the duplicate until the signal's next status
  change (``link_views``): reopened, and perhaps declined again for another reason later, its
  resident no longer sees the pointer. The link stays listed for staff until they remove it.

Every operation writes both signals' timelines (staff-only steps) and audit records and
flushes; the caller commits. What the pages show of the links is in ``link_views``."""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from portal.catalogue import gettext_in
from portal.domain import audit, casework, workflow
from portal.domain.casework import Actor, CaseworkError, add_event, check_version
from portal.domain.dossiers.link_views import (
    CLOSED,
    DUPLICATE,
    MARKED_DUPLICATE,
    RELATED,
    original_of,
)
from portal.domain.notifications import MailContext
from portal.domain.references import normalise_reference
from portal.domain.visibility import can_open, is_public
from portal.models import Signal, SignalEvent, SignalLink, User
from portal.vocabulary import N_, Status

REASON_MAX = 1000

# What the resident of the duplicate reads (status page and mail), in their language. Which
# one depends on the original: public and open (they can follow it), public and closed, or
# not public (sensitive, or an initiative kept off the wijk page: no pointer at all).
NOTICE_FOLLOW = N_(
    "Een andere bewoner heeft hetzelfde al bij ons gemeld. Wij behandelen het verder bij die "
    "melding, en daarom niet apart bij de uwe. Op uw statuspagina ziet u hoe het met die "
    "melding staat. Daar kunt u haar ook volgen: dan hoort u het als er iets verandert."
)
NOTICE_CLOSED = N_(
    "Een andere bewoner heeft hetzelfde al bij ons gemeld. Die melding is al afgesloten. Op "
    "uw statuspagina ziet u hoe het ermee staat. Is het probleem er nog, of is het terug? "
    "Doe dan een nieuwe melding."
)
NOTICE_PRIVATE = N_(
    "Wat u meldt, is al eerder bij ons gemeld. Wij behandelen uw melding samen met die "
    "eerdere melding, en daarom niet apart."
)


class OtherIsDuplicate(CaseworkError):
    """The chosen original is itself a duplicate. ``original_reference``: the signal it
    repeats (choose that one), or None when the actor may not open it."""

    def __init__(self, original_reference: str | None) -> None:
        super().__init__("other_is_duplicate")
        self.original_reference = original_reference


# --- finding the other signal ---------------------------------------------------------------


def _actor_user(session: Session, actor: Actor) -> User | None:
    return session.get(User, actor.user_id)


def _may_open(session: Session, actor: Actor, signal: Signal) -> bool:
    user = _actor_user(session, actor)
    return user is not None and can_open(session, user, signal)


def find_other(session: Session, signal: Signal, typed: str, actor: Actor) -> Signal:
    """The signal a person typed the reference of. Raises CaseworkError ``reference_required``,
    ``same_signal``, ``unknown_reference`` (also for a signal the actor may not open)."""
    reference = normalise_reference(typed or "")
    if not reference:
        raise CaseworkError("reference_required")
    if reference == signal.reference:
        raise CaseworkError("same_signal")
    other = session.scalars(select(Signal).where(Signal.reference == reference)).first()
    if other is None or not _may_open(session, actor, other):
        raise CaseworkError("unknown_reference")
    return other


def _check_pair(session: Session, signal: Signal, other: Signal, actor: Actor) -> None:
    if other.id == signal.id:
        raise CaseworkError("same_signal")
    if not _may_open(session, actor, other):
        raise CaseworkError("unknown_reference")


def _link_between(session: Session, one: Signal, two: Signal) -> SignalLink | None:
    return session.scalars(
        select(SignalLink).where(
            or_(
                and_(SignalLink.signal_id == one.id, SignalLink.other_id == two.id),
                and_(SignalLink.signal_id == two.id, SignalLink.other_id == one.id),
            )
        )
    ).first()


def _clean_reason(reason: str | None) -> str | None:
    text = (reason or "").strip()
    if len(text) > REASON_MAX:
        raise CaseworkError("reason_too_long")
    return text or None


def _step_text(other: Signal, reason: str | None) -> str | None:
    """The staff timeline's note about ``other``: its reference and the reason; nothing when
    the other is sensitive (whoever reads this timeline may not be let in there)."""
    if other.sensitive:
        return None
    return f"{other.reference}\n\n{reason}" if reason else other.reference


# --- related --------------------------------------------------------------------------------


def relate(
    session: Session,
    signal: Signal,
    other: Signal,
    *,
    reason: str | None,
    seen_version: int,
    actor: Actor,
) -> SignalLink:
    """Links two signals as related (stored once per pair, the lower id first). Raises
    CaseworkError ``same_signal``, ``unknown_reference``, ``already_linked``,
    ``reason_too_long``; StaleSignal when ``signal`` changed meanwhile."""
    check_version(signal, seen_version)
    _check_pair(session, signal, other, actor)
    text = _clean_reason(reason)
    if _link_between(session, signal, other) is not None:
        raise CaseworkError("already_linked")
    low, high = sorted((signal, other), key=lambda s: s.id)
    link = SignalLink(
        signal_id=low.id,
        other_id=high.id,
        kind=RELATED,
        reason=text,
        created_by_id=actor.user_id,
        created_at=actor.now,
    )
    session.add(link)
    for here, there in ((signal, other), (other, signal)):
        add_event(session, here, actor, "linked", public=False, message=_step_text(there, text))
        audit.record(
            session,
            "signal.linked",
            actor_id=actor.user_id,
            signal_id=here.id,
            other_id=there.id,
            kind=RELATED,
            reason=text,
        )
    return link


def unrelate(
    session: Session, signal: Signal, link_id: int | None, *, seen_version: int, actor: Actor
) -> Signal:
    """Removes a link of ``signal`` (related or duplicate); returns the other signal. A
    duplicate keeps its status (reopening is a status change of its own). Raises
    CaseworkError ``unknown_link`` (also for a link to a signal the actor may not open)."""
    check_version(signal, seen_version)
    link = session.get(SignalLink, link_id) if link_id is not None else None
    if link is None or signal.id not in (link.signal_id, link.other_id):
        raise CaseworkError("unknown_link")
    other = session.get(Signal, link.other_id if link.signal_id == signal.id else link.signal_id)
    if other is None or not _may_open(session, actor, other):
        raise CaseworkError("unknown_link")
    kind, duplicate_id = link.kind, link.signal_id if link.kind == DUPLICATE else None
    session.delete(link)
    for here, there in ((signal, other), (other, signal)):
        add_event(session, here, actor, "unlinked", public=False, message=_step_text(there, None))
        audit.record(
            session,
            "signal.unlinked",
            actor_id=actor.user_id,
            signal_id=here.id,
            other_id=there.id,
            kind=kind,
            duplicate_id=duplicate_id,
        )
    return other


# --- duplicates -----------------------------------------------------------------------------


def in_language(locale: str, text: str) -> str:
    """One of the notices above in ``locale`` (the source text for Dutch): the catalogue the
    resident's mail is rendered with, not flask_babel's, which speaks the staff member's."""
    return gettext_in(locale, text)


def resident_notice(locale: str, original: Signal) -> str:
    """The sentence the duplicate's resident gets, in their language, for this original."""
    if not is_public(original):
        return in_language(locale, NOTICE_PRIVATE)
    if original.status in CLOSED:
        return in_language(locale, NOTICE_CLOSED)
    return in_language(locale, NOTICE_FOLLOW)


def duplicate_message(duplicate: Signal, original: Signal, staff_text: str | None) -> str:
    """The whole public message: our sentence, then what the staff member added."""
    notice = resident_notice(duplicate.locale, original)
    added = (staff_text or "").strip()
    return f"{notice}\n\n{added}" if added else notice


def _has_duplicates(session: Session, signal: Signal) -> bool:
    return (
        session.scalars(
            select(SignalLink.id).where(
                SignalLink.other_id == signal.id, SignalLink.kind == DUPLICATE
            )
        ).first()
        is not None
    )


def check_duplicate(
    session: Session, duplicate: Signal, original: Signal, staff_text: str | None, actor: Actor
) -> str:
    """The checks of ``mark_duplicate`` without changing anything (for a preview); returns
    the message the resident will get. Raises CaseworkError ``same_signal``,
    ``unknown_reference``, ``duplicate_closed``, ``already_duplicate``, ``already_linked``,
    ``has_duplicates``, ``message_too_long``; OtherIsDuplicate."""
    _check_pair(session, duplicate, original, actor)
    if not workflow.is_allowed(duplicate.status, Status.DECLINED):
        raise CaseworkError("duplicate_closed")
    if original_of(session, duplicate) is not None:
        raise CaseworkError("already_duplicate")
    repeated = original_of(session, original)
    if repeated is not None and repeated.id == duplicate.id:
        raise CaseworkError("already_linked")  # the other way round: that one repeats this
    if repeated is not None:
        may = _may_open(session, actor, repeated)
        raise OtherIsDuplicate(repeated.reference if may else None)
    if _has_duplicates(session, duplicate):
        raise CaseworkError("has_duplicates")
    message = duplicate_message(duplicate, original, staff_text)
    casework.check_status_change(duplicate, Status.DECLINED.value, message)
    return message


def mark_duplicate(
    session: Session,
    duplicate: Signal,
    original: Signal,
    *,
    message: str | None,
    seen_version: int,
    actor: Actor,
    mail: MailContext,
) -> SignalEvent:
    """Declines ``duplicate`` as a repeat of ``original``: the link, the status change with
    the resident's message (``message``: what the staff member adds to our sentence), a
    staff step and audit record on both. Returns the status step. Raises as
    ``check_duplicate``; StaleSignal when ``duplicate`` changed meanwhile."""
    check_version(duplicate, seen_version)
    text = check_duplicate(session, duplicate, original, message, actor)
    replaced = _link_between(session, duplicate, original)  # only a related one can be left
    if replaced is not None:
        session.delete(replaced)
        session.flush()  # the pair's row goes before the new one (one link per pair)
    link = SignalLink(
        signal_id=duplicate.id,
        other_id=original.id,
        kind=DUPLICATE,
        reason=(message or "").strip() or None,
        created_by_id=actor.user_id,
        created_at=actor.now,
    )
    session.add(link)
    event = casework.change_status(
        session,
        duplicate,
        Status.DECLINED.value,
        message=text,
        seen_version=seen_version,
        actor=actor,
        mail=mail,
    )
    session.flush()  # the decline step's id
    link.decline_event_id = event.id
    add_event(
        session,
        original,
        actor,
        "duplicate_received",
        public=False,
        message=_step_text(duplicate, None),
    )
    audit.record(
        session,
        MARKED_DUPLICATE,
        actor_id=actor.user_id,
        signal_id=duplicate.id,
        original_id=original.id,
        replaced_related=replaced is not None,
        status_event_id=event.id,
    )
    audit.record(
        session,
        "signal.duplicate_received",
        actor_id=actor.user_id,
        signal_id=original.id,
        duplicate_id=duplicate.id,
    )
    return event
