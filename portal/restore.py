"""Putting a backup made by :mod:`portal.backup` back, on SQLite, with the portal stopped.

Everything is checked before anything is changed: the manifest's checksums (database and
every upload file, none missing, none extra), the copy's integrity, that this code knows the
backup's schema revision, and that the target holds no signals (unless forced). The database
and the uploads are then copied beside their places under temporary names and renamed into
place, so a restore that fails halfway leaves the old data. Last, the migrations bring an
older backup up to this code's schema."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal import migrate
from portal.backup import (
    DATABASE_FILE,
    FORMAT,
    MANIFEST,
    UPLOADS,
    BackupError,
    copy_tree,
    database_facts,
    file_sha256,
    files_under,
    sqlite_path,
)


@dataclass(frozen=True)
class RestoreReport:
    signals: int
    files: int
    revision: str | None

    def __str__(self) -> str:
        return (
            f"Restored {self.signals} signal(s) and {self.files} upload file(s); "
            f"database migrated from {self.revision or 'no revision'} to head."
        )


def restore_backup(
    folder: Path, database_url: str, upload_folder: Path, *, force: bool = False
) -> RestoreReport:
    target = sqlite_path(database_url)
    manifest = verify_backup(folder)
    revision = manifest["database"]["alembic_revision"]
    if revision is not None and not migrate.knows_revision(database_url, revision):
        raise BackupError(
            f"The backup's schema revision {revision} is unknown to this version of the "
            "portal (a backup of newer code?)."
        )
    held = signals_in(target)
    if held and not force:
        raise BackupError(
            f"The database {target} holds {held} signal(s); restore with --force to replace "
            "them and the uploads."
        )
    _refuse_when_in_use(target)

    staged_database = target.with_name(f".{target.name}.restoring")
    staged_uploads = upload_folder.with_name(f".{upload_folder.name}.restoring")
    replaced_uploads = upload_folder.with_name(f".{upload_folder.name}.replaced")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / DATABASE_FILE, staged_database)
        shutil.rmtree(staged_uploads, ignore_errors=True)
        copied = copy_tree(folder / UPLOADS, staged_uploads)
        # Checked again as copied: the backup may sit on a disk that misreads.
        if (
            file_sha256(staged_database) != manifest["database"]["sha256"]
            or copied != manifest["uploads"]["sha256"]
        ):
            raise BackupError("The copy made for the restore differs from the backup.")
        _fsync(staged_database, *files_under(staged_uploads))
    except BaseException:
        staged_database.unlink(missing_ok=True)
        shutil.rmtree(staged_uploads, ignore_errors=True)
        raise

    shutil.rmtree(replaced_uploads, ignore_errors=True)
    if upload_folder.exists():
        upload_folder.rename(replaced_uploads)
    staged_uploads.rename(upload_folder)
    try:
        os.replace(staged_database, target)
    except BaseException:
        shutil.rmtree(upload_folder, ignore_errors=True)
        if replaced_uploads.exists():
            replaced_uploads.rename(upload_folder)
        staged_database.unlink(missing_ok=True)
        raise
    # The old database's WAL was emptied above; left beside the new file it would be read as
    # the new file's.
    for suffix in ("-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(replaced_uploads, ignore_errors=True)

    migrate.upgrade(database_url)
    return RestoreReport(
        signals=manifest["database"]["signals"], files=len(copied), revision=revision
    )


def verify_backup(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once every file matches it; BackupError says what does not."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: not a portal backup.") from None
    except ValueError as error:
        raise BackupError(f"{folder / MANIFEST} is not valid JSON: {error}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST} has format {manifest.get('format')!r}.")
    database = folder / DATABASE_FILE
    if not database.is_file() or file_sha256(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} does not match its checksum in the manifest.")
    uploads = folder / UPLOADS
    expected: dict[str, str] = manifest["uploads"]["sha256"]
    found = {path.relative_to(uploads).as_posix(): path for path in files_under(uploads)}
    if missing := sorted(set(expected) - set(found)):
        raise BackupError(f"{uploads / missing[0]} is in the manifest but not in the backup.")
    if extra := sorted(set(found) - set(expected)):
        raise BackupError(f"{uploads / extra[0]} is in the backup but not in the manifest.")
    for relative, path in found.items():
        if file_sha256(path) != expected[relative]:
            raise BackupError(f"{path} does not match its checksum in the manifest.")
    database_facts(database)  # refuses a damaged file
    return manifest


def signals_in(database: Path) -> int:
    if not database.is_file():
        return 0
    connection = sqlite3.connect(database, timeout=30)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        if "signals" not in tables:
            return 0
        return connection.execute("SELECT count(*) FROM signals").fetchone()[0]
    finally:
        connection.close()


def _refuse_when_in_use(database: Path) -> None:
    """Moves what waits in the target's WAL into it (so no WAL is left to mix with the new
    file) and refuses when that cannot finish: another process is reading or writing."""
    if not database.is_file():
        return
    connection = sqlite3.connect(database, isolation_level=None, timeout=5)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        connection.close()
    if busy:
        raise BackupError(f"The database {database} is in use: stop the portal first.")


def _fsync(*paths: Path) -> None:
    for path in paths:
        with path.open("rb") as opened:
            os.fsync(opened.fileno())
