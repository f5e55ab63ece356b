"""Database ids as they arrive from outside (URLs, forms, query strings): only plain digits
within the integer column's range are ids; anything else is "no such id", never an error
(a 25-digit number used to overflow SQLite and PostgreSQL into a 500)."""

from __future__ import annotations

# The largest value of a 32-bit signed integer column (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


def parse_id(raw: str | None) -> int | None:
    value = (raw or "").strip()
    # isascii: "²" and other digits int() refuses; the length check keeps int() cheap.
    if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_ID)):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
