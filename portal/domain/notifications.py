"""Which mail goes to whom for which event. Rendering and delivery are someone else's job:
this module only decides and queues (in the caller's transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from portal.domain import absences
from portal.domain.dialogue import reply_addresses
from portal.domain.mail import Links, MailRenderer, RenderedMail
from portal.domain.routing import Cover
from portal.domain.tokens import issue_status_token
from portal.domain.working_days import add_working_days, local_date
from portal.models import (
    OutboxMessage,
    ReopenRequest,
    SatisfactionSurvey,
    Signal,
    SignalEvent,
    User,
    utcnow,
)
from portal.outbox import queue_composed, queue_mail


@dataclass(frozen=True)
class MailContext:
    renderer: MailRenderer
    links: Links
    response_working_days: int
    # The Reply-To of resident mail, with "{reply_id}" in it; empty: no Reply-To.
    reply_to: str = ""
    satisfaction_days: int = 14
    # Casework deadlines (portal/domain/deadlines.py) and the daily digest's first hour.
    handle_working_days: int = 20
    pause_while_awaiting_resident: bool = True
    digest_hour: int = 7


def _to_resident(
    session: Session,
    signal: Signal,
    *,
    purpose: str,
    recipient: str,
    mail: RenderedMail,
    ctx: MailContext,
) -> OutboxMessage:
    """Every mail to a resident: a reply to it lands on their signal (``mail receive``)."""
    reply_to = _reply_to(session, signal, ctx)
    return queue_mail(
        session,
        purpose=purpose,
        recipient=recipient,
        mail=mail,
        signal_id=signal.id,
        reply_to=reply_to,
    )


def _reply_to(
    session: Session, signal: Signal, ctx: MailContext, *, signal_is_new: bool = False
) -> str | None:
    if not ctx.reply_to:
        return None
    address = reply_addresses.reply_address_for(
        session, signal, utcnow(), signal_is_new=signal_is_new
    )
    return reply_addresses.format_address(ctx.reply_to, address.reply_id)


def respond_by(signal: Signal, ctx: MailContext) -> date:
    """The last working day for the first public response: the signal's own due date (its
    kind's target), else RESPONSE_WORKING_DAYS from the day it came in."""
    if signal.respond_due_on is not None:
        return signal.respond_due_on
    return add_working_days(local_date(signal.created_at), ctx.response_working_days)


def _owner_recipient(
    session: Session, user: User, today: date, stand_ins: Mapping[int, Cover] | None = None
) -> tuple[User, User | None]:
    """Who reads mail meant for the owner ``user`` on ``today`` (a local date): their stand-in
    while they are away, else themselves. Second: the absent owner (None when not away), for
    the mail to say whom it is covering for. ``stand_ins``: that day's, when the caller read
    them already (routing did), so they need not be asked again."""
    if stand_ins is None:
        stand_in = absences.stand_in_for(session, user.id, today)
    else:
        cover = stand_ins.get(user.id)
        stand_in = session.get_one(User, cover.stand_in_id) if cover is not None else None
    return (stand_in, user) if stand_in is not None else (user, None)


def _today() -> date:
    return local_date(utcnow())


def _to_owner(
    session: Session,
    signal: Signal,
    owner: User,
    template: str,
    ctx: MailContext,
    /,  # positional only: a template may want "owner" in its context too
    *,
    purpose: str | None = None,
    day: date | None = None,
    covering_for: User | None = None,
    **context: object,
) -> None:
    """Every mail meant for a signal's owner: to their stand-in while they are away on ``day``
    (today by default), greeted by name and told whom they cover for."""
    recipient, away = _owner_recipient(session, owner, day or _today())
    mail = ctx.renderer.render(
        template,
        "nl",
        signal=signal,
        signal_url=ctx.links.backoffice_signal(signal.reference),
        recipient=recipient,
        covering_for=away or covering_for,
        **context,
    )
    queue_mail(
        session,
        purpose=purpose or template,
        recipient=recipient.email,
        mail=mail,
        signal_id=signal.id,
    )


# The mails the deliverer writes (compose); their templates have the same names.
RECEIVED = "signal_received"
OWNER_NEW = "owner_new_signal"


