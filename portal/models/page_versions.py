"""``Signal.page_version``: raised in the same flush as any change the resident's status page
could show, so that a page cached under (id, version, page_version) is never out of date.

The signal's own row has ``version`` (raised by every ORM UPDATE of it). What the page shows
besides the row lives in other tables: its timeline, photos, themes, grants, ladder steps,
satisfaction answers, links to other signals, and the names of the staff it names. Rather than
list those tables (and forget the next one), every new, changed or deleted object that belongs
to a signal (has a ``signal_id``) raises that signal's page_version, as does a change to a
signal that others point to as their duplicate (their pages show its public face) and a staff
member's new name. Statements that bypass the ORM must raise it themselves (none that touch
what the status page shows do today)."""

from __future__ import annotations

import secrets

from sqlalchemy import event, insert, inspect, or_, select, update
from sqlalchemy.orm import Session

from portal.models.audit import AuditRecord
from portal.models.dossiers import SignalLink
from portal.models.geo import Buurt, Wijk
from portal.models.outbox import OutboxMessage
from portal.models.signal import Signal, SignalEvent
from portal.models.user import Setting, User

# A new value whenever a wijk or buurt is added, renamed or removed (Beheer > Plaatsen, `seed
# wijken`): the cached report form lists them all and every status page names one, in every
# process on every server, so the key lives in the database.
PLACES_REVISION = "places_revision"

# Rows with a signal_id that no page shows: their changes (every mail delivered, every audit
# line) would only empty the cache.
NOT_SHOWN = (AuditRecord, OutboxMessage)


@event.listens_for(Session, "before_flush")
def _raise_page_versions(session: Session, _context: object, _instances: object) -> None:
    signal_ids: set[int] = set()
    renamed_user_ids: set[int] = set()
    places_changed = False
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Wijk | Buurt):
            places_changed = True
            continue
        if isinstance(instance, Signal):
            # Its own UPDATE raises ``version``; only signals that point to it need raising.
            if instance.id is not None and instance not in session.new:
                signal_ids.add(instance.id)
            continue
        if isinstance(instance, NOT_SHOWN):
            continue
        if isinstance(instance, User):
            if instance.id is not None and inspect(instance).attrs.name.history.has_changes():
                renamed_user_ids.add(instance.id)
            continue
        signal_id = _signal_id_of(instance)
        if signal_id is not None:
            signal_ids.add(signal_id)
        if isinstance(instance, SignalLink) and instance.other_id is not None:
            signal_ids.add(instance.other_id)
    if places_changed:
        _new_places_revision(session)
    # A signal created in this transaction has no page anyone could have cached: its tokens,
    # reply address and mail need no UPDATE of it (intake flushes several times).
    signal_ids -= session.info.get(_CREATED_HERE, set())
    if not (signal_ids or renamed_user_ids):
        return
    touched = []
    if signal_ids:
        # The signal itself, and the duplicates that show its public face.
        touched.append(Signal.id.in_(signal_ids))
        touched.append(
            Signal.id.in_(select(SignalLink.signal_id).where(SignalLink.other_id.in_(signal_ids)))
        )
    if renamed_user_ids:
        touched.append(Signal.owner_id.in_(renamed_user_ids))
        touched.append(
            Signal.id.in_(
                select(SignalEvent.signal_id).where(SignalEvent.author_id.in_(renamed_user_ids))
            )
        )
    # Core, on the flush's connection: no autoflush, and ``version`` is left alone (a
    # colleague's open form does not go stale because a resident added a photo).
    table = Signal.__table__
    session.connection().execute(
        update(table)
        .where(or_(*touched))
        # Not "updated": the signal itself did not change (and its onupdate must not fire).
        .values(page_version=table.c.page_version + 1, updated_at=table.c.updated_at)
    )


_CREATED_HERE = "portal.signals_created_in_this_transaction"


@event.listens_for(Session, "after_flush")
def _remember_new_signals(session: Session, _context: object) -> None:
    created = [i.id for i in session.new if isinstance(i, Signal)]
    if created:
        session.info.setdefault(_CREATED_HERE, set()).update(created)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_new_signals(session: Session) -> None:
    session.info.pop(_CREATED_HERE, None)


def _signal_id_of(instance: object) -> int | None:
    """The signal an object belongs to: its ``signal_id``, or (not flushed yet) the id of the
    ``signal`` it was attached to. A new signal's children need nothing: the page is new."""
    signal_id = getattr(instance, "signal_id", None)
    if isinstance(signal_id, int):
        return signal_id
    signal = getattr(instance, "signal", None)
    if isinstance(signal, Signal) and signal.id is not None:
        return signal.id
    return None


_places_changes_here = 0


def local_places_changes() -> int:
    """How many flushes in this process changed places: a process that renamed a wijk reads
    the new revision at once, without waiting for its next periodic check."""
    return _places_changes_here


def places_revision(session: Session) -> str:
    """The current places revision (empty before the first wijk was stored)."""
    setting = session.get(Setting, PLACES_REVISION)
    return setting.value if setting is not None else ""


def _new_places_revision(session: Session) -> None:
    global _places_changes_here
    _places_changes_here += 1
    table = Setting.__table__
    connection = session.connection()
    value = secrets.token_hex(8)
    changed = connection.execute(
        update(table).where(table.c.key == PLACES_REVISION).values(value=value)
    )
    if changed.rowcount == 0:
        connection.execute(insert(table).values(key=PLACES_REVISION, value=value))
