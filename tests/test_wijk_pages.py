"""The public wijk pages: /wijken with every wijk, its buurten and accountmanager(s); one
wijk's page with how to reach them, the wijkteam partners and the initiatives whose
initiators allowed it (never a knelpunt, never a sensitive one); the links to it from the
home page, the form, the confirmation and the status page; the public profile photos.
Every test runs on SQLite and on PostgreSQL (the ``app`` fixture), through the real pages."""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Flask
from PIL import Image
from sqlalchemy import select

from portal.domain import casework, sensitive, wijk_pages
from portal.domain.casework import Actor
from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.partners import save_partner
from portal.domain.photos import PhotoStore
from portal.domain.profiles import ProfileInput, photo_store, set_photo, update_profile
from portal.domain.routing import LocationInput
from portal.domain.routing_admin import set_routing_rule
from portal.domain.users import create_user, update_user
from portal.extensions import db
from portal.models import RoutingRule, Signal, StaffProfile, User
from portal.seeding_outreach import seed_demo_outreach
from portal.vocabulary import Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, KERKELANDEN, SANNE, db_session, intake_settings
from tests.test_report_form import no_location, valid_form

ZUIDWEST = "WK040203"
CENTRUM = "WK040201"
INTRO = "Ik ben Anna, uw accountmanager.\nBel of mail me gerust."


# --- helpers --------------------------------------------------------------------------------


def give_profile(app: Flask, account: str = ANNA, **values: str | None) -> None:
    data = {"intro": INTRO, "phone": "035 629 22 11", "email": "a.devries@hilversum.example"}
    data.update(values)
    with db_session(app) as session:
        user = session.scalars(select(User).where(User.email == account)).one()
        update_profile(session, user, ProfileInput(**data), actor_id=user.id)
        session.commit()


