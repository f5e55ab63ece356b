"""An installed portal (a wheel, not the source tree) must find its templates, static files,
migrations, translations and geography; the build compiles the catalogues and refuses to run
without the front-end assets; the lock pins everything pyproject.toml asks for."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import pytest
from babel.support import Translations
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements" / "lock.txt"
# What a build reads; copying only these keeps the copies small and free of local caches.
BUILD_INPUTS = (
    "pyproject.toml",
    "README.md",
    "hatch_build.py",
    ".gitignore",
    "portal",
    "templates",
    "static",
    "migrations",
    "translations",
)
VENDOR_CSS = (
    "static/vendor/utrecht/component-library.css",
    "static/vendor/utrecht/design-tokens.css",
)
PIP = (sys.executable, "-m", "pip")
KNOWN_MSGID = "Doe een melding of deel uw initiatief"
KNOWN_ENGLISH = "Make a report or share your initiative"


def copy_of_source_tree(dest: Path) -> Path:
    """The checkout as a fresh clone after `make assets` has it: no compiled catalogues, so only
    the build hook can put a messages.mo in the wheel."""
    dest.mkdir(parents=True, exist_ok=True)
    skip = shutil.ignore_patterns("__pycache__", "*.mo")
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=skip)
        else:
            shutil.copy2(source, dest / name)
    return dest


def pip_wheel(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = copy_of_source_tree(tmp_path_factory.mktemp("checkout"))
    out = tmp_path_factory.mktemp("wheel")
    built = pip_wheel(source, out)
    assert built.returncode == 0, built.stderr
    (path,) = out.glob("*.whl")
    return path


@pytest.fixture(scope="module")
def wheel(wheel_path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_path)


@pytest.mark.parametrize(
    "member",
    [
        "portal/templates/layout.html",
        "portal/templates/public/report.html",
        "portal/templates/mail/signal_received.txt",
        "portal/static/css/portal.css",
        "portal/static/vendor/utrecht/component-library.css",
        "portal/static/vendor/utrecht/design-tokens.css",
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


def test_wheel_has_a_compiled_catalogue_that_translates(wheel: zipfile.ZipFile) -> None:
    members = [n for n in wheel.namelist() if n.endswith(".mo")]
    assert members == ["portal/translations/en/LC_MESSAGES/messages.mo"]
    with wheel.open(members[0]) as mo_file:
        english = Translations(mo_file)
    assert english.gettext(KNOWN_MSGID) == KNOWN_ENGLISH


def test_installed_wheel_serves_the_english_ui(wheel_path: Path, tmp_path: Path) -> None:
    """`pip install` of the wheel, then the portal from there (not from this checkout) migrates
    its database, answers `?lang=en` in English and serves the NL Design System CSS."""
    target = tmp_path / "site"
    subprocess.run(
        [*PIP, "install", "--no-deps", "-q", "--target", str(target), str(wheel_path)],
        check=True,
        capture_output=True,
    )
    database_url = f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    probe = textwrap.dedent(
        f"""
        import portal
        from portal import create_app, migrate
        print(portal.__file__)
        migrate.upgrade("{database_url}")
        app = create_app({{
            "TESTING": True,
            "SECRET_KEY": "packaging-test",
            "DATABASE_URL": "{database_url}",
            "UPLOAD_FOLDER": "{tmp_path / "uploads"}",
            "OUTBOX_DELIVERY": "off",
        }})
        client = app.test_client()
        page = client.get("/?lang=en")
        print(page.status_code)
        print(page.get_data(as_text=True))
        print(client.get("/static/vendor/utrecht/design-tokens.css").status_code)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(target), "PORTAL_ENV": "development"}
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    location, status, *html, css_status = ran.stdout.strip().splitlines()
    page = "\n".join(html)
    assert Path(location).is_relative_to(target)
    assert (status, css_status) == ("200", "200")
    assert re.search(r'<html[^>]*\blang="en"', page)
    assert KNOWN_ENGLISH in page
    assert KNOWN_MSGID not in page


@pytest.mark.parametrize("missing", VENDOR_CSS)
def test_build_without_front_end_assets_fails_and_says_why(tmp_path: Path, missing: str) -> None:
    source = copy_of_source_tree(tmp_path / "checkout")
    (source / missing).unlink()
    out = tmp_path / "wheel"
    built = pip_wheel(source, out)
    assert built.returncode != 0
    assert "Front-end assets are missing: " + missing in built.stderr + built.stdout
    assert "make assets" in built.stderr + built.stdout
    assert not list(out.glob("*.whl"))


def test_sdist_carries_what_a_wheel_build_needs(tmp_path: Path) -> None:
    """static/vendor/ is ignored by git; the sdist must carry it anyway, or a wheel built from
    the sdist (`python -m build`) would fail on the missing assets."""
    source = copy_of_source_tree(tmp_path / "checkout")
    out = tmp_path / "sdist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("*.tar.gz")
    with tarfile.open(path) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert {*VENDOR_CSS, "hatch_build.py", "translations/en/LC_MESSAGES/messages.po"} <= names


def locked_versions() -> dict[str, tuple[str, int]]:
    """Name -> (pinned version, number of hashes) from the lock."""
    locked: dict[str, tuple[str, int]] = {}
    current = None
    for line in LOCK.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line):
            current = canonicalize_name(match.group(1))
            locked[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = locked[current]
            locked[current] = (version, hashes + 1)
    return locked


def test_lock_pins_every_dependency_with_hashes() -> None:
    """Adding a dependency to pyproject.toml without `make lock` breaks here (and in CI)
    instead of on the next machine that installs from the lock."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [
        *project["project"]["dependencies"],
        *project["project"]["optional-dependencies"]["dev"],
        *project["build-system"]["requires"],
    ]
    locked = locked_versions()
    assert locked, "the lock names no package"
    assert all(hashes for _, hashes in locked.values()), "every pin carries its hashes"
    for text in wanted:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in {LOCK.name}: run `make lock`"
        version, _ = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} in {LOCK.name} does not satisfy {text!r}: run `make lock`"
        )


def test_installed_layout_is_preferred(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from portal import paths

    (tmp_path / "templates").mkdir()
    monkeypatch.setattr(paths, "PACKAGE_DIR", tmp_path)
    assert paths.resource_dir("templates") == tmp_path / "templates"
    assert paths.resource_dir("static") == tmp_path.parent / "static"
