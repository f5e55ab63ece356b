"""The database goes away while the portal runs, and comes back: a friendly 503 page (never a
traceback), the report form shown again with everything the resident typed, and the first
request after the database returns succeeds, with the signal stored once. The outbox worker
waits for it and goes on without a restart; ``jobs run`` says it is away and works again
once it is back.

PostgreSQL: a cluster of the test's own, really stopped (``pg_ctl stop -m immediate``) and
started again. SQLite has no server to stop: its folder goes away (a volume unmounted) and
the process's open connections with it, then it returns."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db
from portal.models import Attachment, OutboxMessage, Signal
from tests.conftest import app_settings, csrf_token
from tests.factories import db_session
from tests.fixtures.databases import PostgresCluster, _seed_template
from tests.fixtures.servers import REPO, flask_command, production_env, wait_until

pytestmark = pytest.mark.slow

TITLE = "Stoeptegel los bij de school"
DESCRIPTION = "Bij de ingang van de basisschool ligt een stoeptegel los; kinderen struikelen."
SUBMISSION_KEY = re.compile(r'name="submission_key"[^>]*value="([^"]+)"')


@dataclass
class Outage:
    app: Flask
    stop: object
    resume: object


@pytest.fixture(params=["sqlite", "postgresql"])
def outage(request, sqlite_template: Path, smtp, tmp_path: Path) -> Iterator[Outage]:  # type: ignore[no-untyped-def]
    # The tests' own settings; the database URL is set below, per kind.
    config = app_settings("", smtp.port, tmp_path)
    if request.param == "sqlite":
        folder = tmp_path / "database"
        folder.mkdir()
        shutil.copyfile(sqlite_template, folder / "portal.sqlite3")
        app = create_app({**config, "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}"})
        away = tmp_path / "database-away"

        def stop() -> None:
            folder.rename(away)
            db.engine(app).dispose()  # the connections the process held went with it

        def resume() -> None:
            away.rename(folder)

        yield Outage(app, stop, resume)
        db.engine(app).dispose()
        return
    if shutil.which("initdb") is None:
        pytest.fail("PostgreSQL (initdb) is needed for this test")
    # Outside pytest's own temporary folders, which the postgres user may not enter.
    root = Path(tempfile.mkdtemp(prefix="portal-pg-outage-"))
    cluster = PostgresCluster(root)
    cluster.start()
    try:
        cluster.execute("CREATE DATABASE portal")
        _seed_template(cluster.url("portal"))
        app = create_app({**config, "DATABASE_URL": cluster.url("portal")})

        def crash() -> None:
            # The test cluster runs without durability (fsync and synchronous commit off,
            # for speed): a checkpoint first, so that what it committed survives the crash,
            # as it does on a real server.
            cluster.execute("CHECKPOINT")
            cluster.stop()

        yield Outage(app, crash, cluster.resume)
        db.engine(app).dispose()
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def form_data(client, **extra: object) -> dict[str, object]:  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/melden")
    page = client.get("/melden").get_data(as_text=True)
    return {
        "csrf_token": token,
        "submission_key": SUBMISSION_KEY.search(page).group(1),  # type: ignore[union-attr]
        "kind": "knelpunt",
        "themes": "heel",
        "title": TITLE,
        "description": DESCRIPTION,
        "wijk": "WK040203",
        "name": "Jan Jansen",
        "email": "jan.jansen@example.nl",
        **extra,
    }


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 20)).save(out, "JPEG")
    return out.getvalue()


def test_a_stopped_database_gives_a_friendly_page_and_keeps_the_form(outage: Outage) -> None:
    client = outage.app.test_client()
    data = form_data(client)

    outage.stop()
    refused = client.post(
        "/melden",
        data={**data, "photos": (io.BytesIO(jpeg()), "stoep.jpg")},
        content_type="multipart/form-data",
    )
    status_page = client.get("/status/" + "x" * 43)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "60"
    page = refused.get_data(as_text=True)
    assert "Traceback" not in page
    assert "nog niet verstuurd" in page
    # Everything typed is still there, the photo still chosen.
    assert f'value="{TITLE}"' in page and DESCRIPTION in page
    assert 'value="jan.jansen@example.nl"' in page
    kept = re.findall(r'name="kept_photos" value="([^"]+)"', page)
    assert len(kept) == 1
    assert status_page.status_code == 503
    assert "Even niet beschikbaar" in status_page.get_data(as_text=True)

    outage.resume()
    sent = client.post(
        "/melden",
        data={**data, "kept_photos": kept[0]},
        content_type="multipart/form-data",
    )

    assert sent.status_code == 303, sent.get_data(as_text=True)[:2000]
    with db_session(outage.app) as session:
        [signal] = session.scalars(select(Signal).where(Signal.title == TITLE)).all()
        photos = session.scalar(
            select(func.count()).select_from(Attachment).where(Attachment.signal_id == signal.id)
        )
    assert photos == 1  # the photo chosen before the outage came along
    again = client.post("/melden", data=data, content_type="multipart/form-data")
    assert again.status_code == 303  # the same form once more: still one signal
    with db_session(outage.app) as session:
        assert session.scalar(select(func.count()).where(Signal.title == TITLE)) == 1


def jobs_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "portal", "jobs", "run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# PostgreSQL only: a separate process's SQLite connections keep the file open whatever
# happens to its folder, and an embedded database has no server that can stop.
@pytest.mark.parametrize("outage", ["postgresql"], indirect=True)
def test_the_outbox_worker_and_the_jobs_wait_for_the_database_and_go_on(
    outage: Outage, smtp, tmp_path: Path
) -> None:
    env = production_env(
        outage.app.config["DATABASE_URL"], tmp_path / "uploads", mail_port=smtp.port
    )
    log = tmp_path / "worker.log"
    with flask_command(env, log, "outbox", "send", "--loop", "--interval", "0.2") as worker:
        wait_until(
            lambda: "Delivering queued mail" in log.read_text(),
            "the worker to start",
            timeout=30,
            processes=[worker],
        )
        outage.stop()
        wait_until(
            lambda: "database unavailable" in log.read_text(),
            "the worker to notice",
            timeout=30,
            processes=[worker],
        )
        refused = jobs_run(env)
        assert refused.returncode == 1
        assert "Traceback" not in refused.stderr, refused.stderr
        assert "database unavailable" in refused.stderr

        outage.resume()
        with db_session(outage.app) as session:  # mail queued after the database returned
            session.add(
                OutboxMessage(
                    purpose="status_link",
                    recipient="jan.jansen@example.nl",
                    subject="Uw melding",
                    body_text="De link naar uw melding.",
                )
            )
            session.commit()
        [message] = smtp.wait_for(1, timeout=30)
        assert message["Subject"] == "Uw melding"
        assert worker.process.poll() is None  # the same worker, never restarted
    assert len(smtp.messages) == 1  # once
    again = jobs_run(env)
    assert again.returncode == 0, again.stderr
    assert "retention:" in again.stdout
