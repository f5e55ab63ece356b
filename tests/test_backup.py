"""Backups (README, "Backups").

SQLite: ``flask --app portal backup`` runs while a gunicorn portal takes reports with photos;
the backup is one consistent moment (integrity check, every photo row's file there with its
checksum, nothing submitted after it ended), and after wiping the database and the uploads,
``restore`` brings back every signal in it: its status link (saved from the confirmation page)
opens and its photo is served, byte for byte. ``restore`` changes nothing when the backup was
tampered with or the target holds signals (without ``--force``). A backup of an older schema is
migrated to this version's as it is restored.

PostgreSQL: ``backup`` refuses it; the README's ``pg_dump --format=custom`` / ``pg_restore
--clean --if-exists`` plus a copy of the upload folder bring every signal and photo back."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import secrets
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from PIL import Image
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from portal import migrate
from portal.database import make_engine
from portal.domain.photos import PhotoStore
from portal.extensions import db
from portal.models import Attachment, Signal
from tests.factories import db_session, make_signal
from tests.fixtures.databases import PostgresCluster
from tests.fixtures.servers import FLASK, REPO, gunicorn, production_env, wait_until, wait_until_up
from tests.test_scale_out import PHOTO_LINK, Browser, Submitted, jpeg, resident

pytestmark = pytest.mark.slow

FIRST_REPORTS = 20  # before the backup starts
REPORTERS = 2  # residents reporting at the same time, the whole time
COMMAND_SECONDS = 180
SECRET_KEY = secrets.token_urlsafe(48)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def flask(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FLASK), "--app", "portal", *args],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )


def sqlite_file(database_url: str) -> Path:
    return Path(make_url(database_url).database or "")


def rows(database: Path, sql: str) -> list[tuple]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256."""
    return {
        path.relative_to(folder).as_posix(): sha256(path.read_bytes())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def portal_settings(database_url: str, uploads: Path, *, env: str = "production") -> dict[str, str]:
    """As in production for gunicorn; ``development`` for a command alone (production warns
    on stderr that rate limits are counted per process)."""
    return production_env(
        database_url,
        uploads,  # the mail stays queued: no SMTP server here
        PORTAL_ENV=env,
        PORTAL_SECRET_KEY=SECRET_KEY,  # the same for both servers: status links stay valid
        PORTAL_SUBMIT_RATE_LIMIT="10000 per hour",
    )


@dataclass(frozen=True)
class Timed:
    submitted: Submitted
    began: float
    ended: float


# --- SQLite: a backup while the portal takes reports, and the restore -----------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_backup_made_while_residents_report_restores_every_signal_and_photo(
    database_url, tmp_path
):
    database, uploads, backups = sqlite_file(database_url), tmp_path / "uploads", tmp_path / "bk"
    env = portal_settings(database_url, uploads)
    already = {reference for (reference,) in rows(database, "SELECT reference FROM signals")}
    reports: list[Timed] = []
    numbers = itertools.count()
    stop = threading.Event()

    def keep_reporting(server) -> None:  # type: ignore[no-untyped-def]
        while not stop.is_set():
            began = time.monotonic()
            submitted = resident([server, server], next(numbers))
            reports.append(Timed(submitted, began, time.monotonic()))

    with gunicorn(env, tmp_path / "gunicorn.log") as server:
        wait_until_up(server)
        with ThreadPoolExecutor(REPORTERS) as pool:
            reporters = [pool.submit(keep_reporting, server) for _ in range(REPORTERS)]
            try:
                wait_until(lambda: len(reports) >= FIRST_REPORTS, "the first reports", timeout=90)
                backup_began = time.monotonic()
                # One page per step: the copy takes many steps, with the portal's commits
                # between them.
                made = flask(
                    env, "backup", "--out", str(backups), "--name", "b", "--step-pages", "1"
                )
                backup_ended = time.monotonic()
                wait_until(
                    lambda: any(r.began > backup_ended for r in reports),
                    "a report after the backup",
                    timeout=60,
                )
            finally:
                stop.set()
            for reporter in reporters:
                reporter.result()
        server.started.check_running("gunicorn")
    assert made.returncode == 0, made.stderr
    backup = backups / "b"
    assert made.stdout.startswith(f"Backup in {backup}: ")
    assert sorted(p.name for p in backups.iterdir()) == ["b"]  # no partial folder left

    # The portal kept taking reports while the database was copied.
    assert [r for r in reports if backup_began < r.began and r.ended < backup_ended]

    # The backup is one consistent moment: everything reported before it began, nothing
    # reported after it ended, every photo row with its file and checksum.
    manifest = json.loads((backup / "manifest.json").read_text())
    copy = backup / "portal.sqlite3"
    assert rows(copy, "PRAGMA integrity_check") == [("ok",)]
    in_backup = {reference for (reference,) in rows(copy, "SELECT reference FROM signals")}
    by_reference = {r.submitted.reference: r for r in reports}
    assert in_backup - already <= set(by_reference)
    assert {r.submitted.reference for r in reports if r.ended < backup_began} <= in_backup
    assert not {r.submitted.reference for r in reports if r.began > backup_ended} & in_backup
    assert manifest["database"]["signals"] == len(in_backup)
    assert (
        manifest["database"]["alembic_revision"]
        == rows(database, "SELECT version_num FROM alembic_version")[0][0]
    )
    photo_rows = rows(
        copy,
        "SELECT s.reference, a.stored_name FROM attachments a JOIN signals s ON s.id = a.signal_id",
    )
    with_photo = {r.submitted.reference for r in reports if r.submitted.photo}
    assert {reference for reference, _ in photo_rows} == with_photo & in_backup
    backed_up = tree(backup / "uploads")
    assert backed_up == manifest["uploads"]["sha256"]
    assert manifest["uploads"]["files"] == len(backed_up)
    assert manifest["missing_attachment_files"] == []
    for _, stored_name in photo_rows:
        assert stored_name in backed_up
    photo_of = dict(photo_rows)

    # Everything gone; the restore puts the backup back and the portal serves it again.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(uploads)
    restored = flask(env, "restore", "--from", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert rows(database, "PRAGMA integrity_check") == [("ok",)]
    assert {ref for (ref,) in rows(database, "SELECT reference FROM signals")} == in_backup
    assert tree(uploads) == backed_up

    browser = Browser("10.30.0.1")
    with gunicorn(env, tmp_path / "gunicorn-after.log") as server:
        wait_until_up(server)
        for reference in sorted(in_backup - already):
            item = by_reference[reference].submitted
            page = browser.get(server, item.status_path)
            assert page.status == 200, reference
            assert reference in page.text
            photo_links = PHOTO_LINK.findall(page.text)
            if item.photo is None:
                assert photo_links == []
                continue
            [photo_link] = photo_links
            photo = browser.get(server, photo_link)
            assert photo.status == 200
            assert sha256(photo.body) == backed_up[photo_of[reference]]
            assert Image.open(io.BytesIO(photo.body)).size == item.photo


# --- restore refuses, and changes nothing ---------------------------------------------------


def stored_photo(app, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    store = PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])
    return store.accept(io.BytesIO(jpeg(size)))


