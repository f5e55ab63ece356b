"""HTML mail as plain text (standard library ``html.parser``): paragraphs and line breaks kept,
scripts and styles dropped, quoted parts marked with "> " and signatures preceded by "-- ", so
that the same rules strip them as in plain-text mail. Nothing of the HTML survives as markup."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Content that is not text for a reader.
_SKIPPED = {"script", "style", "head", "title", "xml", "template", "noscript", "svg", "object"}
# Elements that stand on lines of their own.
_BLOCKS = {
    "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset", "figure",
    "footer", "form", "header", "li", "main", "nav", "section", "table", "tbody", "thead",
    "tfoot", "tr", "caption",
}  # fmt: skip
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "hr"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "wbr", "col", "area", "base", "source"}
# How mail programs mark the quoted mail and the signature in their HTML.
_QUOTE_CLASSES = {"gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote"}
_SIGNATURE_CLASSES = {"gmail_signature", "moz-signature", "signature"}
_SIGNATURE_IDS = {"signature", "signature_bookmark", "applemailsignature"}
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this is for what it still cannot take
        pass
    return parser.text()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.current_depth = 0
        self.quote_depth = 0
        self.skip_depth = 0
        self.pre_depth = 0
        # Open elements and what they started ("quote", "skip", "pre"), to undo at their end.
        self.stack: list[tuple[str, str | None]] = []

    # -- building lines --

    def _write(self, text: str) -> None:
        if not self.current:
            self.current_depth = self.quote_depth
        self.current.append(text)

    def _end_line(self, *, keep_empty: bool = False) -> None:
        joined = "".join(self.current)
        line = joined.rstrip(" ") if self.pre_depth else joined.strip(" ")
        if line or keep_empty:
            depth = self.current_depth if line else self.quote_depth
            self.lines.append(("> " * depth + line).rstrip())
        self.current = []

    def _paragraph(self) -> None:
        self._end_line()
        if self.lines and self.lines[-1] not in ("", ">" * self.quote_depth):
            self.lines.append("")

    def text(self) -> str:
        self._end_line()
        return "\n".join(self.lines).strip("\n")

    # -- the parser's events --

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        role = self._role(tag, attrs)
        if tag not in _VOID:
            self.stack.append((tag, role))
        if role == "skip":
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag == "br":
            self._end_line(keep_empty=not self.current)
        elif tag in _PARAGRAPHS or tag in _BLOCKS:
            self._paragraph() if tag in _PARAGRAPHS else self._end_line()
        elif tag in ("td", "th") and self.current:
            self._write(" ")
        if role == "quote":
            self._end_line()
            self.quote_depth += 1
        elif role == "signature" and not self.quote_depth:
            # Inside a quote it is quoted anyway; a "-- " there would cut what follows it.
            self._paragraph()
            self.lines.append("-- ")
        elif role == "pre":
            self.pre_depth += 1
        if tag == "li":
            self._write("- ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _role in self.stack):
            return  # an end without a start: nothing to close
        while self.stack:
            open_tag, role = self.stack.pop()
            self._close(open_tag, role)
            if open_tag == tag:
                break

    def _close(self, tag: str, role: str | None) -> None:
        if role == "skip":
            self.skip_depth -= 1
            return
        if self.skip_depth:
            return
        if tag in _PARAGRAPHS:
            self._paragraph()
        elif tag in _BLOCKS:
            self._end_line()
        if role == "quote":
            self._end_line()
            self.quote_depth = max(self.quote_depth - 1, 0)
        elif role == "pre":
            self.pre_depth = max(self.pre_depth - 1, 0)

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        if self.pre_depth:
            first, *rest = data.replace("\r\n", "\n").split("\n")
            self._write(first)
            for line in rest:
                self._end_line(keep_empty=True)
                self._write(line)
            return
        text = _SPACES.sub(" ", data)
        if not self.current:
            text = text.lstrip(" ")
        if text:
            self._write(text)

    @staticmethod
    def _role(tag: str, attrs: list[tuple[str, str | None]]) -> str | None:
        if tag in _SKIPPED:
            return "skip"
        if tag == "blockquote":
            return "quote"
        if tag == "pre":
            return "pre"
        values = dict(attrs)
        classes = set((values.get("class") or "").lower().split())
        element_id = (values.get("id") or "").lower()
        if classes & _QUOTE_CLASSES or (values.get("type") or "").lower() == "cite":
            return "quote"
        if classes & _SIGNATURE_CLASSES or element_id in _SIGNATURE_IDS:
            return "signature"
        return None
