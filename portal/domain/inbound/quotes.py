"""The resident's new words in a reply: the quoted mail, the history a mail program adds under
it, and signatures are removed, in the forms Dutch and English mail programs write them
(Gmail, Outlook, Apple Mail, Thunderbird, phones). The full mail stays with staff, so when in
doubt a line is removed rather than shown as the resident's."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"^\s*>")
# "-----Oorspronkelijk bericht-----", "---------- Forwarded message ---------", …
_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(oorspronkelijk bericht|origineel bericht|original message|"
    r"doorgestuurd bericht|forwarded message|ursprüngliche nachricht|message d'origine|"
    r"message transféré)\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_START = re.compile(
    r"^\s*(begin doorgestuurd bericht|begin forwarded message)\s*:\s*$", re.IGNORECASE
)
_RULE = re.compile(r"^\s*(_{8,}|-{8,})\s*$")
# Outlook's block above the original: "Van: …" with "Verzonden: …", "Aan: …" under it.
_HEADER_FROM = re.compile(r"^\s*\*?(van|from|de|von)\s*:\s*\*?\s*\S", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\s*\*?(verzonden|sent|datum|date|gesendet|envoyé|aan|to|onderwerp|subject|cc|"
    r"betreff|objet|à|an)\s*:",
    re.IGNORECASE,
)
# "Op 1 dec. 2026 om 10:12 schreef Wijkzaken Hilversum <…>:", "On Tue, … wrote:", "Op … heeft
# … het volgende geschreven:", and the same in German, French, Spanish, Italian, Scandinavian.
_ATTRIBUTION_START = re.compile(r"^\s*(op|on|am|le|el|il|den|d\.)\s", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"^\s*\S+\s.{4,300}?\b(schreef|wrote|schrieb|a écrit|escribió|ha scritto|geschreven|"
    r"skrev)\b.{0,300}:\s*$",
    re.IGNORECASE,
)
# "Wijkzaken Hilversum <…> schreef op 1 december 2026 10:12:"
_WROTE_ON = re.compile(r"^.{1,200}\s(schreef|wrote)\s+(op|on)\s.{1,100}:\s*$", re.IGNORECASE)
_MACHINE_DETAIL = re.compile(r"@|\d{1,2}[:.]\d{2}")
_SIGNATURE = re.compile(r"^--\s*$")
# "Verzonden vanaf mijn iPhone", "Sent from my Galaxy", "Verstuurd met Outlook voor Android"
_DEVICE_LINE = re.compile(
    r"^\s*(verzonden|verstuurd|gestuurd|sent|send)\s+(vanaf|vanuit|van|met|via|from|with|"
    r"using|on)\s+.{0,40}?(iphone|ipad|ipod|android|samsung|galaxy|mobiel|mobile|"
    r"telefoon|phone|smartphone|tablet|outlook|mail|gmail|yahoo|blackberry|huawei|xiaomi|"
    r"oneplus|proton\w*|windows|ios|ziggo|kpn)\b.{0,40}$",
    re.IGNORECASE,
)
_GET_APP_LINE = re.compile(
    r"^\s*((get|download|haal)\s+outlook\s+(for|voor)\s+(ios|android)|"
    r"outlook\s+voor\s+(ios|android)\s+downloaden)\s*$",
    re.IGNORECASE,
)
HEADER_WINDOW = 8
ATTRIBUTION_LINES = 3


def strip_reply(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = _history_start(lines)
    kept: list[str] = []
    index = 0
    while index < end:
        line = lines[index]
        attribution = _attribution_end(lines, index, end)
        if attribution is not None:
            following = _next_filled(lines, attribution + 1, end)
            if following is None or _QUOTED.match(lines[following]):
                index = attribution + 1  # the quote under it goes line by line below
                continue
            if _MACHINE_DETAIL.search(" ".join(lines[index : attribution + 1])):
                break  # the original follows unquoted: all of it is history
        if _QUOTED.match(line) or _DEVICE_LINE.match(line) or _GET_APP_LINE.match(line):
            index += 1
            continue
        kept.append(line.rstrip())
        index += 1
    return "\n".join(kept).strip("\n")


def _history_start(lines: list[str]) -> int:
    """Where the resident's part ends for good: a signature, a separator, a header block."""
    for index, line in enumerate(lines):
        if _QUOTED.match(line):
            continue
        if _SIGNATURE.match(line) or _SEPARATOR.match(line) or _FORWARD_START.match(line):
            return index
        if _HEADER_FROM.match(line) and _looks_like_header_block(lines, index):
            previous = _previous_filled(lines, index)
            return previous if previous is not None and _RULE.match(lines[previous]) else index
    return len(lines)


def _looks_like_header_block(lines: list[str], start: int) -> bool:
    others = 0
    for line in lines[start + 1 : start + 1 + HEADER_WINDOW]:
        if _HEADER_OTHER.match(line):
            others += 1
        elif line.strip() and others == 0:
            return False  # "Van: …" not followed by header lines is the resident's own text
    return others >= 2


def _attribution_end(lines: list[str], start: int, end: int) -> int | None:
    """The last line of an attribution starting at ``start`` (it may be wrapped over up to
    three lines), or None."""
    first = lines[start]
    if _WROTE_ON.match(first):
        return start
    if not _ATTRIBUTION_START.match(first):
        return None
    joined = ""
    for index in range(start, min(start + ATTRIBUTION_LINES, end)):
        if index > start and not lines[index].strip():
            return None
        joined = f"{joined} {lines[index].strip()}"
        if len(joined) > 400:
            return None
        if _ATTRIBUTION.match(joined.strip()):
            return index
    return None


def _next_filled(lines: list[str], start: int, end: int) -> int | None:
    return next((i for i in range(start, end) if lines[i].strip()), None)


def _previous_filled(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start - 1, -1, -1) if lines[i].strip()), None)


def unflow(text: str, *, delsp: bool = False) -> str:
    """format=flowed (RFC 3676) back into paragraphs: a line ending in a space goes on on the
    next line of the same quote depth."""
    out: list[str] = []
    depth_open: int | None = None
    buffer = ""

    def flush() -> None:
        nonlocal depth_open, buffer
        if depth_open is not None:
            out.append((">" * depth_open + " " if depth_open else "") + buffer)
        depth_open, buffer = None, ""

    for line in text.replace("\r\n", "\n").split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        if content == "-- ":
            flush()
            out.append(">" * depth + (" " if depth else "") + content)
            continue
        if depth_open is not None and depth_open != depth:
            flush()
        if depth_open is None:
            depth_open = depth
        flowed = content.endswith(" ")
        buffer += content[:-1] if flowed and delsp else content
        if not flowed:
            flush()
    flush()
    return "\n".join(out)