def dispose(app) -> None:  # type: ignore[no-untyped-def]
    """Closes the app's connections, so that the last one writes the WAL into the file."""
    with app.app_context():
        db.engine().dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_a_tampered_backup_and_a_target_with_signals(app, database_url, tmp_path):
    database, uploads = sqlite_file(database_url), Path(app.config["UPLOAD_FOLDER"])
    env = portal_settings(database_url, uploads, env="development")
    kept, _ = make_signal(app, title="In de backup", photos=[stored_photo(app, (41, 30))])
    dispose(app)
    made = flask(env, "backup", "--out", str(tmp_path / "bk"), "--name", "good")
    assert made.returncode == 0, made.stderr
    good = tmp_path / "bk" / "good"
    later, _ = make_signal(app, title="Na de backup", photos=[stored_photo(app, (42, 30))])
    dispose(app)

    def state() -> tuple[str, dict[str, str], list[str]]:
        assert not Path(f"{database}-wal").exists()
        leftovers = sorted(p.name for p in database.parent.iterdir() if p.name.startswith("."))
        return sha256(database.read_bytes()), tree(uploads), leftovers

    before = state()
    assert len(before[1]) == 2

    refused = flask(env, "restore", "--from", str(good))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: The database {database} holds 2 signal(s); restore with --force to replace "
        "them and the uploads."
    ]
    assert state() == before

    tampered = tmp_path / "bk" / "tampered"
    shutil.copytree(good, tampered)
    [photo] = (tampered / "uploads").iterdir()
    data = bytearray(photo.read_bytes())
    data[len(data) // 2] ^= 0x01
    photo.write_bytes(bytes(data))
    refused = flask(env, "restore", "--from", str(tampered), "--force")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: {photo} does not match its checksum in the manifest."
    ]
    assert state() == before

    # The same backup untouched, with --force: the signal made after it is gone.
    restored = flask(env, "restore", "--from", str(good), "--force")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("Restored 1 signal(s) and 1 upload file(s)")
    with db_session(app) as session:
        assert list(session.scalars(select(Signal.reference))) == [kept]
        [stored_name] = session.scalars(select(Attachment.stored_name))
    assert later != kept
    assert tree(uploads) == tree(good / "uploads") == {stored_name: before[1][stored_name]}
    assert not [p for p in database.parent.iterdir() if p.name.startswith(".")]


