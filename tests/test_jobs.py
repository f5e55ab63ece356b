"""``flask --app portal jobs run``: housekeeping against a real database and upload folder."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from PIL import Image

from portal.domain.intake import ReporterInput, Submission, submit_signal
from portal.domain.photos import PhotoStore, StoredPhoto
from portal.domain.routing import LocationInput
from portal.extensions import db
from portal.jobs import JobContext, run_due, sweep_uploads
from portal.vocabulary import Kind, Theme
from tests.factories import KERKELANDEN, intake_settings

DAY_AND_AN_HOUR = 25 * 3600


def store(app: Flask) -> PhotoStore:
    return PhotoStore(app.config["UPLOAD_FOLDER"], app.config["MAX_PHOTO_BYTES"])


def stored_photo(app: Flask) -> StoredPhoto:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, "JPEG")
    return store(app).accept(io.BytesIO(out.getvalue()))


def signal_with(app: Flask, photo: StoredPhoto) -> None:
    with app.app_context():
        submit_signal(
            db.session,
            Submission(
                kind=Kind.KNELPUNT,
                themes=[Theme.SCHOON],
                title="Afval bij de glasbak",
                description="Er ligt al dagen afval naast de glasbak op de hoek.",
                location=LocationInput(buurt_code=KERKELANDEN),
                photos=[photo],
                reporter=ReporterInput(email="bewoner@example.nl"),
            ),
            intake_settings(app),
        )
        db.session.commit()


def make_old(path: Path) -> None:
    then = time.time() - DAY_AND_AN_HOUR
    os.utime(path, (then, then))


def test_the_sweep_removes_only_old_uploads_that_no_signal_uses(app, runner):
    folder = Path(app.config["UPLOAD_FOLDER"])
    attached = stored_photo(app)
    signal_with(app, attached)
    abandoned = stored_photo(app)  # a form the resident never sent again
    fresh = stored_photo(app)  # a form that may still come back today
    stranger = folder / "leesmij.txt"  # not a name the store makes: not ours to remove
    stranger.write_text("van de beheerder")
    for name in (attached.stored_name, abandoned.stored_name, stranger.name):
        make_old(folder / name)

    result = runner.invoke(args=["jobs", "run"])

    assert result.exit_code == 0, result.output
    assert "upload-sweep: removed 1 loose upload(s)" in result.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [attached.stored_name, fresh.stored_name, stranger.name]
    )

    again = runner.invoke(args=["jobs", "run"])  # safe to run as often as cron likes
    assert again.exit_code == 0, again.output
    assert "removed 0 loose upload(s)" in again.output
    assert len(list(folder.iterdir())) == 3


def test_the_sweep_without_an_upload_folder_does_nothing(app, runner):
    assert not Path(app.config["UPLOAD_FOLDER"]).exists()
    result = runner.invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "removed 0 loose upload(s)" in result.output


def test_a_failing_job_does_not_stop_the_others(app):
    def broken(context: JobContext) -> str:
        raise RuntimeError("schijf vol")

    folder = Path(app.config["UPLOAD_FOLDER"])
    loose = stored_photo(app)
    make_old(folder / loose.stored_name)
    with app.app_context():
        context = JobContext(db.session, folder, datetime.now(UTC))
        results = run_due(context, (("broken", broken), ("upload-sweep", sweep_uploads)))
    assert [(r.name, r.ok) for r in results] == [("broken", False), ("upload-sweep", True)]
    assert "schijf vol" in results[0].summary
    assert not (folder / loose.stored_name).exists()
