"""Money as the ledger keeps it: whole cents in an integer, never a float. One parser for the
amounts staff type ("750", "750,00", "1.250,50", "€ 750", "EUR 750", "€ 750,-", "1,250.50")."""

from __future__ import annotations

import re

# Ten million euros: far above any wijk budget, well inside a 32-bit integer column.
AMOUNT_MAX_CENTS = 1_000_000_000
# More digits before the decimal sign than the largest amount has is too large whatever they
# are; counted before int(), which refuses (ValueError) text of more than 4300 digits.
_WHOLE_DIGITS_MAX = len(str(AMOUNT_MAX_CENTS // 100))
# Longer than any amount written out, however spaced: refused before any pattern looks at it.
_TYPED_MAX = 100


class MoneyError(ValueError):
    """The typed text is no amount we accept; ``code`` says why (the web layer words it):
    ``amount_required``, ``amount_invalid``, ``amount_not_positive``, ``amount_too_large``."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# ASCII digits only: \d would also let through Arabic-Indic or full-width digits.
_CURRENCY = re.compile(r"^(?:€|euro?(?![a-z]))\s*|\s*(?:€|euro?)$", re.IGNORECASE)
_WHOLE = re.compile(r"[0-9]+")
# Thousands in groups of three: 1.250 / 1,250 / 1 250 (a space, as some people write it).
# The first group never starts with 0: "0,001" or "012.500" is no amount anyone means.
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:[., ][0-9]{3})+")
_DECIMALS = re.compile(r"[.,]([0-9]{1,2})$")
_SEPARATORS = re.compile(r"[., ]")


def parse_amount(typed: str | None, *, allow_zero: bool = False) -> int:
    """The amount in cents. A separator followed by one or two digits at the end is the
    decimal one, whichever of , and . it is; a separator followed by groups of three digits
    separates thousands. So "1.250" and "1,250" are both € 1.250,00, "12,5" is € 12,50; more
    than two decimals ("0,001", "1.250,505") are refused, not rounded."""
    text = (typed or "").replace("\xa0", " ").replace("\u202f", " ").strip()
    if not text:
        raise MoneyError("amount_required")
    if len(text) > _TYPED_MAX:
        too_many = len(re.sub(r"[^0-9]", "", text).lstrip("0")) > _WHOLE_DIGITS_MAX + 2
        raise MoneyError("amount_too_large" if too_many else "amount_invalid")
    text = _CURRENCY.sub("", text).strip()
    if text.endswith((",-", ".-")):  # "€ 750,-": whole euros
        text = text[:-2].rstrip()
    if not text:  # only the euro sign
        raise MoneyError("amount_required")
    if text.startswith("-"):
        raise MoneyError("amount_not_positive")
    whole, cents = text, "00"
    decimal = _DECIMALS.search(text)
    if decimal:
        whole, cents = text[: decimal.start()], decimal.group(1).ljust(2, "0")
    if _WHOLE.fullmatch(whole):
        digits = whole
    elif _GROUPED.fullmatch(whole) and len(set(_SEPARATORS.findall(whole))) == 1:
        if decimal and text[decimal.start()] in whole:  # "1.250.50": one sign for both
            raise MoneyError("amount_invalid")
        digits = _SEPARATORS.sub("", whole)
    else:
        raise MoneyError("amount_invalid")
    digits = digits.lstrip("0") or "0"
    if len(digits) > _WHOLE_DIGITS_MAX:
        raise MoneyError("amount_too_large")
    amount = int(digits) * 100 + int(cents)
    if amount > AMOUNT_MAX_CENTS:
        raise MoneyError("amount_too_large")
    if amount == 0 and not allow_zero:
        raise MoneyError("amount_not_positive")
    return amount
