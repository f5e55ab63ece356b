"""Casework deadlines ("vinger aan de pols"): the due dates a signal stores when it comes in
(per kind and theme, in working days across Dutch holidays), the first public response, the
pause while it waits for the resident, the follow-up date with its reason, the inbox's
deadline filters with their counts and marks (as indexed queries), and the admin's targets
page. Tests with ``app`` run on SQLite and on PostgreSQL.

The issue's "done when" for this part (late after three working days and a holiday) is
``test_done_when_an_untouched_kerkelanden_signal_is_late_in_zuidwest``."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import product

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text

from portal.domain import casework, deadlines
from portal.domain.deadlines import DeadlineRules, Target, load_targets, save_target
from portal.domain.inbox import Deadlines, InboxFilter, search_signals
from portal.domain.inbox.deadlines import CONDITIONS
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.routing import LocationInput
from portal.domain.working_days import LOCAL_TIMEZONE, add_working_days
from portal.extensions import db
from portal.models import AuditRecord, ResponseTarget, Signal, User
from portal.vocabulary import Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import (
    ADMIN,
    ANNA,
    KERKELANDEN,
    SANNE,
    SINT_VITUSBUURT,
    db_session,
    intake_settings,
    login,
    user_id,
)

INBOX = "/backoffice/signalen"
REFERENCE_LINK = re.compile(r'class="utrecht-link portal-inbox-reference" href="[^"]+">([^<]+)</a>')
DEADLINE_COUNT = re.compile(
    r'<a class="utrecht-link portal-deadline-count" href="([^"]+)"[^>]*>([^<]+) \((\d+)\)</a>'
)
RULES = DeadlineRules(respond_working_days=3, handle_working_days=20)


# --- arranging ------------------------------------------------------------------------------


def local(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on ``day`` in Hilversum, as UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIMEZONE).astimezone(UTC)


def days_ago(days: int) -> datetime:
    return local(datetime.now(LOCAL_TIMEZONE).date() - timedelta(days=days), 12)


def submit(
    app: Flask,
    *,
    when: datetime | None = None,
    buurt: str | None = KERKELANDEN,
    kind: Kind = Kind.KNELPUNT,
    themes: tuple[Theme, ...] = (Theme.SCHOON,),
    title: str = "Afval bij de glasbak",
) -> str:
    settings = intake_settings(app)
    if when is not None:
        settings = replace(settings, now=when)
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=kind,
                themes=list(themes),
                title=title,
                description="Er ligt al dagen afval naast de glasbak op de hoek.",
                location=LocationInput(buurt_code=buurt),
                reporter=ReporterInput(name="Jan Jansen", email=None),
            ),
            settings,
        )
        db.session.commit()
        return result.signal.reference


def admin_actor(app: Flask, now: datetime | None = None) -> casework.Actor:
    return casework.Actor(user_id=user_id(app, ADMIN), now=now or datetime.now(UTC))


def signal_of(reference: str) -> Signal:
    return db.session.scalars(select(Signal).where(Signal.reference == reference)).one()


def move(app: Flask, reference: str, target: Status, *, at: datetime | None = None) -> None:
    who = admin_actor(app, at)
    with app.app_context():
        signal = signal_of(reference)
        casework.change_status(
            db.session,
            signal,
            target.value,
            message="Bericht aan de bewoner.",
            seen_version=signal.version,
            actor=who,
            mail=intake_settings(app).mail,
        )
        db.session.commit()


def stored(app: Flask, reference: str) -> Signal:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        session.expunge(signal)
        return signal


def add_target(app: Flask, kind: Kind, theme: Theme | None, respond: int, handle: int) -> None:
    with app.app_context():
        save_target(
            db.session,
            None,
            kind=kind.value,
            theme=theme.value if theme else None,
            respond_working_days=respond,
            handle_working_days=handle,
            actor_id=user_id(app, ADMIN),
        )
        db.session.commit()


def inbox(client: FlaskClient, query: dict[str, str]) -> str:
    response = client.get(INBOX, query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def listed(client: FlaskClient, query: dict[str, str]) -> set[str]:
    return set(REFERENCE_LINK.findall(inbox(client, query)))


def deadline_counts(body: str) -> dict[str, int]:
    return {label: int(n) for _href, label, n in DEADLINE_COUNT.findall(body)}


def row_of(body: str, reference: str) -> str:
    rows = re.findall(r'<tr class="utrecht-table__row">.*?</tr>', body, re.S)
    [row] = [r for r in rows if f">{reference}</a>" in r]
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def visible(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- due dates ------------------------------------------------------------------------------


def test_a_new_signal_stores_its_due_dates_in_working_days(app):
    # Friday 24 April 2026: King's Day (27 April) is skipped for the response; Ascension Day
    # (14 May) and Whit Monday (25 May) too for handling.
    reference = submit(app, when=local(date(2026, 4, 24)))
    signal = stored(app, reference)
    assert signal.respond_due_on == date(2026, 4, 30)
    assert signal.handle_due_on == date(2026, 5, 27)
    assert signal.responded_at is None and signal.awaiting_since is None
    # Late in the evening counts as that (local) day, not as the UTC date.
    evening = submit(app, when=datetime(2026, 4, 23, 22, 30, tzinfo=UTC))  # 00:30 on the 24th
    assert stored(app, evening).respond_due_on == date(2026, 4, 30)


def test_targets_per_kind_and_theme_the_earliest_promise_wins(app):
    add_target(app, Kind.KNELPUNT, None, 2, 10)
    add_target(app, Kind.KNELPUNT, Theme.VEILIG, 1, 5)
    add_target(app, Kind.KNELPUNT, Theme.HEEL, 4, 8)
    monday = local(date(2026, 11, 2))
    plain = submit(app, when=monday, themes=(Theme.SCHOON,))
    safety = submit(app, when=monday, themes=(Theme.SCHOON, Theme.VEILIG))
    both = submit(app, when=monday, themes=(Theme.HEEL, Theme.VEILIG))
    idea = submit(app, when=monday, kind=Kind.INITIATIEF, themes=(Theme.VEILIG,))
    due = {
        ref: (stored(app, ref).respond_due_on, stored(app, ref).handle_due_on)
        for ref in (plain, safety, both, idea)
    }
    assert due[plain] == (date(2026, 11, 4), date(2026, 11, 16))  # the kind's 2 / 10
    assert due[safety] == (date(2026, 11, 3), date(2026, 11, 9))  # veilig's 1 / 5
    assert due[both] == (date(2026, 11, 3), date(2026, 11, 9))  # min(4, 1) / min(8, 5)
    # No row for initiatief: the installation's 3 / 20.
    assert due[idea] == (date(2026, 11, 5), date(2026, 11, 30))
    # A target changed later leaves the promise made.
    with app.app_context():
        row = db.session.scalars(select(ResponseTarget).where(ResponseTarget.theme.is_(None))).one()
        save_target(
            db.session,
            row,
            kind="knelpunt",
            theme=None,
            respond_working_days=9,
            handle_working_days=90,
            actor_id=user_id(app, ADMIN),
        )
        db.session.commit()
    assert (stored(app, plain).respond_due_on, stored(app, plain).handle_due_on) == due[plain]


def test_retarget_after_a_change_of_kind_keeps_the_paused_days(app):
    add_target(app, Kind.INITIATIEF, None, 5, 40)
    reference = submit(app, when=local(date(2026, 11, 2)), kind=Kind.KNELPUNT)
    with app.app_context():
        signal = signal_of(reference)
        before = deadlines.target_of(db.session, signal, RULES)
        assert before == Target(3, 20)
        signal.handle_due_on = add_working_days(signal.handle_due_on, 2)  # paused two days
        signal.kind = Kind.INITIATIEF.value
        deadlines.retarget(db.session, signal, RULES, before=before)
        assert signal.respond_due_on == add_working_days(date(2026, 11, 2), 5)
        assert signal.handle_due_on == add_working_days(date(2026, 11, 2), 42)


def test_the_first_public_step_by_staff_is_the_response(app):
    reference = submit(app, when=days_ago(1))
    first = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        signal = signal_of(reference)
        casework.internal_note(
            db.session,
            signal,
            message="Even navragen.",
            seen_version=signal.version,
            actor=admin_actor(app, first - timedelta(hours=2)),
        )
        db.session.commit()
    assert stored(app, reference).responded_at is None  # a note is not a response
    with app.app_context():
        signal = signal_of(reference)
        casework.public_reply(
            db.session,
            signal,
            message="We kijken ernaar.",
            seen_version=signal.version,
            actor=admin_actor(app, first),
            mail=intake_settings(app).mail,
        )
        db.session.commit()
    assert stored(app, reference).responded_at == first
    move(app, reference, Status.IN_PROGRESS, at=first + timedelta(hours=1))
    assert stored(app, reference).responded_at == first  # the first one stays


def test_waiting_for_the_resident_pauses_handling(app):
    # In on Monday 2 November 2026: handle by Monday 30 November.
    reference = submit(app, when=local(date(2026, 11, 2)))
    assert stored(app, reference).handle_due_on == date(2026, 11, 30)
    asked = local(date(2026, 11, 4), 10)
    move(app, reference, Status.AWAITING_RESIDENT, at=asked)
    waiting = stored(app, reference)
    assert waiting.awaiting_since == asked and waiting.responded_at == asked
    # While waiting, past the due date: not late with the pause on, late with it off.
    later = date(2026, 12, 2)
    assert not deadlines.handle_late(waiting, later, RULES)
    off = replace(RULES, pause_while_awaiting_resident=False)
    assert deadlines.handle_late(waiting, later, off)
    # Back on Wednesday 11 November: five working days waited (5, 6, 9, 10, 11 November).
    move(app, reference, Status.IN_PROGRESS, at=local(date(2026, 11, 11), 15))
    resumed = stored(app, reference)
    assert resumed.awaiting_since is None
    assert resumed.handle_due_on == add_working_days(date(2026, 11, 30), 5) == date(2026, 12, 7)
    # The same wait with the pause off moves nothing.
    resumed.awaiting_since = asked
    deadlines.stopped_waiting(resumed, now=local(date(2026, 11, 11), 15), rules=off)
    assert resumed.handle_due_on == date(2026, 12, 7) and resumed.awaiting_since is None


def test_reopening_gives_a_new_handling_period(app):
    reference = submit(app, when=local(date(2026, 3, 2)))
    move(app, reference, Status.RESOLVED, at=local(date(2026, 3, 20)))
    move(app, reference, Status.REOPENED, at=local(date(2026, 11, 2)))
    reopened = stored(app, reference)
    assert reopened.handle_due_on == date(2026, 11, 30)
    assert reopened.respond_due_on == date(2026, 3, 5)  # answered long ago; stays


# --- the follow-up date with its reason -----------------------------------------------------


def post_follow_up(client: FlaskClient, app: Flask, reference: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    page = f"/backoffice/signalen/{reference}"
    with app.app_context():
        version = signal_of(reference).version
    form = {"csrf_token": csrf_token(client, page), "version": str(version), **data}
    return client.post(f"{page}/opvolgen", data=form)


def test_a_follow_up_date_with_a_short_reason(app):
    reference = submit(app)
    client = login(app.test_client(), ANNA)
    day = datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=3)
    reason = "Bellen met de aannemer over de planning"
    data = {"follow_up_on": day.isoformat(), "follow_up_reason": f"  {reason} "}
    assert post_follow_up(client, app, reference, data).status_code == 303
    signal = stored(app, reference)
    assert (signal.follow_up_on, signal.follow_up_reason) == (day, reason)
    page = client.get(f"/backoffice/signalen/{reference}").get_data(as_text=True)
    assert f"Waarom opvolgen {reason}" in visible(page)
    assert f'value="{reason}"' in page  # the form shows the reason to change it

    too_long = post_follow_up(
        client, app, reference, {"follow_up_on": day.isoformat(), "follow_up_reason": "x" * 201}
    )
    assert too_long.status_code == 422
    assert "Schrijf de reden in hoogstens 200 tekens." in visible(too_long.get_data(as_text=True))
    assert stored(app, reference).follow_up_reason == reason

    # Only the reason changes: that is a change too.
    other = {"follow_up_on": day.isoformat(), "follow_up_reason": "Foto's opvragen"}
    assert post_follow_up(client, app, reference, other).status_code == 303
    assert stored(app, reference).follow_up_reason == "Foto's opvragen"
    assert post_follow_up(client, app, reference, {"action": "clear"}).status_code == 303
    cleared = stored(app, reference)
    assert (cleared.follow_up_on, cleared.follow_up_reason) == (None, None)
    with db_session(app) as session:
        records = session.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "signal.follow_up_set")
            .order_by(AuditRecord.id)
        ).all()
    assert [r.details["reason"] for r in records] == [reason, "Foto's opvragen", None]


def test_a_closed_signal_gets_no_follow_up_date(app):
    reference = submit(app)
    move(app, reference, Status.RESOLVED)
    client = login(app.test_client(), ANNA)
    day = (datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=3)).isoformat()
    response = post_follow_up(client, app, reference, {"follow_up_on": day})
    assert response.status_code == 422
    assert "Alleen een open melding krijgt een opvolgdatum." in visible(response.text)
    assert stored(app, reference).follow_up_on is None
    with app.app_context(), pytest.raises(casework.CaseworkError) as refused:
        signal = signal_of(reference)
        casework.set_follow_up(
            db.session,
            signal,
            on=date.today() + timedelta(days=3),
            seen_version=signal.version,
            actor=admin_actor(app),
        )
    assert refused.value.code == "signal_closed"


# --- the inbox: filters, counts and marks ---------------------------------------------------


def follow_up(app: Flask, reference: str, on: date, *, set_at: datetime) -> None:
    with app.app_context():
        signal = signal_of(reference)
        casework.set_follow_up(
            db.session,
            signal,
            on=on,
            reason="Nabellen",
            seen_version=signal.version,
            actor=admin_actor(app, set_at),
        )
        db.session.commit()


def test_inbox_deadline_filters_counts_and_marks(app):
    today = datetime.now(LOCAL_TIMEZONE).date()
    no_answer = submit(app, when=days_ago(10), title="Geen reactie")
    slow = submit(app, when=days_ago(45), title="Traag")
    move(app, slow, Status.IN_PROGRESS)
    ancient = submit(app, when=days_ago(130), title="Stokoud")
    move(app, ancient, Status.PLANNED)
    waiting = submit(app, when=days_ago(45), title="Wacht op bewoner")
    move(app, waiting, Status.AWAITING_RESIDENT)
    look_today = submit(app, title="Vandaag opvolgen")
    follow_up(app, look_today, today, set_at=days_ago(0))
    look_passed = submit(app, title="Opvolgen verlopen")
    move(app, look_passed, Status.IN_PROGRESS)
    follow_up(app, look_passed, today - timedelta(days=2), set_at=days_ago(3))
    closed = submit(app, when=days_ago(130), title="Gesloten")
    move(app, closed, Status.RESOLVED)
    fresh = submit(app, title="Net binnen")
    centrum = submit(app, when=days_ago(10), buurt=SINT_VITUSBUURT, title="Centrum te laat")

    client = login(app.test_client(), ANNA)
    mine = {"scope": "mine"}
    assert listed(client, {**mine, "respond_late": "1"}) == {no_answer}
    assert listed(client, {**mine, "handle_late": "1"}) == {slow, ancient}
    assert listed(client, {**mine, "far_overdue": "1"}) == {ancient}
    assert listed(client, {**mine, "follow_up_due": "1"}) == {look_today, look_passed}
    # Older bookmarks: late in any way, or the follow-up day has passed.
    assert listed(client, {**mine, "overdue": "1"}) == {no_answer, slow, ancient, look_passed}
    assert listed(client, {**mine, "handle_late": "1", "far_overdue": "1"}) == {ancient}
    assert fresh in listed(client, mine) and closed in listed(client, mine)
    assert centrum in listed(client, {"scope": "all", "respond_late": "1"})

    body = inbox(client, mine)
    assert deadline_counts(body) == {
        "Reactie te laat": 1,
        "Afhandeling te laat": 2,
        "Opvolgen vandaag": 2,
        "Ver over tijd": 1,
    }
    # The counts follow the other filters, not the deadline filters themselves.
    filtered = inbox(client, {**mine, "respond_late": "1", "q": "Traag"})
    assert deadline_counts(filtered)["Afhandeling te laat"] == 1
    assert 'aria-current="true">Reactie te laat' in filtered
    all_counts = deadline_counts(inbox(client, {"scope": "all"}))
    assert all_counts["Reactie te laat"] == 2
    # Each count links to its own filter, keeping the scope.
    links = {label: html.unescape(href) for href, label, _n in DEADLINE_COUNT.findall(body)}
    assert "respond_late=1" in links["Reactie te laat"] and "scope=mine" in links["Reactie te laat"]
    assert "handle_late" not in links["Reactie te laat"]

    assert "Reactie te laat" in row_of(body, no_answer)
    assert "Afhandeling te laat" in row_of(body, slow)
    assert "Ver over tijd" in row_of(body, ancient)
    assert "Afhandeling te laat" not in row_of(body, ancient)  # the stronger mark alone
    for calm in (waiting, fresh, closed):
        assert "te laat" not in row_of(body, calm) and "Ver over tijd" not in row_of(body, calm)
    assert 'name="respond_late" value="1" checked' in inbox(client, {**mine, "respond_late": "1"})


def test_the_rows_marks_and_the_sql_filters_agree(app):
    """The SQL conditions and the per-row rules are written twice; on a spread of signals
    and days they must pick the same signals (with targets per kind and theme)."""
    add_target(app, Kind.KNELPUNT, None, 2, 6)
    add_target(app, Kind.KNELPUNT, Theme.VEILIG, 1, 3)
    add_target(app, Kind.INITIATIEF, Theme.SOCIAAL, 4, 9)
    add_target(app, Kind.KNELPUNT, Theme.HEEL, 3, 12)  # longer than its kind's: it still wins
    start = date(2026, 9, 1)
    kinds = [(Kind.KNELPUNT, (Theme.SCHOON,)), (Kind.KNELPUNT, (Theme.VEILIG, Theme.HEEL))]
    kinds += [(Kind.INITIATIEF, (Theme.SOCIAAL,)), (Kind.INITIATIEF, (Theme.HEEL,))]
    kinds += [(Kind.KNELPUNT, (Theme.HEEL,))]
    references = []
    for offset, (kind, themes) in product(range(0, 60, 7), kinds):
        references.append(
            submit(app, when=local(start + timedelta(days=offset)), kind=kind, themes=themes)
        )
    move(app, references[1], Status.IN_PROGRESS, at=local(date(2026, 9, 2)))
    move(app, references[2], Status.AWAITING_RESIDENT, at=local(date(2026, 9, 3)))
    move(app, references[3], Status.RESOLVED, at=local(date(2026, 9, 4)))
    follow_up(app, references[4], date(2026, 10, 14), set_at=local(date(2026, 9, 1)))
    follow_up(app, references[5], date(2026, 9, 30), set_at=local(date(2026, 9, 1)))
    with app.app_context():
        admin = db.session.get(User, user_id(app, ADMIN))
        targets = load_targets(db.session, RULES)
        seen: dict[str, set[str]] = {name: set() for name in CONDITIONS}
        for day in (date(2026, 9, 10), date(2026, 10, 14), date(2026, 11, 20), date(2027, 1, 5)):
            moment = Deadlines.at(local(day, 9), 3, LOCAL_TIMEZONE, targets=targets)
            everything = search_signals(
                db.session, admin, InboxFilter(scope="all"), 500, deadlines=moment
            )
            by_rule = {name: set() for name in CONDITIONS}
            for row in everything.rows:
                for name in CONDITIONS:
                    if getattr(moment, name)(row.signal):
                        by_rule[name].add(row.signal.reference)
            for name in CONDITIONS:
                flt = replace(InboxFilter(scope="all"), **{name: True})
                found = search_signals(db.session, admin, flt, 500, deadlines=moment)
                assert {r.signal.reference for r in found.rows} == by_rule[name], (day, name)
                assert everything.deadline_counts[name] == len(by_rule[name]), (day, name)
            assert by_rule["far_overdue"] <= by_rule["handle_late"]
            for name, found_refs in by_rule.items():
                seen[name] |= found_refs
    assert all(seen.values()), seen  # every rule picked some signal on some day


def test_the_deadline_filters_are_index_range_queries(app):
    """Each deadline filter reads its date column's index, not the whole table."""
    submit(app)
    with app.app_context():
        session = db.session
        moment = Deadlines.at(
            datetime.now(UTC), 3, LOCAL_TIMEZONE, targets=load_targets(session, RULES)
        )
        dialect = session.get_bind().dialect.name
        expected = {
            "respond_late": "ix_signals_open_respond_due",
            "handle_late": "ix_signals_open_handle_due",
            "far_overdue": "ix_signals_open_handle_due",
            "follow_up_due": "ix_signals_open_follow_up",
        }
        if dialect == "postgresql":
            session.execute(text("SET LOCAL enable_seqscan = off"))
        for name, index in expected.items():
            statement = select(Signal.id).where(CONDITIONS[name](moment))
            compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
            plan = " ".join(str(row) for row in session.execute(text(prefix + str(compiled))))
            assert index in plan, (name, plan)
        session.rollback()


