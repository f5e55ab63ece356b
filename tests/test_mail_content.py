"""Mail worth reading: every mail template rendered through the real renderer with real
objects, in Dutch and English. The resident reads their own words, the kind as the form named
it, who wrote each message and how to answer; the owner reads what to do by when, without the
resident's personal data; the text part says what the HTML part says; the HTML passes axe-core
and the Nu HTML checker. A signal sent through the form reaches the real SMTP server so."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from io import BytesIO

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.mail import RenderedMail
from portal.domain.photos import PhotoStore
from portal.domain.routing import LocationInput
from portal.domain.standard_texts import check_placeholders, fill
from portal.domain.working_days import add_working_days, local_date
from portal.mail_templates import format_day
from portal.models import (
    Attachment,
    ReopenRequest,
    SatisfactionSurvey,
    Signal,
    SignalEvent,
    StandardText,
    User,
)
from portal.seeding import DEMO_STANDARD_TEXTS, seed_demo_texts
from portal.vocabulary import Kind, Status, Theme
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, KERKELANDEN, SANNE, db_session, intake_settings, login
from tests.test_report_form import make_image, post_report, valid_form

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
RESIDENT = "jan.jansen@example.nl"
PHONE = "035 123 45 67"
DESCRIPTION = "Er ligt al dagen afval naast de glasbak.\nOok op de stoep ervoor.\n\nHet stinkt."
STATUS_URL = "http://portal.test/status/dit-is-een-voorbeeld-token"
SIGNAL_URL = "http://portal.test/backoffice/signalen/HLV-2026-000001"
QUESTION = "Om welk huisnummer gaat het?\nStaat de glasbak bij de ingang?"
URL = re.compile(r"https?://[^\s\"'<>]+")


# --- making real signals and rendering ------------------------------------------------------


def new_signal(
    app: Flask,
    *,
    kind: Kind = Kind.KNELPUNT,
    description: str = DESCRIPTION,
    name: str | None = "Jan Jansen",
    email: str | None = RESIDENT,
    phone: str | None = PHONE,
    may_contact: bool = True,
    photos: int = 2,
    locale: str = "nl",
) -> str:
    """A signal through the intake operation, with real stored photos; returns its reference."""
    store = PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    with db_session(app) as session:
        result = submit_signal(
            session,
            Submission(
                kind=kind,
                themes=[Theme.SCHOON, Theme.VEILIG],
                title="Afval bij de glasbak",
                description=description,
                location=LocationInput(buurt_code=KERKELANDEN, postcode="1216 AB"),
                street="Kerkelandenlaan",
                house_number="12a",
                photos=[store.accept(BytesIO(make_image())) for _ in range(photos)],
                reporter=ReporterInput(
                    name=name, email=email, phone=phone, may_contact=may_contact
                ),
                locale=locale,
            ),
            intake_settings(app),
        )
        session.commit()
        return result.signal.reference


@pytest.fixture
def mails(app: Flask) -> Iterator[tuple[Session, object]]:
    """(session, render): render(template, reference=None, locale="nl", **context) renders
    through the app's real renderer; with a reference, ``signal`` is that stored signal."""
    renderer = app.extensions["portal.mail_renderer"]
    with db_session(app) as session:

        def render(template: str, reference: str | None = None, locale: str = "nl", **context):
            if reference is not None:
                context["signal"] = signal_of(session, reference)
            mail = renderer.render(template, locale, **context)
            check_mail(mail, locale)
            return mail

        yield session, render


def signal_of(session: Session, reference: str) -> Signal:
    return session.scalars(select(Signal).where(Signal.reference == reference)).one()


def staff(session: Session, email: str) -> User:
    return session.scalars(select(User).where(User.email == email)).one()


def question_event(author: User | None, **changes: object) -> SignalEvent:
    values: dict[str, object] = dict(
        kind="status_changed",
        is_public=True,
        from_status="in_progress",
        to_status="awaiting_resident",
        message=QUESTION,
        author=author,
        created_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
    )
    return SignalEvent(**{**values, **changes})


