"""Creating a signal: the one intake operation behind the web form (and later Open311)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from portal.domain import absences, audit, notifications
from portal.domain.deadlines import rules_from, set_due_dates
from portal.domain.geography import AddressLocator, Geography, OfflineAddressLocator
from portal.domain.photos import StoredPhoto
from portal.domain.references import next_reference
from portal.domain.routing import (
    Cover,
    LocationInput,
    Placement,
    RoutingRules,
    choose_owner,
    place,
    route,
)
from portal.domain.tokens import issue_status_token
from portal.domain.working_days import local_date
from portal.models import (
    GENERAL_INBOX,
    Attachment,
    Reporter,
    Role,
    RoutingRule,
    Signal,
    SignalEvent,
    SignalTheme,
    User,
    user_wijken,
)
from portal.vocabulary import Channel, Kind, Status, SubmitterKind, Theme


@dataclass(frozen=True)
class ReporterInput:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    may_contact: bool = False
    may_share_with_partners: bool = False
    # An organisation or business: its name and optional KvK number (``name`` is then the
    # contact person).
    organisation_name: str | None = None
    kvk_number: str | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.name or self.email or self.phone or self.organisation_name)

    @property
    def submitter_kind(self) -> SubmitterKind:
        return SubmitterKind.ORGANISATION if self.organisation_name else SubmitterKind.RESIDENT


@dataclass(frozen=True)
class Submission:
    kind: Kind
    themes: Sequence[Theme]
    title: str
    description: str
    location: LocationInput
    street: str | None = None
    house_number: str | None = None
    photos: Sequence[StoredPhoto] = ()
    reporter: ReporterInput = field(default_factory=ReporterInput)
    locale: str = "nl"
    submission_key: str | None = None
    # An initiative's initiators allow it on the wijk page (ignored for a knelpunt).
    public_display: bool = False
    # How it came in; staff who register a signal they heard or saw are its registrar.
    channel: Channel = Channel.WEB
    registrar_id: int | None = None


@dataclass(frozen=True)
class IntakeSettings:
    geography: Geography
    mail: notifications.MailContext
    reference_prefix: str
    now: datetime
    # Address to point (PDOK Locatieserver when configured); offline it never finds one.
    address_locator: AddressLocator = field(default_factory=OfflineAddressLocator)


@dataclass(frozen=True)
class IntakeResult:
    signal: Signal
    status_token: str
    # The same form came in before: this is that signal, with a fresh token for its page.
    duplicate: bool = False
    # Whether its owner is the wijk's own accountmanager (``owner_is_for_wijk``), known from
    # the routing just done; None: not known here (ask owner_is_for_wijk).
    owner_is_for_wijk: bool | None = None


class OutsideHilversum(ValueError):
    """The location lies outside the municipality: Wijkzaken cannot take it on."""


# Typed: PostgreSQL takes an untyped NULL in a UNION's first SELECT for text.
_NO_ID = cast(null(), Integer)


def load_routing_rules(session: Session, *, on: date | None = None) -> RoutingRules:
    """The routing as the admin set it; ``on`` a (local) day, also who stands in for whom
    that day, so an absent owner's new signals go to their stand-in. One statement: every
    resident who sends the form waits for it."""
    active = User.active.is_(True)
    parts = [
        select(literal("rule"), RoutingRule.scope, RoutingRule.owner_id, _NO_ID, _NO_ID)
        .join(User, User.id == RoutingRule.owner_id)
        .where(active),
        select(literal("manager"), user_wijken.c.wijk_code, User.id, _NO_ID, _NO_ID)
        .join(User, User.id == user_wijken.c.user_id)
        .where(active, User.role == Role.ACCOUNTMANAGER.value),
    ]
    if on is not None:
        parts.append(absences.stand_ins_statement(on))
    by_wijk: dict[str, int] = {}
    general = None
    managers: dict[str, list[int]] = {}
    stand_ins: dict[int, Cover] = {}
    for part, code, first, second, third in session.execute(union_all(*parts)):
        if part == "rule" and code == GENERAL_INBOX:
            general = first
        elif part == "rule":
            by_wijk[code] = first
        elif part == "manager":
            managers.setdefault(code, []).append(first)
        else:
            stand_ins[first] = Cover(second, third)
    for ids in managers.values():
        ids.sort()  # a stable order: who gets the next signal of a wijk with several
    return RoutingRules(
        by_wijk=by_wijk, general_owner_id=general, managers_by_wijk=managers, stand_ins=stand_ins
    )


def owner_is_for_wijk(session: Session, signal: Signal) -> bool:
    """Whether the signal's owner is the one routing gives its wijk (and not the general
    inbox's, who has it because the wijk has nobody): the confirmation page words it so.
    A stand-in is not (rules without a day know no absences): the page then names them as
    "… van Bureau Wijkzaken", not as the wijk's accountmanager."""
    if signal.owner_id is None or signal.wijk_code is None:
        return False
    owner_id, general = choose_owner(load_routing_rules(session), signal.wijk_code)
    return not general and owner_id == signal.owner_id