# --- the "done when" ----------------------------------------------------------------


def test_done_when_an_untouched_kerkelanden_signal_is_late_in_zuidwest(
    app,
):
    # In on Friday 24 April 2026; Monday 27 April is King's Day, so the three working days
    # are 28, 29 and 30 April. Not late on the 30th (without the holiday it would have been).
    reference = submit(app, when=local(date(2026, 4, 24), 11), buurt=KERKELANDEN)
    sanne_signal = submit(app, when=local(date(2026, 4, 24), 11), buurt=SINT_VITUSBUURT)
    with app.app_context():
        anna = db.session.get(User, user_id(app, ANNA))
        sanne = db.session.get(User, user_id(app, SANNE))
        targets = load_targets(db.session, RULES)
        late_filter = InboxFilter(scope="mine", respond_late=True)

        def late_for(user: User, moment: datetime) -> list[str]:
            at = Deadlines.at(moment, 3, LOCAL_TIMEZONE, targets=targets)
            page = search_signals(db.session, user, late_filter, 50, deadlines=at)
            assert all(row.respond_late for row in page.rows)
            return [row.signal.reference for row in page.rows]

        assert late_for(anna, local(date(2026, 4, 30), 17)) == []
        assert late_for(anna, local(date(2026, 5, 1), 8)) == [reference]
        assert late_for(sanne, local(date(2026, 5, 1), 8)) == [sanne_signal]
    # And in Anna's own inbox in the back office (today is long after 1 May 2026).
    client = login(app.test_client(), ANNA)
    body = inbox(client, {})
    assert "Mijn signalen" in body
    assert "Reactie te laat" in row_of(body, reference)
    assert deadline_counts(body)["Reactie te laat"] == 1
    assert listed(client, {"respond_late": "1"}) == {reference}
    sanne_client = login(app.test_client(), SANNE)
    assert reference not in listed(sanne_client, {"scope": "mine", "respond_late": "1"})