# --- what every mail must be ----------------------------------------------------------------


class MailHtml(HTMLParser):
    """What a reader of the HTML part gets: its visible text, its blocks and links."""

    BLOCKS = {"p", "h1", "h2", "h3", "dt", "dd", "li"}

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.blocks: list[tuple[str, str]] = []  # (all its text, the part inside links)
        self.hrefs: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._block: list[str] | None = None
        self._link: list[str] | None = None
        self._link_text: list[str] = []
        self._in_head = False
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_head = self._in_head or tag == "head"
        if tag in self.BLOCKS:
            self._block, self._link_text = [], []
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
            self._link = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        if tag == "a" and self._link is not None:
            self._link_text.append(" ".join(self._link))
            self._link = None
        if tag in self.BLOCKS and self._block is not None:
            self.blocks.append((" ".join(self._block), " ".join(self._link_text)))
            self._block = None

    def handle_data(self, data: str) -> None:
        if self._in_head:
            return
        self.text.append(data)
        if self._block is not None:
            self._block.append(data)
        if self._link is not None:
            self._link.append(data)


def words(text: str) -> str:
    """Lower-case words without punctuation or links, to compare what two parts say."""
    found = re.findall(r"[\w’']+", URL.sub(" ", html.unescape(text)).lower())
    return " " + " ".join(found) + " "


def check_mail(mail: RenderedMail, locale: str) -> None:
    """Accessible HTML with the same content as the text part, and no code words."""
    page = MailHtml(mail.html)
    tags = [tag for tag, _attrs in page.tags]
    assert mail.html.startswith("<!doctype html>")
    assert f'<html lang="{locale}">' in mail.html
    assert f"<title>{html.escape(mail.subject, quote=False)}</title>" in mail.html
    assert tags.count("h1") == 1
    assert all(attrs.get("alt") for tag, attrs in page.tags if tag == "img")
    assert all(attrs.get("role") == "presentation" for tag, attrs in page.tags if tag == "table")
    assert "style" not in tags and "link" not in tags and "script" not in tags
    assert not any("class" in attrs for _tag, attrs in page.tags)  # inline styles only
    # The text part says everything the HTML part says, and the other way round.
    visible = words(" ".join(page.text))
    for line in mail.text.splitlines():
        if words(line).strip():
            assert words(line) in visible, f"only in the text part: {line!r}"
    text = words(mail.text)
    for block, link_text in page.blocks:
        if words(block) != words(link_text):  # a link alone: its URL is in the text part
            assert words(block) in text, f"only in the HTML part: {block!r}"
    assert set(page.hrefs) == set(URL.findall(mail.text))
    if locale == "nl":  # no codes or English words in Dutch mail
        plain = URL.sub(" ", mail.text + " ".join(page.text))
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", plain), plain
        codes = [s.value for s in Status] + ["email", "None", "True", "False", "signal"]
        assert not [c for c in codes if re.search(rf"\b{c}\b", plain)], plain


def paragraph_lines(mail: RenderedMail) -> str:
    """The HTML part's text with its line breaks (<br>) as newlines, tags gone."""
    return html.unescape(re.sub(r"<(?!br)[^>]+>", "", mail.html).replace("<br>\n", "\n"))


