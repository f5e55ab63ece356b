"""Organisations and businesses as submitters: the name, the optional KvK number (Kamer van
Koophandel, 8 digits) and a contact person (the reporter's name).

One set of rules for every form that asks for them (the public form, staff intake): a form
says whether the submitter reports on behalf of an organisation and passes what was typed;
:func:`check_organisation` gives back the cleaned details, or the problems found (codes, with
their plain-Dutch messages in :data:`PROBLEM_MESSAGES` for the form to show next to its fields).

The name and KvK number are the organisation's, not a resident's personal data: every staff
member who may open the signal sees them, and the inbox search finds them. The contact
person's name stays with the other contact details."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from portal.vocabulary import N_

NAME_MAX = 200
KVK_DIGITS = 8


class InvalidKvkNumber(ValueError):
    """Not 8 digits (spaces, dots and dashes as people type them are allowed)."""


def normalise_kvk(typed: str | None) -> str | None:
    """'1234 5678', '12.34.56.78' -> '12345678'; empty -> None; else InvalidKvkNumber."""
    digits = re.sub(r"[\s.\-]", "", typed or "")
    if not digits:
        return None
    if not (digits.isascii() and digits.isdigit() and len(digits) == KVK_DIGITS):
        raise InvalidKvkNumber(typed)
    return digits


def normalise_name(typed: str | None) -> str | None:
    """'  Bakkerij   De Korenschoof ' -> 'Bakkerij De Korenschoof'; empty -> None."""
    return " ".join((typed or "").split()) or None


class Problem(StrEnum):
    """What can be wrong with the organisation part of a form."""

    NAME_MISSING = "name_missing"  # "on behalf of an organisation", but no name
    NAME_TOO_LONG = "name_too_long"
    KVK_INVALID = "kvk_invalid"
    # Without JavaScript the fields are always on the form: an organisation typed in while
    # "as a resident" is chosen. Asked back rather than guessed, so the steering figures
    # count residents and organisations as they said they are.
    NOT_ON_BEHALF = "not_on_behalf"


PROBLEM_MESSAGES = {
    Problem.NAME_MISSING: N_("Vul de naam van de organisatie of het bedrijf in."),
    Problem.NAME_TOO_LONG: N_(
        "De naam van de organisatie of het bedrijf mag maximaal %(max)d tekens lang zijn."
    ),
    Problem.KVK_INVALID: N_(
        "Een KvK-nummer heeft 8 cijfers, bijvoorbeeld 12345678. Controleer het nummer of "
        "laat het veld leeg."
    ),
    Problem.NOT_ON_BEHALF: N_(
        "U heeft een organisatie of bedrijf ingevuld. Kies 'Ik meld namens een organisatie "
        "of bedrijf', of maak de naam en het KvK-nummer leeg."
    ),
}


@dataclass(frozen=True)
class OrganisationCheck:
    """The cleaned details (both None for a resident) and the problems found (empty: fine)."""

    name: str | None
    kvk_number: str | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def check_organisation(
    on_behalf: bool, typed_name: str | None, typed_kvk: str | None
) -> OrganisationCheck:
    """The organisation part of a form: on behalf of one, a name (at most NAME_MAX) and an
    optional KvK number; as a resident, nothing of it filled in."""
    name = normalise_name(typed_name)
    if not on_behalf:
        if name or (typed_kvk or "").strip():
            return OrganisationCheck(None, None, (Problem.NOT_ON_BEHALF,))
        return OrganisationCheck(None, None)
    problems: list[Problem] = []
    if name is None:
        problems.append(Problem.NAME_MISSING)
    elif len(name) > NAME_MAX:
        problems.append(Problem.NAME_TOO_LONG)
    try:
        kvk = normalise_kvk(typed_kvk)
    except InvalidKvkNumber:
        kvk = None
        problems.append(Problem.KVK_INVALID)
    if problems:
        return OrganisationCheck(None, None, tuple(problems))
    return OrganisationCheck(name, kvk)
