"""The Atom feed per wijk (/wijken/<code>/nieuws.atom), parsed with lxml and validated against
the RELAX NG schema of RFC 4287 (Appendix B, tests/data/atom.rnc, converted with rnc2rng).
The schema's two Schematron rules (an author for every entry, a link or content) are not
RELAX NG, so they are checked with XPath beside it. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
import rnc2rng
from flask import Flask
from lxml import etree, html

from tests.conftest import csrf_token
from tests.factories import ANNA, login
from tests.test_wijk_news import ALT, TITLE, ZUIDWEST, anna_posts, photo_bytes, post_news

SCHEMA = Path(__file__).parent / "data" / "atom.rnc"
NS = {"atom": "http://www.w3.org/2005/Atom"}
FEED = f"/wijken/{ZUIDWEST}/nieuws.atom"


@cache
def atom_schema() -> etree.RelaxNG:
    rng = rnc2rng.dumps(rnc2rng.load(str(SCHEMA)))
    # rnc2rng declares the schema's empty "local" prefix as xmlns:local="", which XML 1.0
    # namespaces do not allow; the names that use it carry ns="" themselves.
    rng = rng.replace(' xmlns:local=""', "")
    return etree.RelaxNG(etree.fromstring(rng.encode()))


def problems(feed: etree._Element) -> list[str]:
    """Why the document is no valid Atom feed (empty: it is)."""
    schema = atom_schema()
    found = [] if schema.validate(feed) else [str(e) for e in schema.error_log]
    has_author = bool(feed.xpath("atom:author", namespaces=NS))
    for entry in feed.xpath("atom:entry", namespaces=NS):
        if not (has_author or entry.xpath("atom:author", namespaces=NS)):
            found.append("an atom:entry without atom:author in a feed without one")
        if not entry.xpath(
            "atom:link[@rel='alternate'] or atom:link[not(@rel)] or atom:content", namespaces=NS
        ):
            found.append("an atom:entry without an alternate link or content")
    return found


def fetch(app: Flask, path: str = FEED) -> etree._Element:
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    return etree.fromstring(response.data)


def test_the_feed_of_a_wijk_with_news_is_valid_atom(app: Flask) -> None:
    first = anna_posts(app, title="Eerste bericht", text="Tekst & uitleg <met> tekens")
    second = anna_posts(app, photo=photo_bytes(), alt=ALT)
    feed = fetch(app)
    assert problems(feed) == []

    base = "http://portal.test"
    assert feed.findtext("atom:id", namespaces=NS) == f"{base}/wijken/{ZUIDWEST}"
    assert feed.findtext("atom:title", namespaces=NS) == "Nieuws uit wijk Zuidwest"
    assert feed.xpath("string(atom:link[@rel='self']/@href)", namespaces=NS) == base + FEED
    assert feed.xpath("string(atom:link[@rel='alternate']/@href)", namespaces=NS) == (
        f"{base}/wijken/{ZUIDWEST}"
    )
    entries = feed.findall("atom:entry", namespaces=NS)
    # Newest first, each with its own page as id and link.
    assert [e.findtext("atom:title", namespaces=NS) for e in entries] == [TITLE, "Eerste bericht"]
    pages = [f"{base}/wijken/{ZUIDWEST}/nieuws/{n.id}" for n in (second, first)]
    assert [e.findtext("atom:id", namespaces=NS) for e in entries] == pages
    assert [
        e.xpath("string(atom:link[@rel='alternate']/@href)", namespaces=NS) for e in entries
    ] == pages
    content = entries[1].find("atom:content", namespaces=NS)
    assert content.get("type") == "text" and content.text == "Tekst & uitleg <met> tekens"
    assert entries[1].findtext("atom:author/atom:name", namespaces=NS) == "Anna de Vries"
    published = datetime.fromisoformat(entries[1].findtext("atom:published", namespaces=NS))
    assert published.utcoffset() is not None  # RFC 3339: with its zone
    updated = datetime.fromisoformat(feed.findtext("atom:updated", namespaces=NS))
    assert updated >= published


def test_a_wijk_without_news_has_a_valid_empty_feed(app: Flask) -> None:
    feed = fetch(app)
    assert problems(feed) == []
    assert feed.findall("atom:entry", namespaces=NS) == []


def test_characters_xml_cannot_hold_do_not_break_the_feed(app: Flask) -> None:
    anna_posts(app, title="Bel\x07 ons", text="Regel\x0bmet een verticale tab")
    feed = fetch(app)  # parses: the characters are left out
    assert problems(feed) == []
    assert feed.findtext("atom:entry/atom:title", namespaces=NS) == "Bel ons"


@pytest.mark.parametrize(
    ("what", "change"),
    [
        ("no feed id", lambda feed: feed.remove(feed.find("atom:id", namespaces=NS))),
        (
            "a date that is no date",
            lambda feed: setattr(feed.find("atom:updated", namespaces=NS), "text", "vandaag"),
        ),
        (
            "an entry without id",
            lambda feed: (e := feed.find("atom:entry", namespaces=NS)).remove(
                e.find("atom:id", namespaces=NS)
            ),
        ),
        (
            "an entry without author in a feed without one",
            lambda feed: [
                parent.getparent().remove(parent)
                for parent in feed.xpath("//atom:author", namespaces=NS)
            ],
        ),
    ],
)
def test_the_check_refuses_an_invalid_feed(app: Flask, what: str, change) -> None:  # type: ignore[no-untyped-def]
    """The control: a check that passes everything would prove nothing."""
    anna_posts(app)
    feed = fetch(app)
    assert problems(feed) == []
    change(feed)
    assert problems(feed), f"{what} passed the check"


def test_withdrawn_news_leaves_the_feed(app: Flask) -> None:
    news = anna_posts(app)
    client = login(app.test_client(), ANNA)
    token = csrf_token(client, "/backoffice/wijknieuws")
    client.post(f"/backoffice/wijknieuws/{news.id}/intrekken", data={"csrf_token": token})
    feed = fetch(app)
    assert feed.findall("atom:entry", namespaces=NS) == []
    assert problems(feed) == []


def test_the_feed_answers_a_conditional_request(app: Flask) -> None:
    anna_posts(app)
    client = app.test_client()
    first = client.get(FEED)
    assert "public" in first.headers["Cache-Control"]
    assert "Cookie" in first.headers["Vary"]  # the titles follow the session's language
    again = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    post_news(login(app.test_client(), ANNA), title="Nog iets")
    changed = client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and b"Nog iets" in changed.data


def test_the_news_page_advertises_the_feed(app: Flask) -> None:
    news = anna_posts(app)
    client = app.test_client()
    page = html.fromstring(client.get(f"/wijken/{ZUIDWEST}/nieuws/{news.id}").data)
    [link] = page.xpath("/html/head/link[@rel='alternate' and @type='application/atom+xml']")
    assert link.get("href") == FEED
    assert link.get("title") == "Nieuws uit wijk Zuidwest"
    assert client.get(link.get("href")).status_code == 200