# --- resident mails -------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_confirmation_repeats_what_the_resident_sent(app: Flask, mails) -> None:
    _session, render = mails
    reference = new_signal(app)
    mail = render("signal_received", reference, status_url=STATUS_URL, working_days=3)

    rich = paragraph_lines(mail)
    for body in (mail.text, rich):
        assert "Beste Jan Jansen," in body
        assert "Er ligt al dagen afval naast de glasbak.\nOok op de stoep ervoor." in body
        assert "Het stinkt." in body
        assert "U stuurde 2 foto's mee." in body
        assert "Anna de Vries, accountmanager voor wijk Zuidwest" in body
        assert "Knelpunt" not in body  # the office's word, not the resident's
    assert "Soort: Probleem" in mail.text
    assert "Wijk: Zuidwest" in mail.text
    assert "Accountmanager: Anna de Vries" in mail.text
    assert "Adres: Kerkelandenlaan 12a, 1216 AB" in mail.text
    assert "Met vriendelijke groet,\nAnna de Vries\nBureau Wijkzaken, Gemeente Hilversum" in (
        mail.text
    )
    assert mail.text.startswith("Gemeente Hilversum\nBureau Wijkzaken\n")
    assert mail.text.count(STATUS_URL) == 1


@SQLITE_ONLY
def test_without_a_name_the_resident_is_greeted_as_resident(app: Flask, mails) -> None:
    _session, render = mails
    reference = new_signal(app, name=None, kind=Kind.INITIATIEF, photos=0)
    for template in ("signal_received", "status_link"):
        mail = render(template, reference, status_url=STATUS_URL, working_days=3)
        assert "Beste inwoner," in mail.text and "Beste inwoner," in mail.html
        assert "Soort: Initiatief" in mail.text
        assert "foto" not in mail.text  # no photos: no photo line


@SQLITE_ONLY
def test_a_long_description_is_shortened_and_later_photos_do_not_count(app: Flask, mails) -> None:
    _session, render = mails
    first = "Eerste regel van een lang verhaal."
    long_text = first + "\n" + " ".join(f"woord{n}" for n in range(300)) + "\nLAATSTE REGEL"
    signal = Signal(
        reference="HLV-2026-000999",
        kind="knelpunt",
        title="Lang verhaal",
        description=long_text,
        status="received",
        locale="nl",
        # One photo with the form, one sent later with a message (event_id set).
        attachments=[Attachment(event_id=None), Attachment(event_id=7)],
    )
    mail = render("status_link", signal=signal, status_url=STATUS_URL)
    assert f"{first}\nwoord0 woord1" in mail.text  # the line break stays
    assert "LAATSTE REGEL" not in mail.text and "LAATSTE REGEL" not in mail.html
    shortened = re.search(r"(woord\d+)…", mail.text)
    assert shortened is not None and shortened.group(1) in mail.html
    assert len(mail.text) < len(long_text) + 1000
    assert "U stuurde 1 foto mee." in mail.text
    assert "Accountmanager: Bureau Wijkzaken" in mail.text  # nobody owns it yet


@SQLITE_ONLY
def test_a_question_says_who_asks_and_how_to_answer(app: Flask, mails) -> None:
    session, render = mails
    reference = new_signal(app)
    anna = staff(session, ANNA)
    mail = render("public_update", reference, event=question_event(anna), status_url=STATUS_URL)

    assert mail.subject == f"Uw melding {reference}: Wacht op uw reactie"
    rich = paragraph_lines(mail)
    for body in (mail.text, rich):
        assert f"Wij hebben een vraag over uw melding {reference}" in body
        assert "Bericht van Anna de Vries, Bureau Wijkzaken" in body
        assert QUESTION in body
        assert "Beantwoord deze e-mail, of geef uw antwoord op de statuspagina" in body
        assert "Bent u tevreden" not in body
    assert f'href="{STATUS_URL}"' in mail.html
    # The question comes before the resident's own text.
    assert mail.text.index(QUESTION) < mail.text.index("Er ligt al dagen afval")


@SQLITE_ONLY
def test_a_message_without_author_is_from_the_office(app: Flask, mails) -> None:
    _session, render = mails
    reference = new_signal(app)
    event = SignalEvent(kind="public_message", is_public=True, message="We komen kijken.")
    mail = render("public_update", reference, event=event, status_url=STATUS_URL)
    assert mail.subject == f"Nieuw bericht over uw melding {reference}"
    assert "Bericht van Bureau Wijkzaken:\n\nWe komen kijken." in mail.text
    assert "Beste Jan Jansen," in mail.text