def jpeg_bytes(
    size: tuple[int, int] = (300, 200), colour: tuple[int, int, int] = (30, 90, 160)
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def initiative(
    app: Flask,
    title: str,
    *,
    public: bool = True,
    kind: Kind = Kind.INITIATIEF,
    buurt: str = KERKELANDEN,
    now: datetime | None = None,
) -> str:
    """An initiative (or knelpunt) through the intake, as the form stores it; its reference."""
    with app.app_context():
        result = submit_signal(
            db.session,
            Submission(
                kind=kind,
                themes=[Theme.SOCIAAL],
                title=title,
                description="Geheime beschrijving: wij willen een buurtmoestuin beginnen.",
                location=LocationInput(buurt_code=buurt),
                reporter=ReporterInput(name="Petra Pieters", email="petra@example.nl"),
                public_display=public,
            ),
            intake_settings(app, now),
        )
        db.session.commit()
        return result.signal.reference


def signal_by(app: Flask, reference: str) -> Signal:
    with db_session(app) as session:
        signal = session.scalars(select(Signal).where(Signal.reference == reference)).one()
        session.expunge(signal)
        return signal


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def section(page: str, element_id: str) -> str:
    match = re.search(rf'<section aria-labelledby="{element_id}">(.*?)</section>', page, re.S)
    assert match, f"no section {element_id!r}"
    return match.group(1)


# --- /wijken ---------------------------------------------------------------------------------


def test_wijken_lists_every_wijk_by_name_with_its_buurten_and_accountmanager(client):
    response = client.get("/wijken")
    assert response.status_code == 200
    page = text(response)
    names = re.findall(r'href="/wijken/(WK\d+)">Wijk ([^<]+)</a>', page)
    assert len(names) == 9
    assert [name for _code, name in names] == sorted(name for _code, name in names)
    assert (ZUIDWEST, "Zuidwest") in names
    zuidwest = page[page.index(f'href="/wijken/{ZUIDWEST}"') :].split("</li>")[0]
    assert "Accountmanager: Anna de Vries" in zuidwest
    assert "Kerkelanden" in zuidwest and "Zeverijn" in zuidwest
    assert "Sint Vitusbuurt" not in zuidwest


def test_a_wijk_without_accountmanager_points_to_bureau_wijkzaken(app, client):
    with db_session(app) as session:
        admin = session.scalars(select(User).where(User.email == ADMIN)).one()
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        set_routing_rule(session, ZUIDWEST, None, admin.id)  # her signals go elsewhere first
        update_user(
            session,
            anna,
            name=anna.name,
            email=anna.email,
            role=anna.role,
            wijk_codes=[],
            active=False,
            actor_id=admin.id,
        )
        session.commit()
        assert wijk_pages.contacts_by_wijk(session, [ZUIDWEST]) == {ZUIDWEST: []}
    page = text(client.get(f"/wijken/{ZUIDWEST}"))
    assert "Anna de Vries" not in page
    assert "geen eigen accountmanager" in page
    assert 'href="tel:14035"' in page


# --- one wijk --------------------------------------------------------------------------------


def test_the_wijk_page_shows_the_accountmanager_and_how_to_reach_her(app, client):
    give_profile(app)
    response = client.get(f"/wijken/{ZUIDWEST}")
    assert response.status_code == 200
    page = text(response)
    assert '<h1 class="utrecht-heading-1">Wijk Zuidwest</h1>' in page
    people = section(page, "accountmanager")
    assert "Anna de Vries" in people
    # Each line of the introduction its own paragraph, as she typed it.
    assert '<p class="utrecht-paragraph">Ik ben Anna, uw accountmanager.</p>' in people
    assert '<p class="utrecht-paragraph">Bel of mail me gerust.</p>' in people
    assert re.search(
        r'<a class="utrecht-link portal-nowrap" href="tel:\+31356292211">035 629 22 11</a>', people
    )
    assert 'href="mailto:a.devries@hilversum.example"' in people
    # No photo yet: her initials stand in, hidden from screen readers (the name is beside it).
    assert re.search(
        r'<span class="[^"]*portal-contact__initials" aria-hidden="true">AV</span>', people
    )
    assert 'href="tel:14035"' in people  # Bureau Wijkzaken, for everything else
    assert '<li class="utrecht-unordered-list__item">Kerkelanden</li>' in section(page, "buurten")
    assert f'href="/melden?wijk={ZUIDWEST}"' in page
    assert "Doe een melding in deze wijk" in page


def test_the_routing_owner_comes_first_and_only_active_accountmanagers_are_shown(app, client):
    with db_session(app) as session:
        admin_id = session.scalar(select(User.id).where(User.email == ADMIN))
        for name, role in [
            ("Aad Aalbers", "accountmanager"),
            ("Bram Beheer", "admin"),
            ("Carla Vertrokken", "accountmanager"),
        ]:
            create_user(
                session,
                email=name.lower().replace(" ", ".") + "@hilversum.example",
                name=name,
                role=role,
                password="een-goed-wachtwoord-2026",
                wijk_codes=[ZUIDWEST],
                actor_id=admin_id,
            )
        carla = session.scalars(select(User).where(User.name == "Carla Vertrokken")).one()
        carla.active = False
        session.commit()

    def shown() -> list[str]:
        people = section(text(client.get(f"/wijken/{ZUIDWEST}")), "accountmanager")
        return re.findall(r'portal-contact__name">([^<]+)<', people)

    # Anna owns the wijk's signals (its routing rule), so she is first, though "Aad" sorts first.
    assert shown() == ["Anna de Vries", "Aad Aalbers"]
    with db_session(app) as session:
        rule = session.get(RoutingRule, ZUIDWEST)
        assert rule is not None
        rule.owner_id = session.scalar(select(User.id).where(User.name == "Aad Aalbers"))
        session.commit()
    assert shown() == ["Aad Aalbers", "Anna de Vries"]
    index = text(client.get("/wijken"))
    assert "Accountmanagers: Aad Aalbers, Anna de Vries" in index


def test_partners_are_named_by_organisation_only(app, client):
    with db_session(app) as session:
        seed_demo_outreach(session)
        admin_id = session.scalar(select(User.id).where(User.email == ADMIN))
        save_partner(
            session,
            None,
            organisation="Stichting Gestopt",
            contact_name="Iemand Anders",
            email="info@gestopt.example",
            wijk_codes=[ZUIDWEST],
            active=False,
            actor_id=admin_id,
        )
        session.commit()
    partners = section(text(client.get(f"/wijken/{ZUIDWEST}")), "wijkteam")
    assert 'Dudok Wonen <span class="portal-muted">(in deze wijk)</span>' in partners
    assert (
        'Politie Gooi en Vechtstreek <span class="portal-muted">(in heel Hilversum)</span>'
        in partners
    )
    assert "Versa Welzijn" in partners
    assert "Het Gooi en Omstreken" not in partners  # works in other wijken
    assert "Stichting Gestopt" not in partners  # no longer in the wijkteam
    # Contact people and their addresses are for staff only.
    for private in ("Ellen de Wit", "e.dewit@dudokwonen.example", "Rachid Kok", "@"):
        assert private not in partners


def test_an_unknown_wijk_is_a_friendly_404_and_a_lower_case_code_finds_the_wijk(client):
    response = client.get("/wijken/WK999999")
    assert response.status_code == 404
    page = text(response)
    assert "Deze wijk kennen we niet" in page
    assert f'href="/wijken/{ZUIDWEST}"' in page  # and the way on
    assert client.get("/wijken/" + "x" * 300).status_code == 404
    moved = client.get(f"/wijken/{ZUIDWEST.lower()}")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(f"/wijken/{ZUIDWEST}")


# --- initiatives on the wijk page ------------------------------------------------------------


def test_the_opt_in_from_the_form_is_stored_for_an_initiative_and_shown(app, client):
    token = csrf_token(client, "/melden")
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', text(client.get("/melden")))
    assert key
    form = valid_form(
        kind="initiatief",
        themes=["sociaal"],
        title="Buurtmoestuin Kerkelanden",
        description="Wij willen met de buren een moestuin beginnen op het grasveld.",
        public_display="y",
        csrf_token=token,
        submission_key=key.group(1),
    )
    assert client.post("/melden", data=form).status_code == 303
    with db_session(app) as session:
        stored = session.scalars(select(Signal).order_by(Signal.id.desc())).first()
        assert stored is not None and stored.kind == "initiatief" and stored.public_display
    page = section(text(client.get(f"/wijken/{ZUIDWEST}")), "initiatieven")
    assert "Buurtmoestuin Kerkelanden" in page
    assert "Buurt Kerkelanden" in page
    assert "Ontvangen" in page
    created = stored.created_at.replace(tzinfo=stored.created_at.tzinfo or UTC)
    month = format_datetime(created, "MMMM y", tzinfo=ZoneInfo("Europe/Amsterdam"), locale="nl")
    assert f"gedeeld in {month}" in page
    # Nothing else of it: not the description, not who sent it.
    for private in (
        "moestuin beginnen op het grasveld",
        "Jan Jansen",
        "jan.jansen@example.nl",
        stored.reference,
        "Kerkelandenlaan",
    ):
        assert private not in page


def test_a_knelpunt_is_never_shown_even_when_the_box_was_ticked(app, client):
    token = csrf_token(client, "/melden")
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', text(client.get("/melden")))
    assert key
    form = valid_form(public_display="y", csrf_token=token, submission_key=key.group(1))
    assert client.post("/melden", data=form).status_code == 303
    with db_session(app) as session:
        stored = session.scalars(select(Signal).order_by(Signal.id.desc())).first()
        assert stored is not None and stored.kind == "knelpunt"
        assert stored.public_display is False
    initiative(app, "Ook een knelpunt", kind=Kind.KNELPUNT, public=True)
    page = section(text(client.get(f"/wijken/{ZUIDWEST}")), "initiatieven")
    assert "Kapotte lantaarnpaal" not in page and "Ook een knelpunt" not in page
    assert "Hier staan nog geen initiatieven." in page


def test_only_opted_in_open_or_done_initiatives_that_are_not_sensitive_are_shown(app, client):
    shown = initiative(app, "Straatfeest in Zeverijn", buurt="BU04020303")
    initiative(app, "Niet openbaar initiatief", public=False)
    secret = initiative(app, "Gevoelig initiatief")
    declined = initiative(app, "Afgewezen initiatief")
    done = initiative(app, "Bankje bij de vijver")
    initiative(app, "Initiatief in Centrum", buurt="BU04020103")
    with db_session(app) as session:
        anna_id = session.scalar(select(User.id).where(User.email == ANNA))
        actor = Actor(user_id=anna_id, now=datetime.now(UTC))
        by_ref = {s.reference: s for s in session.scalars(select(Signal))}
        sensitive.mark(
            session,
            by_ref[secret],
            reason="Gaat over een kwetsbaar gezin.",
            seen_version=by_ref[secret].version,
            actor=actor,
        )
        mail = intake_settings(app).mail
        casework.change_status(
            session,
            by_ref[declined],
            Status.DECLINED.value,
            message="Dit is dubbel.",
            seen_version=by_ref[declined].version,
            actor=actor,
            mail=mail,
        )
        casework.change_status(
            session,
            by_ref[done],
            Status.IN_PROGRESS.value,
            message="Mooi plan!",
            seen_version=by_ref[done].version,
            actor=actor,
            mail=mail,
        )
        session.commit()
        titles = [s.public_title for s in wijk_pages.public_initiatives(session, ZUIDWEST)]
    assert titles == ["Bankje bij de vijver", "Straatfeest in Zeverijn"]
    page = section(text(client.get(f"/wijken/{ZUIDWEST}")), "initiatieven")
    assert "Straatfeest in Zeverijn" in page and "Buurt Zeverijn" in page
    # Other residents read an initiative "in behandeling" as "in gesprek".
    assert re.search(r"portal-status--in_progress\">In gesprek</span>", page)
    for hidden in ("Niet openbaar", "Gevoelig", "Afgewezen", "Centrum"):
        assert hidden not in page
    assert signal_by(app, shown).public_display


def test_the_newest_ten_initiatives_are_shown(app):
    start = datetime.now(UTC) - timedelta(days=30)
    for number in range(12):
        initiative(app, f"Initiatief nummer {number}", now=start + timedelta(days=number))
    with db_session(app) as session:
        titles = [s.public_title for s in wijk_pages.public_initiatives(session, ZUIDWEST)]
    assert titles == [f"Initiatief nummer {n}" for n in range(11, 1, -1)]


def test_an_initiative_without_a_title_is_shown_by_its_theme_and_buurt(app, client):
    initiative(app, "")
    page = section(text(client.get(f"/wijken/{ZUIDWEST}")), "initiatieven")
    assert "Sociaal in Kerkelanden" in page
    assert "Geheime beschrijving" not in page


# --- links to the wijk page ------------------------------------------------------------------


def test_the_home_page_names_the_accountmanager_per_wijk(client):
    page = text(client.get("/"))
    assert f'<a class="utrecht-link" href="/wijken/{ZUIDWEST}">Zuidwest</a>: Anna de Vries' in page
    assert f'<a class="utrecht-link" href="/wijken/{CENTRUM}">Centrum</a>: Sanne Bakker' in page
    assert 'href="/wijken"' in page
    assert '<a class="utrecht-link portal-nowrap" href="tel:14035">14 035</a>' in page


def test_the_form_links_to_the_wijk_pages(client):
    page = text(client.get("/melden"))
    assert re.search(r'<a class="utrecht-link" href="/wijken">[^<]+</a>', page)


def test_confirmation_and_status_page_link_to_the_signals_wijk(app, client):
    token = csrf_token(client, "/melden")
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', text(client.get("/melden")))
    assert key
    sent = client.post("/melden", data=valid_form(csrf_token=token, submission_key=key.group(1)))
    assert sent.status_code == 303
    confirmation = text(client.get("/melden/bedankt"))
    assert (
        f'<a class="utrecht-link" href="/wijken/{ZUIDWEST}">'
        "Meer over wijk Zuidwest en uw accountmanager</a>"
    ) in confirmation
    status_url = html.unescape(
        re.search(r'portal-status-link" href="([^"]+)"', confirmation).group(1)
    )  # type: ignore[union-attr]
    status = text(client.get(status_url.removeprefix("http://portal.test")))
    summary = re.search(r'<dl class="portal-summary">(.*?)</dl>', status, re.S)
    assert summary
    rows = re.findall(r"<dt>([^<]+)</dt>\s*<dd>(.*?)</dd>", summary.group(1), re.S)
    labels = [label for label, _value in rows]
    assert labels.index("Uw wijk") + 1 == labels.index("Accountmanager")
    link = dict(rows)["Uw wijk"]
    assert f'href="/wijken/{ZUIDWEST}"' in link and 'rel="noreferrer"' in link
    assert "Meer over wijk Zuidwest en uw accountmanager" in link


def test_a_signal_without_a_wijk_has_no_wijk_link(app, client):
    token = csrf_token(client, "/melden")
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', text(client.get("/melden")))
    assert key
    sent = client.post("/melden", data=no_location(csrf_token=token, submission_key=key.group(1)))
    assert sent.status_code == 303
    confirmation = text(client.get("/melden/bedankt"))
    assert "Meer over wijk" not in confirmation
    status_url = re.search(r'portal-status-link" href="([^"]+)"', confirmation).group(1)  # type: ignore[union-attr]
    status = text(client.get(html.unescape(status_url).removeprefix("http://portal.test")))
    assert "<dt>Uw wijk</dt>" not in status
    assert "<dt>Accountmanager</dt>" in status


# --- public profile photos -------------------------------------------------------------------


def test_a_profile_photo_is_public_and_cached_and_nothing_else_is(app, client):
    with db_session(app) as session:
        anna = session.scalars(select(User).where(User.email == ANNA)).one()
        store = photo_store(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
        set_photo(session, anna, store, io.BytesIO(jpeg_bytes()), actor_id=anna.id)
        session.commit()
        name = anna_profile_photo(session, anna.id)
    page = text(client.get(f"/wijken/{ZUIDWEST}"))
    assert f'src="/profielfoto/{name}"' in page
    assert 'alt="Foto van Anna de Vries"' in page
    photo = client.get(f"/profielfoto/{name}")
    assert photo.status_code == 200
    assert photo.mimetype == "image/jpeg"
    assert photo.cache_control.public and photo.cache_control.max_age == 86400
    assert Image.open(io.BytesIO(photo.data)).size == (200, 200)

    # A resident's photo in the upload folder is never served by this route.
    resident = PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"]).accept(
        io.BytesIO(jpeg_bytes())
    )
    assert client.get(f"/profielfoto/{resident.stored_name}").status_code == 404
    for wrong in ("../uploads", "onbekend.jpg", "0" * 32 + ".jpg"):
        assert client.get(f"/profielfoto/{wrong}").status_code == 404

    # Once she leaves, her photo is no longer public.
    with db_session(app) as session:
        session.scalars(select(User).where(User.email == ANNA)).one().active = False
        session.commit()
    assert client.get(f"/profielfoto/{name}").status_code == 404


def anna_profile_photo(session, anna_id: int) -> str:  # type: ignore[no-untyped-def]
    profile = session.get(StaffProfile, anna_id)
    assert profile is not None and profile.photo_key
    return profile.photo_key


def test_sanne_profile_is_on_centrum_not_on_zuidwest(app, client):
    give_profile(app, SANNE, intro="Ik ben Sanne van het Centrum.", phone=None, email=None)
    assert "Ik ben Sanne" in text(client.get(f"/wijken/{CENTRUM}"))
    zuidwest = text(client.get(f"/wijken/{ZUIDWEST}"))
    assert "Ik ben Sanne" not in zuidwest and "Sanne Bakker" not in zuidwest
    # Without a phone or email, no empty contact list.
    centrum = section(text(client.get(f"/wijken/{CENTRUM}")), "accountmanager")
    assert "portal-contact__reach" not in centrum


def test_the_wijk_pages_report_link_chooses_that_wijk_on_the_form(client) -> None:
    """ "Doe een melding in deze wijk" opens /melden?wijk=<code> with that wijk chosen; an
    unknown code chooses nothing (and is never echoed into the page)."""
    chosen = client.get("/melden?wijk=WK040203").get_data(as_text=True)
    assert re.search(r'<option value="WK040203"\s+selected', chosen)
    unknown = client.get("/melden?wijk=WK999999").get_data(as_text=True)
    assert "selected" not in re.search(r'<select[^>]*id="wijk".*?</select>', unknown, re.S).group(0)
    assert "WK999999" not in unknown
