"""Properties of the parsers that read what people type (ids in URLs, amounts, postcodes, an
address or phone number to search for, inbox filters, coordinates, staff texts), for any text
Hypothesis can think of: each answers with a value or its own refusal, never another exception,
and what it accepts it reads back the same way. The inbound mail parser has its own properties
in tests/test_inbound_parse.py."""

from __future__ import annotations

import math
import re
from dataclasses import fields

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from portal.backoffice.signal_location import parse_coordinate
from portal.domain.casework import CaseworkError
from portal.domain.geography import normalise_postcode
from portal.domain.ids import MAX_ID, parse_id
from portal.domain.inbox.filter import InboxFilter
from portal.domain.initiatives.money import AMOUNT_MAX_CENTS, MoneyError, parse_amount
from portal.domain.privacy.holdings import NotASubject, Subject, SubjectKind
from portal.domain.reply_links import clean_text

# Text as people paste it: letters of every script, digits of every script, spaces of every
# kind, control characters, the separators the parsers look for.
typed = st.text(
    alphabet=st.one_of(st.characters(), st.sampled_from("0123456789 .,-+€@\x00\xa0\u202f")),
    max_size=120,
)
_local = st.text(
    alphabet=st.characters(exclude_characters="@ \t\n\r\x0b\x0c"), min_size=1, max_size=20
)
addresses = st.builds(lambda name, domain: f"{name}@{domain}.nl", _local, _local)
MONEY_CODES = {"amount_required", "amount_invalid", "amount_not_positive", "amount_too_large"}


@given(typed)
@example("²")
@example("9" * 5000)
def test_an_id_is_a_positive_database_integer_or_nothing(text: str) -> None:
    number = parse_id(text)
    if number is not None:
        assert 0 < number <= MAX_ID
        assert text.strip().lstrip("0") == str(number)


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_reads_back(number: int) -> None:
    assert parse_id(f" {number} ") == number


@given(typed)
@example("1.250.50")
@example("9" * 5000)
@example("€ ,-")
def test_an_amount_is_whole_cents_within_the_limit_or_a_known_refusal(text: str) -> None:
    try:
        cents = parse_amount(text)
    except MoneyError as refusal:
        assert refusal.code in MONEY_CODES
    else:
        assert isinstance(cents, int)
        assert 0 < cents <= AMOUNT_MAX_CENTS


@given(st.integers(min_value=1, max_value=AMOUNT_MAX_CENTS))
def test_every_amount_reads_back_as_staff_write_it(cents: int) -> None:
    euros, rest = divmod(cents, 100)
    dutch = f"{euros:,}".replace(",", ".")
    assert parse_amount(f"€ {dutch},{rest:02d}") == cents
    assert parse_amount(f"{euros}.{rest:02d}") == cents
    if rest == 0:
        assert parse_amount(f"€ {dutch},-") == cents


@given(typed)
@example(" 1216  ab ")
def test_a_postcode_is_normalised_once_and_for_all(text: str) -> None:
    postcode = normalise_postcode(text)
    if postcode is not None:
        assert re.fullmatch(r"[1-9][0-9]{3} [A-Z]{2}", postcode)
        assert normalise_postcode(postcode) == postcode


@given(st.one_of(typed, addresses))
@example("a@b.c\x00")
@example("06 1234 5678")
def test_a_subject_is_an_address_or_a_number_or_refused(text: str) -> None:
    try:
        subject = Subject.parse(text)
    except NotASubject:
        return
    # Searched for in the database: PostgreSQL refuses a NUL, and no address has a control
    # character.
    assert subject.value.isprintable()
    if subject.kind is SubjectKind.EMAIL:
        assert subject.value == text.strip().lower()
        assert Subject.parse(subject.value) == subject
    else:
        assert subject.value.isascii() and subject.value.isdigit()


filter_args = st.dictionaries(
    st.sampled_from([f.name for f in fields(InboxFilter)] + ["unknown"]),
    st.one_of(typed, st.sampled_from(["1", "ja", "WK040203", "2026-02-30", "open", "none"])),
)


@given(filter_args)
def test_an_inbox_filter_takes_any_query_and_its_links_give_it_back(args: dict[str, str]) -> None:
    chosen = InboxFilter.from_args(args)
    assert "\x00" not in chosen.q
    assert chosen.page >= 1
    assert InboxFilter.from_args(chosen.to_args()) == chosen


@given(typed)
@example("52,2213")
@example("1e999")
@example("nan")
def test_a_coordinate_is_a_finite_number_or_nothing(text: str) -> None:
    value = parse_coordinate(text)
    if value is not None:
        assert math.isfinite(value)


@given(st.floats(min_value=-180, max_value=180, allow_nan=False))
def test_a_coordinate_reads_the_same_with_a_dutch_comma(value: float) -> None:
    written = repr(value)
    assert parse_coordinate(written) == value
    if "e" not in written:
        assert parse_coordinate(written.replace(".", ",")) == value


@given(st.text(max_size=300), st.integers(min_value=1, max_value=200))
def test_a_staff_text_is_kept_without_nul_within_its_limit_or_refused(
    text: str, limit: int
) -> None:
    try:
        kept = clean_text(text, limit=limit)
    except CaseworkError as refusal:
        assert str(refusal) in {"message_required", "message_too_long"}
        return
    assert kept and "\x00" not in kept
    assert len(kept) <= limit
    assert kept == text.replace("\x00", "").strip()


@pytest.mark.parametrize("text", ["", "   ", "\x00"])
def test_an_empty_staff_text_is_refused(text: str) -> None:
    with pytest.raises(CaseworkError, match="message_required"):
        clean_text(text)
