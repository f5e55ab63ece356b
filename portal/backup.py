"""Backups of a SQLite portal while it runs, and putting one back.

A backup is a folder with the database file, a copy of the upload folder and a manifest
(``manifest.json``: when, the schema revision, counts and a SHA-256 per file). The database is
copied first, from one read snapshot: SQLite's backup API copies it in steps while the source
connection keeps its read transaction open, so the copy is the database as it was at one
moment and the portal's writers carry on meanwhile (WAL). The uploads are copied after that:
a photo is written before the signal that uses it is committed, so every attachment in the
copy has its file. Files of later signals come along too; the upload sweep (``jobs run``)
removes the loose ones after a restore.

PostgreSQL is refused: ``pg_dump`` makes its backups (README, "Backups")."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url

MANIFEST = "manifest.json"
DATABASE_FILE = "portal.sqlite3"
UPLOADS = "uploads"
FORMAT = 1
# Pages per backup step (4 MiB at SQLite's default page size); between steps the copy sleeps
# briefly, so the disk is not the backup's alone.
STEP_PAGES = 1024
STEP_SLEEP_SECONDS = 0.005
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """Why a backup or a restore was not made; nothing was changed."""


@dataclass(frozen=True)
class BackupReport:
    folder: Path
    signals: int
    attachments: int
    files: int
    missing: list[str]  # attachment files the upload folder no longer had

    def __str__(self) -> str:
        return (
            f"Backup in {self.folder}: {self.signals} signal(s), {self.attachments} photo "
            f"row(s), {self.files} upload file(s)."
        )


def sqlite_path(database_url: str) -> Path:
    """The database file of a SQLite URL; PostgreSQL and in-memory databases are refused."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        raise BackupError(
            "The database is PostgreSQL: back it up with pg_dump --format=custom and copy the "
            "upload folder after it (README, 'Backups')."
        )
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(f"Only a SQLite database file can be backed up, not {url!r}.")
    return Path(url.database)


# --- backup ---------------------------------------------------------------------------------


def make_backup(
    database_url: str,
    upload_folder: Path,
    out: Path,
    *,
    name: str | None = None,
    now: datetime | None = None,
    step_pages: int = STEP_PAGES,
) -> BackupReport:
    source = sqlite_path(database_url)
    if not source.is_file():
        raise BackupError(f"No database at {source}.")
    if name is not None and (Path(name).name != name or name.startswith(".")):
        raise BackupError(f"The backup's name must be a plain folder name, not {name!r}.")
    now = now or datetime.now(UTC)
    folder = out / (name or f"portal-backup-{now:%Y%m%dT%H%M%SZ}")
    if folder.exists():
        raise BackupError(f"{folder} exists already.")
    # Built under a hidden name and renamed when whole: a folder with the final name is a
    # complete backup.
    partial = out / f".{folder.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        database = partial / DATABASE_FILE
        _copy_database(source, database, step_pages)
        facts = database_facts(database)
        files = copy_tree(upload_folder, partial / UPLOADS)
        missing = sorted(
            stored for stored in facts.attachment_names if stored not in files
        )  # removed after the snapshot (retention): the restored signal lacks that photo
        manifest = {
            "format": FORMAT,
            "created_at": now.isoformat(timespec="seconds"),
            "portal_version": _portal_version(),
            "database": {
                "file": DATABASE_FILE,
                "sha256": file_sha256(database),
                "alembic_revision": facts.revision,
                "signals": facts.signals,
                "attachments": len(facts.attachment_names),
            },
            "uploads": {"folder": UPLOADS, "files": len(files), "sha256": files},
            "missing_attachment_files": missing,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _fsync_tree(partial)
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupReport(folder, facts.signals, len(facts.attachment_names), len(files), missing)


def _copy_database(source: Path, target: Path, step_pages: int) -> None:
    reader = sqlite3.connect(source, isolation_level=None, timeout=30)
    writer = sqlite3.connect(target, isolation_level=None)
    try:
        # One read transaction for all steps: SQLite would otherwise start the copy again
        # after every commit of the portal's and, under steady writes, never finish.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        reader.backup(writer, pages=step_pages, sleep=STEP_SLEEP_SECONDS)
        reader.execute("COMMIT")
        # A file of its own: no -wal beside it to forget when it is copied elsewhere.
        writer.execute("PRAGMA journal_mode=DELETE").fetchone()
    finally:
        writer.close()
        reader.close()


@dataclass(frozen=True)
class _Facts:
    revision: str | None
    signals: int
    attachment_names: list[str]


def database_facts(path: Path) -> _Facts:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        [check] = connection.execute("PRAGMA integrity_check").fetchone()
        if check != "ok":
            raise BackupError(f"The database copy {path} is damaged: {check}")
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        revision = None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        signals = 0
        if "signals" in tables:
            signals = connection.execute("SELECT count(*) FROM signals").fetchone()[0]
        names: list[str] = []
        if "attachments" in tables:
            names = [row[0] for row in connection.execute("SELECT stored_name FROM attachments")]
        return _Facts(revision, signals, names)
    finally:
        connection.close()


def copy_tree(source: Path, target: Path) -> dict[str, str]:
    """Copies every file under ``source`` (its times kept: the upload sweep goes by age) and
    returns each relative path with the SHA-256 of what was written."""
    target.mkdir(parents=True, exist_ok=True)
    checksums: dict[str, str] = {}
    for path in files_under(source):
        relative = path.relative_to(source).as_posix()
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            checksums[relative] = _copy_file(path, destination)
        except FileNotFoundError:
            continue  # removed since it was listed (the upload sweep): nobody uses it
    return checksums


def files_under(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for root, directories, names in os.walk(folder):
        directories.sort()
        for name in sorted(names):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _copy_file(source: Path, target: Path) -> str:
    digest = hashlib.sha256()
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
            writing.write(chunk)
    shutil.copystat(source, target)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as reading:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in files_under(folder):
        with path.open("rb") as opened:
            os.fsync(opened.fileno())


def _portal_version() -> str | None:
    try:
        return metadata.version("wijkzaken-portal")
    except metadata.PackageNotFoundError:
        return None
