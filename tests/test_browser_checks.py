"""The checks the browser fixtures add to every test must be able to fail: the Nu HTML checker
reports an invalid page and fails the run, axe-core still runs under the strict
Content-Security-Policy the portal is to send, and a CSP violation fails the test."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.browser import _unavailable, assert_accessible
from tests.fixtures.html_check import ROOT, check_html, checker_unavailable, describe

STRICT_CSP = "default-src 'self'; script-src 'self'; frame-ancestors 'none'"
INVALID_PAGE = """<!DOCTYPE html>
<html lang="nl">
<head><meta charset="utf-8"><title>Melden</title></head>
<body><main><h1>Melden</h1><p>
<label for="street">Straat</label>
<input id="street" name="street" autocomplete="street-address">
</p></div></main></body>
</html>
"""


def page_with(body: str) -> bytes:
    """A small valid document: it is saved and checked by vnu like every page a test opens."""
    return (
        '<!DOCTYPE html>\n<html lang="nl">\n<head><meta charset="utf-8"><title>CSP-proef</title>'
        f"</head>\n<body><main><h1>CSP-proef</h1>{body}</main></body>\n</html>\n"
    ).encode()


PAGES = {
    "/": page_with("<p>Alleen tekst, geen script.</p>"),
    "/inline": page_with(
        "<p>Een inline script, dat de CSP tegenhoudt.</p>"
        "<script>document.documentElement.dataset.inline = 'ran';</script>"
    ),
}


class _StrictCspPages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGES.get(self.path)
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Security-Policy", STRICT_CSP)
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


@pytest.fixture
def strict_csp_server() -> Iterator[str]:
    """Pages served with the strict CSP the portal is to send (the portal's own may not yet)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StrictCspPages)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def html_checker() -> None:
    if reason := checker_unavailable():
        _unavailable(reason)  # fails in CI, skips elsewhere


@pytest.mark.usefixtures("html_checker")
def test_the_html_checker_reports_errors_with_line_and_origin(tmp_path: Path) -> None:
    invalid = tmp_path / "0001_test-melden_melden.html"
    invalid.write_text(INVALID_PAGE, encoding="utf-8")

    errors = check_html([invalid])

    messages = [error.message for error in errors]
    assert any("street-address" in message for message in messages), messages
    assert any("“div”" in message for message in messages), messages  # the stray </div>
    autocomplete = next(error for error in errors if "street-address" in error.message)
    assert (autocomplete.file, autocomplete.line) == (invalid, 6)
    report = describe(
        errors,
        {invalid.name: {"test": "tests/x.py::test_melden", "request": "GET http://x/melden"}},
    )
    assert "GET http://x/melden (in tests/x.py::test_melden)" in report
    assert f"saved as {invalid}" in report
    assert "line 6, column" in report


@pytest.mark.usefixtures("html_checker")
def test_an_invalid_page_fails_the_whole_run(tmp_path: Path) -> None:
    """The batched check runs in a session teardown: its failure must change the exit status."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            f"""
            def test_melden(html_snapshots):
                page = {INVALID_PAGE.encode()!r}
                html_snapshots.save(page, "http://portal.test/melden", method="POST", status=422)
            """
        ),
        encoding="utf-8",
    )
    plugins = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "tests.fixtures.html_check"]
    inner = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", *plugins, f"--basetemp={tmp_path / 'tmp'}"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert inner.returncode != 0, inner.stdout
    assert "1 passed, 1 error" in inner.stdout, inner.stdout
    assert "POST http://portal.test/melden → 422 (in test_inner.py::test_melden)" in inner.stdout
    assert "line 6, column" in inner.stdout
    assert "street-address" in inner.stdout


@pytest.mark.browser
def test_axe_runs_under_a_strict_csp(page: Page, strict_csp_server: str) -> None:
    response = page.goto(f"{strict_csp_server}/")
    assert response is not None
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert_accessible(page)  # injecting axe with an inline <script> would be refused here


@pytest.mark.browser
def test_a_csp_violation_fails_the_test(page: Page, strict_csp_server: str) -> None:
    page.goto(f"{strict_csp_server}/inline")
    expect(page.locator("html")).not_to_have_attribute("data-inline", "ran")  # CSP enforced
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert f"Content-Security-Policy violation on {strict_csp_server}/inline" in message
    assert "script-src 'self'" in message