# --- the admin's targets page ---------------------------------------------------------------


def target_form(kind: str, theme: str, respond: str, handle: str) -> dict[str, str]:
    return {
        "kind": kind,
        "theme": theme,
        "respond_working_days": respond,
        "handle_working_days": handle,
    }


def test_admins_manage_targets(app):
    client = login(app.test_client(), ADMIN)
    listing_url = "/backoffice/beheer/termijnen"
    page = visible(client.get(listing_url).text)
    assert "eerste reactie binnen 3 en afhandeling binnen 20 werkdagen" in page
    assert "Er zijn nog geen eigen termijnen" in page
    new = "/backoffice/beheer/termijnen/nieuw"

    def post(url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
        return client.post(url, data={"csrf_token": csrf_token(client, new), **data})

    assert post(new, target_form("knelpunt", "", "2", "15")).status_code == 303
    assert "De termijn voor Knelpunt is opgeslagen." in visible(client.get(listing_url).text)
    for data, message in [
        (target_form("knelpunt", "", "1", "9"), "Voor deze soort en dit thema is er al een"),
        (target_form("knelpunt", "veilig", "9", "5"), "kan niet later komen dan de afhandeling"),
        (target_form("knelpunt", "veilig", "drie", "5"), "Vul een aantal werkdagen in, bijv"),
        (target_form("knelpunt", "veilig", "0", "5"), "werkdagen in van 1 tot en met 250."),
        (target_form("weg", "", "1", "5"), "Kies een soort uit de lijst."),
    ]:
        refused = post(new, data)
        assert refused.status_code == 422, data
        assert message in visible(refused.text), data
        assert "Er ging iets mis" in refused.text
    assert post(new, target_form("knelpunt", "veilig", "1", "5")).status_code == 303

    with db_session(app) as session:
        rows = {(r.kind, r.theme): r for r in session.scalars(select(ResponseTarget))}
    assert {k: (r.respond_working_days, r.handle_working_days) for k, r in rows.items()} == {
        ("knelpunt", None): (2, 15),
        ("knelpunt", "veilig"): (1, 5),
    }
    listing = visible(client.get(listing_url).text)
    assert "Knelpunt (alle thema's) 2 werkdagen 15 werkdagen" in listing
    assert "Knelpunt, Veilig 1 werkdag 5 werkdagen" in listing
    # A new Knelpunt signal with theme Veilig gets those days.
    reference = submit(app, when=local(date(2026, 11, 2)), themes=(Theme.VEILIG,))
    assert stored(app, reference).respond_due_on == date(2026, 11, 3)

    edit = f"/backoffice/beheer/termijnen/{rows[('knelpunt', None)].id}"
    assert 'value="15"' in client.get(edit).text
    assert post(edit, target_form("knelpunt", "", "3", "15")).status_code == 303
    assert post(f"{edit}/verwijderen", {}).status_code == 303
    with db_session(app) as session:
        left = [(r.kind, r.theme) for r in session.scalars(select(ResponseTarget))]
        actions = session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.action.like("response_target.%"))
            .order_by(AuditRecord.id)
        ).all()
    assert left == [("knelpunt", "veilig")]
    assert actions == ["response_target.saved"] * 3 + ["response_target.deleted"]
    assert login(app.test_client(), ANNA).get(listing_url).status_code == 403


