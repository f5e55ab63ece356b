"""The text the inbox's free-text search looks in (portal/search_text.py): what goes in, how
it is normalised, and which database objects the migrations keep outside the models."""

from __future__ import annotations

import inspect

from hypothesis import given
from hypothesis import strategies as st

from portal.search_text import (
    FIELD_SEPARATOR,
    kept_outside_the_models,
    normalise,
    search_words,
    signal_search_text,
)

FIELDS = dict(
    reference="HLV-2026-000123",
    title="Glasbak  kapot",
    street="Kerkelandenlaan",
    house_number="12a",
    postcode="1216 AB",
    description="De klep van de glasbak\nbij de Café-bakker is kapot.",
    organisation_name="Bakkerij Dé Korenschoof",
    kvk_number="12345678",
)


def test_every_field_normalised_on_a_line_of_its_own() -> None:
    assert signal_search_text(**FIELDS).split(FIELD_SEPARATOR) == [
        "hlv-2026-000123",
        "glasbak kapot",
        "kerkelandenlaan",
        "12a",
        "1216 ab",
        "1216ab",  # the postcode as people also type it
        "de klep van de glasbak bij de cafe-bakker is kapot.",
        "bakkerij de korenschoof",
        "12345678",
    ]


def test_empty_fields_are_left_out() -> None:
    text = signal_search_text(
        reference="HLV-2026-000001",
        title="Lamp",
        street=None,
        house_number="",
        postcode=None,
        description="  ",
    )
    assert text == "hlv-2026-000001\nlamp"


def test_a_postcode_without_its_space_is_there_once() -> None:
    text = signal_search_text(
        reference="HLV-2026-000001",
        title="Lamp",
        street=None,
        house_number=None,
        postcode="1216AB",
        description="",
    )
    assert text.split(FIELD_SEPARATOR) == ["hlv-2026-000001", "lamp", "1216ab"]


def test_a_persons_contact_details_cannot_be_passed() -> None:
    # The function has no place for them: a name, email or phone number is contact data,
    # which not every colleague may see, so it is never searched.
    parameters = set(inspect.signature(signal_search_text).parameters)
    assert not {"name", "email", "phone"} & parameters


def test_case_accents_and_whitespace_do_not_matter() -> None:
    assert normalise("  École\tCAFÉ  straße ") == "ecole cafe strasse"
    assert normalise("ﬁets") == "fiets"  # compatibility characters as their letters
    assert normalise("１２１６ＡＢ") == "1216ab"


def test_the_words_of_a_query_are_normalised_before_they_are_split() -> None:
    assert search_words(" Glasbak  KAPOT ") == ["glasbak", "kapot"]
    assert search_words("a\u00a8b") == ["a", "b"]  # a spacing diaeresis falls apart
    assert search_words("\u0301 \u0308") == []  # only accents: no word at all
    assert search_words('100% a_b "x" 2/3') == ["100%", "a_b", '"x"', "2/3"]


printable = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


@given(printable)
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


@given(printable, printable, printable)
def test_a_word_of_a_text_is_found_in_its_search_text(before: str, word: str, after: str) -> None:
    # What makes the search work: a word typed as it stands in a field is, normalised, a
    # substring of the field's normalised text (the fields are normalised one by one).
    description = f"{before} {word} {after}"
    text = signal_search_text(
        reference="HLV-2026-000001",
        title=None,
        street=None,
        house_number=None,
        postcode=None,
        description=description,
    )
    for typed in search_words(word):
        assert typed in text
        assert FIELD_SEPARATOR not in typed


def test_the_indexes_the_migrations_keep_outside_the_models() -> None:
    for table in (
        "signal_search",
        "signal_search_data",
        "signal_search_idx",
        "signal_search_docsize",
        "signal_search_config",
    ):
        assert kept_outside_the_models(table, "table"), table
    assert kept_outside_the_models("ix_signals_search_text_trgm", "index")
    for name, type_ in [
        ("signals", "table"),
        ("signal_searches", "table"),
        ("signal_search_data", "index"),
        ("ix_signals_search_text_trgm", "table"),
        ("search_text", "column"),
        (None, "table"),
    ]:
        assert not kept_outside_the_models(name, type_), (name, type_)