@SQLITE_ONLY
def test_resolving_asks_whether_the_resident_is_satisfied_until_when(app: Flask, mails) -> None:
    session, render = mails
    reference = new_signal(app)
    event = question_event(
        staff(session, ANNA), to_status="resolved", message="De glasbak is leeggehaald."
    )
    # 23:30 UTC is already the next day in Hilversum.
    survey = SatisfactionSurvey(open_until=datetime(2026, 12, 18, 23, 30, tzinfo=UTC))
    mail = render("public_update", reference, event=event, status_url=STATUS_URL, survey=survey)

    rich = paragraph_lines(mail)
    for body in (mail.text, rich):
        assert "Bericht van Anna de Vries, Bureau Wijkzaken" in body
        assert "De glasbak is leeggehaald." in body
        assert "Bent u tevreden over hoe uw melding is afgehandeld?" in body
        assert "U kunt antwoorden tot 19 december 2026." in body
        assert "beantwoord deze e-mail" not in body.lower()  # the old "not satisfied?" way
    assert f"{STATUS_URL}#tevreden" in mail.text
    assert f'href="{STATUS_URL}#tevreden"' in mail.html


@SQLITE_ONLY
def test_the_reminder_repeats_the_question(app: Flask, mails) -> None:
    session, render = mails
    reference = new_signal(app)
    question = question_event(staff(session, ANNA))
    mail = render("question_reminder", reference, question=question, status_url=STATUS_URL)

    assert mail.subject == f"Herinnering: wij wachten op uw antwoord over melding {reference}"
    rich = paragraph_lines(mail)
    for body in (mail.text, rich):
        assert "Herinnering: wij wachten op uw antwoord" in body
        assert "Beste Jan Jansen," in body
        assert "Op 20 november 2026 stelden wij u een vraag" in body
        assert "Bericht van Anna de Vries, Bureau Wijkzaken" in body
        assert QUESTION in body
        assert "Beantwoord deze e-mail, of geef uw antwoord op de statuspagina" in body
        assert "U stuurde 2 foto's mee." in body
    assert STATUS_URL in mail.text


@SQLITE_ONLY
def test_english_mail_is_english_around_the_residents_words(app: Flask, mails) -> None:
    session, render = mails
    reference = new_signal(app, locale="en", kind=Kind.INITIATIEF)
    event = question_event(staff(session, ANNA), to_status="in_progress", message="Goed idee!")
    for template, context in [
        ("signal_received", {"working_days": 3}),
        ("public_update", {"event": event}),
        ("status_link", {}),
        ("question_reminder", {"question": question_event(None)}),
    ]:
        mail = render(template, reference, "en", status_url=STATUS_URL, **context)
        assert "Dear Jan Jansen," in mail.text and "Dear Jan Jansen," in mail.html
        assert "Kind regards," in mail.text
        assert "Initiative" in mail.text
        assert "Beste " not in mail.text and "Met vriendelijke groet" not in mail.text
        assert "Ook op de stoep ervoor." in mail.text  # their own words stay as written


# --- staff mails ----------------------------------------------------------------------------