# A form sent twice (a double click, a refresh, back and send again) within this time gives
# the first signal back; after it, the same key is just a new form. The view also requires
# the key to come from the same browser session, so another person's key opens nothing.
SUBMISSION_WINDOW = timedelta(minutes=30)


def find_by_submission_key(session: Session, key: str | None) -> Signal | None:
    if not key:
        return None
    # Asked of every form sent, and nearly always none: the id alone, the signal only if so.
    signal_id = session.scalar(select(Signal.id).where(Signal.submission_key == key))
    return session.get(Signal, signal_id) if signal_id is not None else None


def earlier_submission(session: Session, key: str | None, now: datetime) -> IntakeResult | None:
    """The signal this very form created moments ago, with a fresh token for its page; None
    when there is none, or it is older than ``SUBMISSION_WINDOW``. Also for after a failed
    commit (the same form raced in twice and the other request stored it first)."""
    return _duplicate_of(session, find_by_submission_key(session, key), now)


def _duplicate_of(session: Session, existing: Signal | None, now: datetime) -> IntakeResult | None:
    if existing is None or existing.created_at < now - SUBMISSION_WINDOW:
        return None
    return IntakeResult(existing, issue_status_token(session, existing), duplicate=True)


def submit_signal(session: Session, data: Submission, settings: IntakeSettings) -> IntakeResult:
    """Stores the signal, its first timeline step, the audit record and the outbox mail, and
    flushes; the caller commits once. A repeated submission returns the first signal."""
    existing = find_by_submission_key(session, data.submission_key)
    if existing is not None:
        earlier = _duplicate_of(session, existing, settings.now)
        if earlier is not None:
            return earlier
        data = replace(data, submission_key=None)  # an old key: this is a new form

    data = _with_address_point(data, settings)
    placement = place(settings.geography, data.location)
    if placement.outside_hilversum:
        raise OutsideHilversum()
    rules = load_routing_rules(session, on=local_date(settings.now))
    routed = route(rules, placement.wijk_code)
    owner_id = routed.owner_id
    # Who stood in for whom: how "Geef terug" finds what came in during an absence.
    cover = (
        {"covering_for": routed.covering_for, "absence_id": routed.absence_id}
        if routed.covering_for is not None
        else {}
    )

    signal = _new_signal(session, data, placement, owner_id, settings)
    token = issue_status_token(session, signal, signal_is_new=True)
    audit.record(
        session,
        "signal.created",
        # Staff who registered it are its actor (a resident on the form is nobody's account).
        actor_id=data.registrar_id,
        signal_id=signal.id,
        reference=signal.reference,
        wijk=signal.wijk_code,
        owner_id=owner_id,
        location_source=placement.source.value,
        channel=signal.channel,
        registrar_id=data.registrar_id,
        submitter_kind=signal.submitter_kind,
        **cover,
    )
    away = session.get(User, routed.covering_for) if routed.covering_for is not None else None
    notifications.signal_received(
        session,
        signal,
        token,
        settings.mail,
        covering_for=away,
        # Who registered it for their own inbox needs no mail about it.
        notify_owner=data.registrar_id is None or data.registrar_id != owner_id,
        stand_ins=rules.stand_ins,  # today's, as routing just read them
    )
    session.flush()
    for_wijk = signal.wijk_code is not None and owner_id is not None and not routed.general
    return IntakeResult(signal, token, owner_is_for_wijk=for_wijk and routed.covering_for is None)


