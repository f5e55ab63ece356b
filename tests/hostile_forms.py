"""Finding every form the portal renders, for the hostile-input suite (tests/test_hostile_input.py).

The forms are not listed by hand: a crawler follows the links of the public site and of the back
office (as an admin and as an accountmanager) and the links in the mail the portal sent, and reads
every ``<form>`` it meets, as a browser would see it. A form added later is fuzzed without
touching the tests."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound

# Pages the crawler never opens: binary answers, and links that change something by a GET.
SKIPPED_ENDPOINTS = {
    "static",
    "public.status_photo",
    "public.partner_answer_photo",
    "public.profile_photo",
    "public.wijk_news_photo",
    "backoffice.signal_photo",
    # A GET that confirms or ends a subscription: opened by its own tests, not by a crawler.
    "public.alert_confirm",
    "public.alert_unsubscribe",
}
# The inbox has a link per filter, sort order and page: a few of each endpoint say enough.
PAGES_PER_ENDPOINT = 3
MAX_PAGES = 250


@dataclass
class Field:
    name: str
    kind: str  # the input type ("text", "checkbox", "file"…), or "select" / "textarea"
    value: str  # what a browser sends when nobody changes the field
    sent: bool = True  # an unticked checkbox or radio is not sent

    @property
    def is_file(self) -> bool:
        return self.kind == "file"


@dataclass
class Form:
    page: str  # where it was found
    action: str
    method: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)
    who: str = "public"  # which of the crawl's clients found it

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.method, self.action, tuple(sorted({f.name for f in self.fields})))

    def defaults(self) -> list[tuple[str, str]]:
        """What a browser would send for this form untouched (files aside)."""
        return [(f.name, f.value) for f in self.fields if f.sent and not f.is_file]

    @property
    def fuzzable(self) -> list[Field]:
        seen: set[str] = set()
        fields = []
        for candidate in self.fields:
            if candidate.name != "csrf_token" and candidate.name not in seen:
                seen.add(candidate.name)
                fields.append(candidate)
        return fields


class _Reader(HTMLParser):
    """The links and forms of one page, each form with what a browser would send untouched."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._first_option = False
        self._textarea: Field | None = None
        self._submit_seen = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "a" and "href" in a:
            self.links.append(urljoin(self.page, a["href"]))
        elif tag == "form":
            target = urlsplit(urljoin(self.page, a.get("action") or self.page))
            self._form = Form(
                page=self.page,
                action=target.path + (f"?{target.query}" if target.query else ""),
                method=(a.get("method") or "get").upper(),
                multipart=a.get("enctype") == "multipart/form-data",
            )
            self._submit_seen = False
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:
            # The selected option is sent, or the first when none is.
            if "selected" in a or self._first_option:
                self._select.value = a.get("value", "")
            self._first_option = False
        elif self._form is None or "name" not in a or "disabled" in a:
            return
        elif tag == "input":
            self._input(self._form, a)
        elif tag == "button":
            if a.get("type", "submit") == "submit" and not self._submit_seen:
                self._form.fields.append(Field(a["name"], "submit", a.get("value", "")))
                self._submit_seen = True
        elif tag == "select":
            self._select = Field(a["name"], "select", "")
            self._first_option = True
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea", "")
            self._form.fields.append(self._textarea)

    def _input(self, form: Form, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind in ("submit", "image", "button", "reset"):
            # Only the button pressed is sent: the first named one stands for it.
            if kind == "submit" and not self._submit_seen:
                form.fields.append(Field(a["name"], kind, a.get("value", "")))
                self._submit_seen = True
            return
        checkable = kind in ("checkbox", "radio")
        sent = "checked" in a if checkable else True
        form.fields.append(Field(a["name"], kind, a.get("value", "on" if checkable else ""), sent))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def read_page(url: str, html: str) -> tuple[list[Form], list[str]]:
    reader = _Reader(url)
    reader.feed(html)
    return reader.forms, reader.links


def endpoint_of(app: Flask, url: str, method: str = "GET") -> str | None:
    parts = urlsplit(url)
    if parts.netloc and parts.netloc not in ("localhost", "portal.test"):
        return None
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _args = adapter.match(parts.path, method=method)
    except (NotFound, MethodNotAllowed):
        return None
    except Exception:  # a redirect rule (trailing slash): not a page of its own
        return None
    return str(endpoint)


@dataclass
class Crawl:
    forms: list[Form]
    pages: dict[str, str]  # url → who opened it
    statuses: Counter[int]


def crawl(app: Flask, clients: dict[str, FlaskClient], starts: dict[str, Iterable[str]]) -> Crawl:
    """Breadth-first over the links each client can follow from its start pages. Returns one
    form per endpoint it is sent to (a form per signal or per buurt adds time, not cases) and
    the pages opened."""
    forms: dict[str, Form] = {}
    pages: dict[str, str] = {}
    statuses: Counter[int] = Counter()
    for who, client in clients.items():
        per_endpoint: Counter[str] = Counter()
        queue = deque(starts[who])
        seen: set[str] = set()
        while queue and len(pages) < MAX_PAGES:
            url = queue.popleft()
            parts = urlsplit(url)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path in seen:
                continue
            seen.add(path)
            endpoint = endpoint_of(app, url)
            if endpoint is None or endpoint in SKIPPED_ENDPOINTS:
                continue
            if who != "public" and not endpoint.startswith("backoffice."):
                continue  # staff clients crawl the back office; the public one the rest
            if per_endpoint[endpoint] >= PAGES_PER_ENDPOINT:
                continue
            per_endpoint[endpoint] += 1
            response = client.get(path)
            statuses[response.status_code] += 1
            pages[path] = who
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            found, links = read_page(path, response.get_data(as_text=True))
            for form in found:
                form.who = who
                target = endpoint_of(app, form.action, form.method)
                if target is not None:
                    forms.setdefault(target, form)
            queue.extend(links)
    return Crawl(list(forms.values()), pages, statuses)
