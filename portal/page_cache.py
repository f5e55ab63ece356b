"""Pages that are the same for every visitor apart from a few per-visitor values (a form's CSRF
token and one-time key), rendered once per process and language and filled in per request.

Rendering the report form costs about 6 ms (WTForms widgets, a hundred translated strings,
the wijk and buurt lists), the status page about 4 ms; filling in a few values costs
microseconds (bench/README.md, "Public pages"). A page is kept under a key that changes with
everything it shows: the language, the places revision (wijken and buurten, renamed at any
time by an admin) and, for a status page, the signal's version and page_version
(portal/models/page_versions.py). Each process keeps its own pages; the keys come from the
database, so every process on every server sees a change at once. Anything that depends on
the visitor must be one of the page's holes, or the page is not cached."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from markupsafe import escape

# Random tokens are far longer; anything shorter could be ordinary text on the page.
MIN_VALUE_LENGTH = 16


@dataclass(frozen=True)
class PunchedPage:
    """A page with holes: the text between them, and each hole's name in order."""

    pieces: tuple[str, ...]
    holes: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> str:
        out = [self.pieces[0]]
        for hole, piece in zip(self.holes, self.pieces[1:], strict=True):
            out.append(str(escape(values[hole])))
            out.append(piece)
        return "".join(out)


def punch(html: str, values: Mapping[str, str]) -> PunchedPage | None:
    """``html`` with every occurrence of each value (as the page shows it, HTML-escaped) cut
    out as a hole named by its key. None when a value is missing from the page, or too short
    to be told from ordinary text (the values are random tokens): then it is not cached."""
    found = []
    for name, value in values.items():
        shown = str(escape(value))
        if len(shown) < MIN_VALUE_LENGTH or shown not in html:
            return None
        at = html.find(shown)
        while at != -1:
            found.append((at, len(shown), name))
            at = html.find(shown, at + len(shown))
    found.sort()
    pieces, holes, start = [], [], 0
    for at, length, name in found:
        if at < start:  # one value inside another: cannot be filled in reliably
            return None
        pieces.append(html[start:at])
        holes.append(name)
        start = at + length
    pieces.append(html[start:])
    return PunchedPage(tuple(pieces), tuple(holes))


class PageCache:
    """A small least-recently-used store of punched pages, shared by a process's threads."""

    def __init__(self, max_pages: int = 64) -> None:
        self._pages: OrderedDict[Hashable, PunchedPage] = OrderedDict()
        self._max_pages = max_pages
        self._lock = threading.Lock()

    def page(self, key: Hashable, values: Mapping[str, str], render: Callable[[], str]) -> str:
        """The page for ``key`` with ``values`` filled in; ``render`` makes it (with these
        very values in it) when it is not kept yet."""
        with self._lock:
            punched = self._pages.get(key)
            if punched is not None:
                self._pages.move_to_end(key)
        if punched is not None:
            return punched.fill(values)
        html = render()
        punched = punch(html, values)
        if punched is not None:
            with self._lock:
                self._pages[key] = punched
                while len(self._pages) > self._max_pages:
                    self._pages.popitem(last=False)
        return html

    def __len__(self) -> int:
        return len(self._pages)
