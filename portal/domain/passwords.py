"""Staff passwords: the rules a new one must meet, and checking one without telling anyone,
by how long it takes, whether the account exists."""

from __future__ import annotations

import re
import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

MIN_LENGTH = 12
# A stored "hash" that no password matches: an account waiting for its set-password link.
UNUSABLE_PREFIX = "!unusable:"
# Parts of the account too short to count as "the password is the name" on their own.
MIN_PERSONAL_PART = 4


@cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of the leaks zxcvbn learned from (shipped with it)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _squash(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password is refused (``too_short``, ``personal``, ``common``), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    squashed = _squash(password)
    local_part = email.partition("@")[0]
    personal = [_squash(email), _squash(local_part), _squash(name)]
    personal += [_squash(part) for part in re.split(r"[\s.@_-]+", f"{local_part} {name}")]
    if any(len(part) >= MIN_PERSONAL_PART and part in squashed for part in personal):
        return "personal"
    # "Wachtwoord2024!" is "wachtwoord" with a year and a sign: strip what people tack on.
    core = re.sub(r"[\d\W_]+$", "", password.casefold())
    common = common_passwords()
    if password.casefold() in common or core in common or squashed in common:
        return "common"
    if len(set(password)) <= 3:  # "aaaaaaaaaaaa", "abababababab"
        return "common"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password)


@cache
def _dummy_hash() -> str:
    # Made once per process with the same method and cost as real hashes.
    return generate_password_hash("no account has this password")


def check_password(password_hash: str | None, password: str) -> bool:
    """Checks against the hash, or against a dummy one when there is no account, so an
    unknown email takes as long as a known one."""
    if password_hash is None or password_hash.startswith(UNUSABLE_PREFIX):
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


def unusable_hash() -> str:
    return UNUSABLE_PREFIX + secrets.token_hex(16)