@SQLITE_ONLY
def test_the_owner_reads_what_came_in_and_by_when_without_personal_data(app: Flask, mails) -> None:
    _session, render = mails
    description = DESCRIPTION + "\n" + "Nog veel meer uitleg. " * 60
    reference = new_signal(app, description=description)
    mail = render(
        "owner_new_signal", reference, signal_url=SIGNAL_URL, respond_by=date(2026, 12, 4)
    )

    rich = paragraph_lines(mail)
    for body in (mail.text, rich):
        assert "Beste Anna de Vries," in body
        assert "Reageer uiterlijk op 4 december 2026" in body
        assert "Er ligt al dagen afval naast de glasbak.\nOok op de stoep ervoor." in body
        assert description.split("\n")[-1].strip() in body  # whole, not shortened
        assert "De melder stuurde 2 foto's mee." in body
        assert "De melder krijgt uw berichten per e-mail." in body
        assert "De melder vindt het goed dat u contact opneemt." in body
        for personal in ("Jan Jansen", "Jansen", RESIDENT, PHONE, "example.nl"):
            assert personal not in body
        assert "/status/" not in body
    for line in ("Soort: Knelpunt", "Onderwerp: Schoon, Veilig", "Titel: Afval bij de glasbak"):
        assert line in mail.text
    assert "Adres: Kerkelandenlaan 12a, 1216 AB" in mail.text
    assert "Buurt: Kerkelanden" in mail.text and "Wijk: Zuidwest" in mail.text
    assert f'href="{SIGNAL_URL}"' in mail.html
    assert "Met vriendelijke groet,\nBureau Wijkzaken, Gemeente Hilversum" in mail.text


@SQLITE_ONLY
def test_the_owner_hears_when_the_resident_cannot_be_mailed(app: Flask, mails) -> None:
    _session, render = mails
    no_mail = new_signal(app, email=None, may_contact=False, photos=0)
    mail = render("owner_new_signal", no_mail, signal_url=SIGNAL_URL, respond_by=date(2026, 1, 5))
    assert "De melder heeft geen e-mailadres gegeven." in mail.text
    assert "De melder heeft niet aangegeven dat u contact mag opnemen." in mail.text
    assert "De melder stuurde geen foto's." in mail.text
    assert "Reageer uiterlijk op 5 januari 2026" in mail.text
    anonymous = new_signal(app, name=None, email=None, phone=None, may_contact=False)
    mail = render("owner_new_signal", anonymous, signal_url=SIGNAL_URL, respond_by=date.today())
    assert "De melder heeft geen contactgegevens gegeven." in mail.text


ANSWER = ("resident_answer", "email", "Antwoord van de melder op", "melding {} per e-mail")
ADDED = ("resident_message", "status_page", "Nieuwe informatie van de melder bij", "via de status")


@SQLITE_ONLY
@pytest.mark.parametrize(("kind", "origin", "subject", "channel"), [ANSWER, ADDED])
def test_the_owner_reads_what_the_resident_added(
    app: Flask, mails, kind: str, origin: str, subject: str, channel: str
) -> None:
    _session, render = mails
    reference = new_signal(app)
    words_of_resident = "Het is nummer 12.\nBij de achteringang."
    event = SignalEvent(kind=kind, is_public=True, origin=origin, message=words_of_resident)
    mail = render(
        "owner_resident_message", reference, event=event, photo_count=1, signal_url=SIGNAL_URL
    )
    assert mail.subject == f"{subject} {reference}"
    for body in (mail.text, paragraph_lines(mail)):
        assert "Beste Anna de Vries," in body
        assert channel.format(reference) in body
        assert words_of_resident in body
        assert "De melder stuurde 1 foto mee." in body
        assert "Jan Jansen" not in body and RESIDENT not in body
    assert f'href="{SIGNAL_URL}"' in mail.html


@SQLITE_ONLY
def test_the_owner_decides_on_a_reopen_request(app: Flask, mails) -> None:
    _session, render = mails
    reference = new_signal(app)
    when = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    request = ReopenRequest(comment="Er ligt nog steeds afval.\nNu ook glas.", created_at=when)
    mail = render("owner_reopen_request", reference, request=request, signal_url=SIGNAL_URL)
    assert mail.subject == f"De melder is niet tevreden over {reference}"
    for body in (mail.text, paragraph_lines(mail)):
        assert f"De melder is niet tevreden over hoe melding {reference} is afgehandeld" in body
        assert "op 1 december 2026" in body
        assert "Er ligt nog steeds afval.\nNu ook glas." in body
        assert "u opent de melding opnieuw, of u laat hem gesloten en legt uit waarom" in body
    silent = ReopenRequest(comment=None, created_at=when)
    mail = render("owner_reopen_request", reference, request=silent, signal_url=SIGNAL_URL)
    assert "De melder schreef er geen toelichting bij." in mail.text


