"""Demo wijk news (local use, like the rest of ``seed demo``): a few items by Anna de Vries for
Zuidwest and one by Sanne Bakker for Centrum. Safe to run again: an item whose wijk already
has news with its title is not added twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.models import User, Wijk, WijkNews, utcnow
from portal.seeding import demo_email

# (wijk, author, days ago, title, text)
DEMO_NEWS = [
    (
        "WK040203",
        "Anna de Vries",
        2,
        "Schouw in Kerkelanden: loopt u mee?",
        "Op donderdagavond lopen we met bewoners, de wijkagent en de gemeente door "
        "Kerkelanden. We kijken samen naar wat beter kan: losse stoeptegels, donkere plekken, "
        "afval bij de containers.\n"
        "We beginnen om 19.00 uur bij het winkelcentrum en zijn rond 20.30 uur klaar. "
        "Aanmelden hoeft niet.\n"
        "Kunt u niet, maar weet u een plek die we moeten zien? Doe dan een melding.",
    ),
    (
        "WK040203",
        "Anna de Vries",
        9,
        "Buurtcafé in Kerkelanden elke eerste woensdag",
        "Bewoners van Kerkelanden beginnen een buurtcafé in het wijkcentrum. Elke eerste "
        "woensdag van de maand van 14.00 tot 16.00 uur staat de koffie klaar.\n"
        "Het idee kwam van bewoners zelf; Bureau Wijkzaken helpt met de ruimte en een klein "
        "budget. Iedereen is welkom, ook als u nieuw bent in de buurt.",
    ),
    (
        "WK040201",
        "Sanne Bakker",
        5,
        "Opruimactie in de Sint Vitusbuurt",
        "Zaterdagochtend ruimen bewoners samen zwerfafval op in de Sint Vitusbuurt. De gemeente "
        "zorgt voor grijpers, handschoenen en zakken.\n"
        "We verzamelen om 10.00 uur bij de Sint-Vituskerk.",
    ),
]


def seed_demo_news(session: Session) -> int:
    """A few news items per demo wijk; returns how many were added."""
    added = 0
    now = utcnow()
    for wijk_code, author_name, days_ago, title, text in DEMO_NEWS:
        author = session.scalar(select(User).where(User.email == demo_email(author_name)))
        if author is None or session.get(Wijk, wijk_code) is None:
            continue  # no demo accounts or wijken yet: `seed demo` makes them first
        exists = session.scalar(
            select(WijkNews.id).where(WijkNews.wijk_code == wijk_code, WijkNews.title == title)
        )
        if exists is not None:
            continue
        moment = now - timedelta(days=days_ago)
        session.add(
            WijkNews(
                wijk_code=wijk_code,
                title=title,
                body=text,
                author_id=author.id,
                published_at=moment,
                updated_at=moment,
            )
        )
        added += 1
    session.flush()
    return added