def test_a_backup_of_an_older_schema_is_migrated_to_this_version_on_restore(tmp_path):
    scripts = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = scripts.get_current_head()
    older = scripts.get_revision(head).down_revision
    assert isinstance(older, str)
    source, target = tmp_path / "old.sqlite3", tmp_path / "new" / "portal.sqlite3"
    migrate.upgrade(f"sqlite:///{source}", older)
    made = flask(
        portal_settings(f"sqlite:///{source}", tmp_path / "up", env="development"),
        *("backup", "--out", str(tmp_path / "bk"), "--name", "old"),
    )
    assert made.returncode == 0, made.stderr
    manifest = json.loads((tmp_path / "bk" / "old" / "manifest.json").read_text())
    assert manifest["database"]["alembic_revision"] == older

    restored = flask(
        portal_settings(f"sqlite:///{target}", tmp_path / "up-new", env="development"),
        *("restore", "--from", str(tmp_path / "bk" / "old")),
    )
    assert restored.returncode == 0, restored.stderr
    assert rows(target, "SELECT version_num FROM alembic_version") == [(head,)]


# --- PostgreSQL: pg_dump and pg_restore ------------------------------------------------------


def postgres_tool(name: str) -> str:
    """pg_dump and pg_restore of the same installation as the fixtures' initdb."""
    initdb = shutil.which("initdb")
    assert initdb is not None
    tool = Path(initdb).resolve().with_name(name)
    assert tool.is_file(), tool
    return str(tool)


def photo_and_signal_rows(app) -> tuple[list[tuple], list[tuple]]:  # type: ignore[no-untyped-def]
    with db_session(app) as session:
        signals = session.execute(
            select(Signal.id, Signal.reference, Signal.title, Signal.created_at).order_by(Signal.id)
        ).all()
        photos = session.execute(
            select(
                Attachment.id,
                Attachment.signal_id,
                Attachment.stored_name,
                Attachment.byte_size,
                Attachment.width,
            ).order_by(Attachment.id)
        ).all()
    return [tuple(r) for r in signals], [tuple(r) for r in photos]


def tables_in(database_url: str) -> int:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        count = connection.scalar(
            text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        )
    engine.dispose()
    return count or 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_backup_refuses_postgresql_whose_pg_dump_and_pg_restore_bring_everything_back(
    app, database_url, postgres: PostgresCluster, tmp_path
):
    uploads = Path(app.config["UPLOAD_FOLDER"])
    env = portal_settings(database_url, uploads, env="development")
    for n in range(6):
        photos = [stored_photo(app, (40 + n, 30))] if n % 2 == 0 else []
        make_signal(app, title=f"Signaal {n}", photos=photos)
    signals, photos = photo_and_signal_rows(app)
    assert (len(signals), len(photos)) == (6, 3)
    files = tree(uploads)

    refused = flask(env, "backup", "--out", str(tmp_path / "bk"))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: The database is PostgreSQL: back it up with pg_dump --format=custom and copy "
        "the upload folder after it (README, 'Backups')."
    ]
    assert not (tmp_path / "bk").exists()

    # README, "Backups": the database first, then the uploads.
    dump = tmp_path / "portal.dump"
    subprocess.run(
        [postgres_tool("pg_dump"), "--format=custom", f"--file={dump}", database_url],
        check=True,
        capture_output=True,
    )
    shutil.copytree(uploads, tmp_path / "uploads-backup")

    name = make_url(database_url).database
    dispose(app)
    postgres.execute(f"DROP DATABASE {name} WITH (FORCE)")
    postgres.execute(f"CREATE DATABASE {name}")
    shutil.rmtree(uploads)
    assert tables_in(database_url) == 0

    subprocess.run(
        [postgres_tool("pg_restore"), "--clean", "--if-exists", f"--dbname={database_url}", dump],
        check=True,
        capture_output=True,
    )
    shutil.copytree(tmp_path / "uploads-backup", uploads)
    assert photo_and_signal_rows(app) == (signals, photos)
    assert tree(uploads) == files
    assert {stored_name for _, _, stored_name, _, _ in photos} <= set(files)
