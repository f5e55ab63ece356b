"""``flask --app portal backup`` and ``restore``: SQLite backups made while the portal runs
(portal/backup.py, portal/restore.py). PostgreSQL is backed up with pg_dump (README)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.backup import STEP_PAGES, BackupError, make_backup
from portal.restore import restore_backup


@click.command("backup")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", help="Name of the backup folder  [default: portal-backup-<UTC time>]")
@click.option(
    "--step-pages",
    type=click.IntRange(min=1),
    default=STEP_PAGES,
    show_default=True,
    help="Database pages copied per step; the portal's writes go on between steps.",
)
@with_appcontext
def backup_command(out: Path, name: str | None, step_pages: int) -> None:
    """Back up the SQLite database and the uploads while the portal runs (PostgreSQL: README)."""
    config = current_app.config
    try:
        report = make_backup(
            config["DATABASE_URL"],
            Path(config["UPLOAD_FOLDER"]),
            out,
            name=name,
            step_pages=step_pages,
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    for stored_name in report.missing:
        click.echo(f"Warning: photo {stored_name} was removed during the backup.", err=True)
    click.echo(str(report))


@click.command("restore")
@click.option("--from", "folder", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds signals.")
@with_appcontext
def restore_command(folder: Path, force: bool) -> None:
    """Put a SQLite backup back (stop the portal first), then migrate it to this version."""
    config = current_app.config
    try:
        report = restore_backup(
            folder, config["DATABASE_URL"], Path(config["UPLOAD_FOLDER"]), force=force
        )
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(report))