@SQLITE_ONLY
def test_the_other_staff_mails_are_on_the_layout(app: Flask, mails) -> None:
    session, render = mails
    reference = new_signal(app)
    anna, sanne = staff(session, ANNA), staff(session, SANNE)
    login_url = "http://portal.test/backoffice/login"
    rendered = [
        render("owner_assigned", reference, owner=sanne, reason="Sanne kent de buurt.",
               signal_url=SIGNAL_URL),
        render("owner_taken_over", reference, previous_owner=sanne, new_owner=anna,
               actor_name="Anna de Vries", reason="Ik neem hem over.", signal_url=SIGNAL_URL),
        render("account_locked", user=sanne, until=datetime(2026, 12, 1, 11, 0, tzinfo=UTC),
               failures=5, login_url=login_url),
        render("password_link", user=sanne, purpose="welcome", valid_hours=48,
               link="http://portal.test/backoffice/wachtwoord/abcdefghijklmnopqrstuvwx",
               login_url=login_url),
        render("password_link", user=sanne, purpose="reset", valid_hours=48,
               link="http://portal.test/backoffice/wachtwoord/abcdefghijklmnopqrstuvwx",
               login_url=login_url),
    ]  # fmt: skip
    for mail in rendered:
        assert mail.text.startswith("Gemeente Hilversum\nBureau Wijkzaken\n")
        assert "Beste Sanne Bakker," in mail.text and "Beste Sanne Bakker," in mail.html
        assert mail.text.rstrip().endswith("Bureau Wijkzaken, Gemeente Hilversum")
    assert "Reden: Sanne kent de buurt." in rendered[0].text
    assert "Soort: Knelpunt" in rendered[0].text
    assert "Anna de Vries is nu eigenaar van melding" in rendered[1].text


# --- the HTML in a real browser: axe-core and the Nu HTML checker ---------------------------


@pytest.mark.browser
@SQLITE_ONLY
def test_every_mail_is_accessible_html(app: Flask, mails, page, html_snapshots) -> None:  # type: ignore[no-untyped-def]
    from tests.fixtures.browser import assert_accessible

    session, render = mails
    anna = staff(session, ANNA)
    survey = SatisfactionSurvey(open_until=datetime(2026, 12, 18, 9, 0, tzinfo=UTC))
    for locale in ("nl", "en"):
        reference = new_signal(app, locale=locale)
        resolved = question_event(anna, to_status="resolved", message="Opgelost.")
        answer = SignalEvent(kind="resident_answer", origin="email", message="Nummer 12.")
        request = ReopenRequest(comment="Niet opgelost.", created_at=datetime.now(UTC))
        rendered = {
            "signal_received": render("signal_received", reference, locale,
                                      status_url=STATUS_URL, working_days=3),
            "question": render("public_update", reference, locale, event=question_event(anna),
                               status_url=STATUS_URL),
            "resolved": render("public_update", reference, locale, event=resolved,
                               status_url=STATUS_URL, survey=survey),
            "status_link": render("status_link", reference, locale, status_url=STATUS_URL),
            "reminder": render("question_reminder", reference, locale,
                               question=question_event(anna), status_url=STATUS_URL),
            "owner_new_signal": render("owner_new_signal", reference, signal_url=SIGNAL_URL,
                                       respond_by=date(2026, 12, 4)),
            "owner_resident_message": render("owner_resident_message", reference,
                                             event=answer, photo_count=0, signal_url=SIGNAL_URL),
            "owner_reopen_request": render("owner_reopen_request", reference, request=request,
                                           signal_url=SIGNAL_URL),
        }  # fmt: skip
        for name, mail in rendered.items():
            html_snapshots.save(mail.html.encode(), f"mail:{name}-{locale}")
            page.set_content(mail.html)
            assert_accessible(page)


