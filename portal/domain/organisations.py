"""Organisations and businesses as submitters: the name, the optional KvK number (Kamer van
Koophandel, 8 digits) and a contact person (the reporter's name)."""

from __future__ import annotations

import re

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
