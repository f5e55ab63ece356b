"""The mail server is down while 50 residents report at once (gunicorn, 2 workers, after-commit
delivery as in production), then it comes back: every signal is stored and confirmed on the
page, no mail reaches anyone while the server is down, and ``outbox send --now`` then delivers
every queued mail exactly once, without waiting for the retry's backoff. On SQLite and on
PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.database import make_engine
from portal.models import OutboxMessage, Signal
from tests.fixtures.databases import free_port
from tests.fixtures.mailserver import SMTPServer
from tests.fixtures.servers import REPO, gunicorn, production_env, wait_until_up
from tests.test_scale_out import resident, resident_email

pytestmark = pytest.mark.slow

RESIDENTS = 50


def test_mail_waits_while_the_server_is_down_and_goes_once_when_it_is_back(database_url, tmp_path):
    mail_port = free_port()  # nothing listens here yet
    env = production_env(
        database_url,
        tmp_path / "uploads",
        mail_port=mail_port,
        PORTAL_OUTBOX_DELIVERY="thread",  # after commit, as in production
        PORTAL_MAIL_TIMEOUT="2",
    )
    with gunicorn(env, tmp_path / "gunicorn.log") as server:
        wait_until_up(server)
        with ThreadPoolExecutor(max_workers=8) as pool:
            submitted = list(pool.map(lambda n: resident([server, server], n), range(RESIDENTS)))

    engine = make_engine(database_url)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Signal)) == RESIDENTS
        queued = list(session.scalars(select(OutboxMessage)))
    assert len({s.reference for s in submitted}) == RESIDENTS
    assert {m.status for m in queued} == {"pending"}  # nothing lost, nothing sent
    assert all(m.next_attempt_at is not None for m in queued)

    mail = SMTPServer()
    mail.port = mail_port  # the server comes back where the portal looks for it
    mail.start()
    try:
        plain = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "portal", "outbox", "send", "--now"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert plain.returncode == 0, plain.stderr
        received = mail.wait_for(len(queued))
    finally:
        mail.stop()

    with Session(engine) as session:
        after = list(session.scalars(select(OutboxMessage)))
    engine.dispose()
    assert {m.status for m in after} == {"sent"}, plain.stdout
    # Every queued mail exactly once, each resident their own confirmation.
    assert Counter(int(m["X-Portal-Outbox-Id"]) for m in received) == dict.fromkeys(
        (m.id for m in after), 1
    )
    for item in submitted:
        [confirmation] = [m for m in received if str(m["To"]) == resident_email(item.n)]
        assert item.reference in confirmation.get_body(("plain",)).get_content()