# --- the whole way: the form, the outbox, a real SMTP server --------------------------------


def parts(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The text part and the HTML part's text (line breaks kept) of a received mail."""
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None, "mail needs a text and an HTML part"
    text, source = (part.get_content().replace("\r\n", "\n") for part in (plain, rich))
    return text, paragraph_lines(RenderedMail(subject="", text="", html=source))


def test_a_signal_from_the_form_mails_its_own_words_in_both_parts(app: Flask, client, smtp) -> None:
    description = "De lantaarnpaal doet het niet.\nAl een week is het donker bij de speeltuin."
    form = valid_form(description=description)
    response = post_report(client, form, photos=[(make_image(), "a.jpg"), (make_image(), "b.jpg")])
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with db_session(app) as session:
        signal = session.scalars(select(Signal)).one()
        reference, created_at = signal.reference, signal.created_at
    messages = smtp.wait_for(2)
    [to_resident] = [m for m in messages if str(m["To"]) == "jan.jansen@example.nl"]
    [to_owner] = [m for m in messages if "anna.de.vries" in str(m["To"])]

    assert str(to_resident["Reply-To"]).startswith("wijkzaken+")  # a reply lands on the signal
    assert '<html lang="nl">' in to_resident.get_body(("html",)).get_content()
    for body in parts(to_resident):
        assert "Beste Jan Jansen," in body
        assert description in body
        assert "U stuurde 2 foto's mee." in body
        assert "Probleem" in body and "Knelpunt" not in body
        assert "Anna de Vries, accountmanager voor wijk Zuidwest" in body
        assert reference in body

    respond_by = add_working_days(local_date(created_at), app.config["RESPONSE_WORKING_DAYS"])
    for body in parts(to_owner):
        assert "Beste Anna de Vries," in body
        assert f"Reageer uiterlijk op {format_day(respond_by, 'nl')}" in body
        assert description in body
        assert "De melder stuurde 2 foto's mee." in body
        assert "Knelpunt" in body
        for personal in ("Jan Jansen", "jan.jansen@example.nl", "035 123 45 67"):
            assert personal not in body


def test_an_english_resident_gets_english_mail(app: Flask, client, smtp) -> None:
    client.get("/melden?lang=en")
    response = post_report(client, valid_form())
    assert response.status_code == 303
    [to_resident] = [m for m in smtp.wait_for(2) if str(m["To"]) == "jan.jansen@example.nl"]
    assert '<html lang="en">' in to_resident.get_body(("html",)).get_content()
    text, rich = parts(to_resident)
    for body in (text, rich):
        assert "Dear Jan Jansen," in body
        assert "De lantaarnpaal bij de speeltuin doet het al een week niet." in body


# --- standard texts: demo set and the admin's preview ---------------------------------------


def test_the_demo_texts_cover_every_step_and_seed_once(app: Flask, mails) -> None:
    session, render = mails
    assert seed_demo_texts(session) == len(DEMO_STANDARD_TEXTS)
    assert seed_demo_texts(session) == 0  # `seed demo` may run twice
    session.commit()
    texts = session.scalars(select(StandardText)).all()
    assert len(texts) == len(DEMO_STANDARD_TEXTS)
    wanted = {"in_progress", "awaiting_resident", "forwarded", "planned", "resolved", "declined"}
    assert wanted <= {t.status for t in texts}
    reference = new_signal(app)
    signal = signal_of(session, reference)
    for text in texts:
        assert check_placeholders(text.body) == [], text.title
        assert not re.search(r"\bBeste\b|groet", text.body), text.title  # the mail adds those
        event = question_event(None, to_status=text.status, message=fill(text.body, signal))
        mail = render("public_update", signal=signal, event=event, status_url=STATUS_URL)
        assert "{" not in mail.text and fill(text.body, signal) in mail.text


def test_seed_demo_ships_the_texts_once(app: Flask, runner) -> None:  # type: ignore[no-untyped-def]
    for _run in range(2):  # `make run` seeds every time it starts
        result = runner.invoke(args=["seed", "demo"])
        assert result.exit_code == 0, result.output
    with db_session(app) as session:
        titles = session.scalars(select(StandardText.title).order_by(StandardText.id)).all()
    assert titles == [title for title, _status, _kind, _body in DEMO_STANDARD_TEXTS]


def admin_preview(app: Flask, **fields: str):  # type: ignore[no-untyped-def]
    client = login(app.test_client(), ADMIN)
    url = "/backoffice/beheer/standaardteksten/nieuw"
    data = {"title": "Vraag", "status": "", "kind": "", "active": "y", "action": "preview"}
    data.update(fields)
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


def standard_text_count(app: Flask) -> int:
    with db_session(app) as session:
        return session.scalar(select(func.count()).select_from(StandardText)) or 0


def test_the_admin_previews_the_whole_mail_without_saving(app: Flask) -> None:
    client = login(app.test_client(), ADMIN)
    form = html.unescape(client.get("/backoffice/beheer/standaardteksten/nieuw").text)
    assert "Schrijf geen aanhef en groet: die voegt de e-mail zelf toe." in form
    assert "Voorbeeld bekijken" in form

    body = "Om welk huisnummer gaat het bij {meldnummer}?"
    response = admin_preview(app, body=body, status="awaiting_resident", kind="knelpunt")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    preview = re.search(r'<div class="portal-preview__message">(.*?)</div>', page, re.S)
    assert preview is not None
    mail = preview.group(1)
    year = datetime.now(UTC).year
    assert f"Om welk huisnummer gaat het bij HLV-{year}-000123?" in mail
    assert "Beste Jan Jansen," in mail and "Met vriendelijke groet," in mail
    assert "Beantwoord deze e-mail, of geef uw antwoord op de statuspagina" in mail
    assert "Soort: Probleem" in mail
    assert f"Wij hebben een vraag over uw melding HLV-{year}-000123" in mail
    assert body in page  # the form comes back as typed
    assert standard_text_count(app) == 0

    resolved = admin_preview(app, body="Het is opgelost.", status="resolved")
    assert "Bent u tevreden over hoe uw melding is afgehandeld?" in html.unescape(resolved.text)
    typo = admin_preview(app, body="Uw melding {melnummer}.")
    assert typo.status_code == 422
    assert "Deze plaatshouder kennen we niet: {melnummer}" in html.unescape(typo.text)
    assert "portal-preview__message" not in typo.text
    assert standard_text_count(app) == 0


@pytest.mark.browser
@SQLITE_ONLY
def test_the_preview_page_is_accessible(app: Flask, live_server: str, page) -> None:  # type: ignore[no-untyped-def]
    from portal.seeding import DEMO_PASSWORD
    from tests.fixtures.browser import assert_accessible

    page.goto(f"{live_server}/backoffice/login")
    page.get_by_label("E-mailadres").fill(ADMIN)
    page.get_by_label("Wachtwoord").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.goto(f"{live_server}/backoffice/beheer/standaardteksten/nieuw")
    page.get_by_label("Titel", exact=True).fill("Eerste reactie")
    page.get_by_label("Tekst", exact=True).fill("We gaan aan de slag met {titel}.")
    page.get_by_role("button", name="Voorbeeld bekijken").click()
    preview = page.locator(".portal-preview__message")
    assert "We gaan aan de slag met Losse stoeptegel." in preview.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Standaardtekst opslaan").click()
    assert "is opgeslagen" in page.locator(".utrecht-alert--ok").inner_text()
    assert standard_text_count(app) == 1