def _with_address_point(data: Submission, settings: IntakeSettings) -> Submission:
    """Without a pin, the point of the address (postcode and house number) when the geocoder
    finds one in Hilversum: the signal gets that point and its buurt. Not found, or outside
    Hilversum: the form's other answers decide, as without a geocoder (a postcode outside
    Hilversum still says so). A buurt or wijk the resident chose wins over an address that
    lies elsewhere: they picked it themselves, the address may be theirs, not the place's."""
    location = data.location
    if location.lon is not None and location.lat is not None:
        return data
    if not (location.postcode and data.house_number):
        return data
    point = settings.address_locator.locate_address(
        data.street or "", data.house_number, location.postcode
    )
    found = settings.geography.locate(*point) if point is not None else None
    if point is None or found is None:
        return data
    if location.buurt_code and found.code != location.buurt_code:
        return data
    if not location.buurt_code and location.wijk_code and found.wijk_code != location.wijk_code:
        return data
    lon, lat = point
    return replace(data, location=replace(location, lon=lon, lat=lat, point_from_address=True))


TITLE_MAX = 120


def derive_title(description: str) -> str:
    """A title made from the start of the description, for residents who leave it empty."""
    words = " ".join(description.split())
    if len(words) <= TITLE_MAX:
        return words
    cut = words[: TITLE_MAX - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _new_signal(
    session: Session,
    data: Submission,
    placement: Placement,
    owner_id: int | None,
    settings: IntakeSettings,
) -> Signal:
    location = data.location
    signal = Signal(
        reference=next_reference(session, settings.reference_prefix, settings.now.year),
        kind=data.kind.value,
        title=data.title.strip() or derive_title(data.description),
        # Only a title the resident typed (under the form's notice that neighbours see it);
        # a title derived from the description could carry what they wrote for us alone.
        public_title=data.title.strip() or None,
        public_display=data.public_display and data.kind is Kind.INITIATIEF,
        description=data.description.strip(),
        status=Status.RECEIVED.value,
        lon=location.lon,
        lat=location.lat,
        street=data.street or None,
        house_number=data.house_number or None,
        postcode=location.postcode,
        wijk_code=placement.wijk_code,
        buurt_code=placement.buurt_code,
        location_source=placement.source.value,
        location_flagged=placement.flagged,
        owner_id=owner_id,
        submission_key=data.submission_key,
        locale=data.locale,
        channel=data.channel.value,
        registered_by_id=data.registrar_id,
        submitter_kind=data.reporter.submitter_kind.value,
        created_at=settings.now,
        updated_at=settings.now,
        themes=[SignalTheme(theme=t.value) for t in dict.fromkeys(data.themes)],
        attachments=[
            Attachment(
                stored_name=p.stored_name,
                content_type=p.content_type,
                byte_size=p.byte_size,
                width=p.width,
                height=p.height,
                position=i,
                created_at=settings.now,
            )
            for i, p in enumerate(data.photos)
        ],
        events=[
            SignalEvent(
                kind="created",
                is_public=True,
                to_status=Status.RECEIVED.value,
                # Staff who registered it (by phone, at the counter, on a schouw).
                author_id=data.registrar_id,
                created_at=settings.now,
            )
        ],
    )
    if not data.reporter.is_empty:
        r = data.reporter
        signal.reporter = Reporter(
            name=r.name or None,
            email=r.email or None,
            phone=r.phone or None,
            may_contact=r.may_contact,
            may_share_with_partners=r.may_share_with_partners,
            organisation_name=r.organisation_name or None,
            kvk_number=r.kvk_number or None,
        )
    # The promises in working days, stored with the signal (one INSERT, no second version).
    set_due_dates(session, signal, rules_from(settings.mail))
    session.add(signal)
    session.flush()
    return signal