# --- in a real browser: axe-core and the Nu HTML checker on every page ----------------------


@pytest.mark.browser
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_deadline_pages_in_a_browser(app, live_server, new_page):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    from tests.fixtures.browser import assert_accessible
    from tests.test_browser_backoffice import log_in

    late = submit(app, when=days_ago(10), title="Geen reactie")
    ancient = submit(app, when=days_ago(130), title="Stokoud")
    move(app, ancient, Status.PLANNED)

    admin = new_page()
    log_in(admin, live_server, ADMIN)
    admin.goto(f"{live_server}/backoffice/beheer/termijnen")
    assert_accessible(admin)
    admin.get_by_role("link", name="Nieuwe termijn").click()
    assert_accessible(admin)
    admin.get_by_label("Soort").select_option(value="initiatief")
    admin.get_by_label("Eerste reactie binnen (werkdagen)").fill("50")
    admin.get_by_label("Afgehandeld binnen (werkdagen)").fill("40")
    admin.get_by_role("button", name="Termijn opslaan").click()
    expect(admin.locator("#foutmeldingen")).to_contain_text("niet later komen")
    assert_accessible(admin)
    admin.get_by_label("Eerste reactie binnen (werkdagen)").fill("5")
    admin.get_by_role("button", name="Termijn opslaan").click()
    expect(admin.locator("main")).to_contain_text("De termijn voor Initiatief is opgeslagen.")
    assert_accessible(admin)

    anna = new_page()
    log_in(anna, live_server, ANNA)
    anna.goto(f"{live_server}/backoffice/signalen")
    expect(anna.locator(".portal-deadline-count").first).to_have_text("Reactie te laat (1)")
    assert_accessible(anna)
    anna.locator(".portal-deadline-count", has_text="Ver over tijd").click()
    expect(anna.locator(".portal-inbox-reference")).to_have_text([ancient])
    assert_accessible(anna)
    anna.get_by_role("link", name=ancient).click()
    expect(anna.locator(".portal-deadlines")).to_contain_text("Ver over tijd")
    follow_up_form = anna.locator("#actie-follow_up")
    day = datetime.now(LOCAL_TIMEZONE).date() + timedelta(days=2)
    follow_up_form.get_by_label("Opvolgdatum").fill(day.isoformat())
    follow_up_form.get_by_label("Waarom? (niet verplicht)").fill("Aannemer bellen")
    follow_up_form.get_by_role("button", name="Bewaar datum").click()
    expect(anna.locator(".portal-deadlines")).to_contain_text("Waarom opvolgen Aannemer bellen")
    assert_accessible(anna)
    anna.goto(f"{live_server}/backoffice/signalen/{late}")
    expect(anna.locator(".portal-deadlines")).to_contain_text("Reactie te laat")
    assert_accessible(anna)
    anna.goto(f"{live_server}/backoffice/account")
    assert_accessible(anna)