def signal_received(
    session: Session,
    signal: Signal,
    token: str,
    ctx: MailContext,
    *,
    covering_for: User | None = None,
    notify_owner: bool = True,
    stand_ins: Mapping[int, Cover] | None = None,
) -> None:
    """Confirmation to the resident (if they left an address) and a heads-up to the owner.
    ``covering_for``: routing gave the signal to a stand-in for this absent colleague.
    ``notify_owner`` False: the owner registered it themselves and needs no heads-up.
    ``stand_ins``: who stands in for whom on the day it came in, when the caller has them.

    Both are written by the deliverer (:func:`compose`), not here: every resident who sends
    the form would otherwise wait for two mails to be rendered (a quarter of the request,
    bench/README.md). The queued rows say which mail, for whom, with the one thing the
    database cannot tell again: the status link's token."""
    covering_id = covering_for.id if covering_for is not None else None
    # The links as this request would write them (without PUBLIC_BASE_URL, its own host).
    origin = {"base_url": ctx.links.base_url}
    reporter = signal.reporter
    if reporter is not None and reporter.email:
        reply_to = _reply_to(session, signal, ctx, signal_is_new=True)  # made by this intake
        queue_composed(
            session,
            purpose="confirmation",
            recipient=reporter.email,
            compose={**origin, "mail": RECEIVED, "token": token, "covering_for": covering_id},
            signal_id=signal.id,
            reply_to=reply_to,
        )
    owner = None
    if notify_owner and signal.owner_id is not None:
        # Without flushing what the intake added so far: its one flush at the end writes it.
        with session.no_autoflush:
            owner = session.get(User, signal.owner_id)
    if owner is not None:
        day = local_date(signal.created_at)
        recipient, away = _owner_recipient(session, owner, day, stand_ins)
        queue_composed(
            session,
            purpose="owner_new_signal",
            recipient=recipient.email,
            compose={
                **origin,
                "mail": OWNER_NEW,
                "recipient": recipient.id,
                "covering_for": away.id if away is not None else covering_id,
            },
            signal_id=signal.id,
        )


def compose(
    session: Session, signal_id: int | None, what: dict[str, object], ctx: MailContext
) -> RenderedMail:
    """Writes a mail queued by :func:`queue_composed` (``what``: its ``compose``), from the
    signal as it is now. Raises LookupError when the signal or a person is gone."""
    signal = session.get(Signal, signal_id) if signal_id is not None else None
    if signal is None:
        raise LookupError("the signal this mail is about no longer exists")
    covering_for = _user(session, what.get("covering_for"))
    links = Links(str(what["base_url"])) if what.get("base_url") else ctx.links
    if what["mail"] == RECEIVED:
        return ctx.renderer.render(
            RECEIVED,
            signal.locale,
            signal=signal,
            status_url=links.status(str(what["token"])),
            working_days=ctx.response_working_days,
            covering_for=covering_for,
        )
    if what["mail"] == OWNER_NEW:
        recipient = _user(session, what["recipient"])
        if recipient is None:
            raise LookupError("the colleague this mail is for no longer exists")
        return ctx.renderer.render(
            OWNER_NEW,
            "nl",
            signal=signal,
            signal_url=links.backoffice_signal(signal.reference),
            recipient=recipient,
            covering_for=covering_for,
            respond_by=respond_by(signal, ctx),
        )
    raise LookupError(f"no such mail to write: {what['mail']!r}")


def _user(session: Session, user_id: object) -> User | None:
    return session.get(User, user_id) if isinstance(user_id, int) else None


def status_link(
    session: Session, signal: Signal, recipient: str, token: str, ctx: MailContext
) -> None:
    """A fresh link to the status page, asked for with reference number and email address."""
    mail = ctx.renderer.render(
        "status_link", signal.locale, signal=signal, status_url=ctx.links.status(token)
    )
    _to_resident(session, signal, purpose="status_link", recipient=recipient, mail=mail, ctx=ctx)


def public_update(
    session: Session,
    signal: Signal,
    event: SignalEvent,
    ctx: MailContext,
    survey: SatisfactionSurvey | None = None,
) -> None:
    """Every public step reaches a resident who left an address, with a working link; the
    step that resolves it asks whether they are satisfied (``survey``)."""
    reporter = signal.reporter
    if reporter is None or not reporter.email:
        return
    token = issue_status_token(session, signal)
    mail = ctx.renderer.render(
        "public_update",
        signal.locale,
        signal=signal,
        event=event,
        status_url=ctx.links.status(token),
        survey=survey,
    )
    _to_resident(
        session,
        signal,
        purpose=f"public_{event.kind}",
        recipient=reporter.email,
        mail=mail,
        ctx=ctx,
    )


