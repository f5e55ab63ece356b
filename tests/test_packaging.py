"""An installed portal (a wheel, not the source tree) must find its templates, static files,
migrations, translations and geography."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


@pytest.mark.parametrize(
    "member",
    [
        "portal/templates/layout.html",
        "portal/templates/public/report.html",
        "portal/templates/mail/signal_received.txt",
        "portal/static/css/portal.css",
        "portal/migrations/env.py",
        "portal/translations/en/LC_MESSAGES/messages.po",
        "portal/data/hilversum/buurten_2023.geojson",
        "portal/data/hilversum/wijken_buurten_2023.csv",
    ],
)
def test_wheel_contains_non_python_parts(wheel: zipfile.ZipFile, member: str) -> None:
    assert member in wheel.namelist()


def test_wheel_contains_a_migration(wheel: zipfile.ZipFile) -> None:
    assert any(n.startswith("portal/migrations/versions/") for n in wheel.namelist())


def test_installed_layout_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portal import paths

    (tmp_path / "templates").mkdir()
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path)
    assert paths.resource_dir("templates") == tmp_path / "templates"
    assert paths.resource_dir("static") == tmp_path.parent / "static"