def dossier_update(
    session: Session,
    recipient: str,
    updates: Sequence[tuple[Signal, SignalEvent]],
    ctx: MailContext,
) -> OutboxMessage:
    """A public update of a dossier to one address: ONE mail naming each of its signals in
    the dossier (the same person may have reported two), each with a fresh status link. In
    the language of their newest signal; an answer by mail lands on the oldest one."""
    ordered = sorted(updates, key=lambda update: update[0].id)
    newest = ordered[-1][0]
    items = [
        {"signal": signal, "status_url": ctx.links.status(issue_status_token(session, signal))}
        for signal, _event in ordered
    ]
    mail = ctx.renderer.render(
        "dossier_update",
        newest.locale,
        items=items,
        event=ordered[0][1],
        reporter_name=newest.reporter.name if newest.reporter else None,
    )
    return _to_resident(
        session,
        ordered[0][0],
        purpose="public_dossier_update",
        recipient=recipient,
        mail=mail,
        ctx=ctx,
    )


def owner_assigned(
    session: Session, signal: Signal, owner: User, reason: str, ctx: MailContext
) -> None:
    _to_owner(session, signal, owner, "owner_assigned", ctx, owner=owner, reason=reason)


def owner_taken_over(
    session: Session,
    signal: Signal,
    *,
    previous_owner: User,
    new_owner: User,
    actor_name: str,
    reason: str,
    ctx: MailContext,
) -> None:
    """The owner a signal was taken from hears of it: taking a signal over is never silent."""
    _to_owner(
        session,
        signal,
        previous_owner,
        "owner_taken_over",
        ctx,
        previous_owner=previous_owner,
        new_owner=new_owner,
        actor_name=actor_name,
        reason=reason,
    )


def account_locked(
    session: Session, user: User, until: datetime, failures: int, ctx: MailContext
) -> None:
    mail = ctx.renderer.render(
        "account_locked",
        "nl",
        user=user,
        until=until,
        failures=failures,
        login_url=ctx.links.backoffice_login(),
    )
    queue_mail(session, purpose="account_locked", recipient=user.email, mail=mail)


def password_link(
    session: Session, user: User, token: str, *, purpose: str, valid_hours: int, ctx: MailContext
) -> None:
    """The link to set a password ("welcome" for a new account, "reset" after an admin's
    reset), to the account's own address."""
    mail = ctx.renderer.render(
        "password_link",
        "nl",
        user=user,
        purpose=purpose,
        valid_hours=valid_hours,
        link=ctx.links.set_password(token),
        login_url=ctx.links.backoffice_login(),
    )
    queue_mail(session, purpose=f"password_{purpose}", recipient=user.email, mail=mail)


def owner_resident_message(
    session: Session, signal: Signal, event: SignalEvent, photo_count: int, ctx: MailContext
) -> None:
    """The resident answered or added something (status page or mail): the owner hears."""
    if signal.owner is None:
        return
    _to_owner(
        session,
        signal,
        signal.owner,
        "owner_resident_message",
        ctx,
        purpose=f"owner_{event.kind}",
        event=event,
        photo_count=photo_count,
    )


def question_reminder(
    session: Session, signal: Signal, question: SignalEvent, ctx: MailContext
) -> bool:
    """One reminder of an unanswered question; False when there is nobody to mail."""
    reporter = signal.reporter
    if reporter is None or not reporter.email:
        return False
    token = issue_status_token(session, signal)
    mail = ctx.renderer.render(
        "question_reminder",
        signal.locale,
        signal=signal,
        question=question,
        status_url=ctx.links.status(token),
    )
    _to_resident(
        session, signal, purpose="question_reminder", recipient=reporter.email, mail=mail, ctx=ctx
    )
    return True


def owner_reopen_request(
    session: Session, signal: Signal, request: ReopenRequest, ctx: MailContext
) -> None:
    """The resident is not satisfied: the owner decides whether to reopen."""
    if signal.owner is None:
        return
    _to_owner(session, signal, signal.owner, "owner_reopen_request", ctx, request=request)


def answer_to_owner(
    session: Session,
    signal: Signal,
    *,
    asked_by_id: int | None,
    template: str,
    ctx: MailContext,
    **context: object,
) -> None:
    """An answer from outside (a functionary, a partner) reaches the signal's owner, or who
    asked when nobody owns it; their stand-in while they are away."""
    owner = signal.owner or (session.get(User, asked_by_id) if asked_by_id else None)
    if owner is not None:
        _to_owner(session, signal, owner, template, ctx, **context)
