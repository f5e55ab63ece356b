"""``jobs run`` started on two hosts at once runs each job once: a lease per job in the
database (portal/jobs.py, table job_locks). Real ``flask jobs run`` processes on SQLite and
PostgreSQL; the jobs are the real ones, held at their start by a test harness so that the
two runners really overlap, job after job."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

import portal.jobs
from portal.extensions import db
from portal.jobs import JOBS, Job, JobContext, run_due, sweep_uploads
from portal.models import JobLock, utcnow

REPO = Path(__file__).resolve().parents[1]
FLASK = Path(sys.executable).with_name("flask")
DEADLINE_SECONDS = 60
NAMES = [job.name for job in JOBS]


# --- the harness inside the runner processes -------------------------------------------------


def lockstep_app() -> Flask:
    """The portal, with every job held at its start until the test lets it go: it writes
    "<job> <pid>" to LOCKSTEP_DIR/started (so the test sees who took it) and waits for the
    file LOCKSTEP_DIR/release-<job>. The job itself is the real one."""
    from portal import create_app

    folder = Path(os.environ["LOCKSTEP_DIR"])

    def held(job: Job) -> Job:
        def run(context: JobContext) -> str:
            with (folder / "started").open("a") as log:
                log.write(f"{job.name} {os.getpid()}\n")
            deadline = time.monotonic() + DEADLINE_SECONDS
            while not (folder / f"release-{job.name}").exists():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{job.name} was never released")
                time.sleep(0.01)
            return job.run(context)

        return Job(job.name, run, job.lease)

    portal.jobs.JOBS = tuple(held(job) for job in JOBS)
    return create_app()


# --- the test side ---------------------------------------------------------------------------


class Lockstep:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def started(self) -> dict[str, list[int]]:
        """Job name -> pids of the runs that started it (in order)."""
        path = self.folder / "started"
        runs: dict[str, list[int]] = {}
        for line in path.read_text().splitlines() if path.exists() else []:
            name, pid = line.split()
            runs.setdefault(name, []).append(int(pid))
        return runs

    def wait_until_started(self, name: str, runners: list[subprocess.Popen[str]]) -> int:
        """The pid of the runner that took ``name``; fails as soon as a job has started twice."""

        def has_started() -> bool:
            twice = {job: pids for job, pids in self.started().items() if len(pids) > 1}
            assert not twice, f"started by two runners at once: {twice}"
            return name in self.started()

        wait_for(has_started, f"{name} to start", runners)
        return self.started()[name][0]

    def release(self, name: str) -> None:
        (self.folder / f"release-{name}").touch()


def wait_for(
    condition: Callable[[], bool], what: str, runners: Sequence[subprocess.Popen[str]] = ()
) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        for runner in runners:
            if runner.poll() is not None and runner.returncode != 0:
                raise AssertionError(f"a runner failed while waiting for {what}: {output(runner)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def output(runner: subprocess.Popen[str]) -> str:
    stdout, stderr = runner.communicate(timeout=DEADLINE_SECONDS)
    return stdout + stderr


def job_lines(text: str) -> dict[str, str]:
    """What ``jobs run`` said per job ("<job>: <summary>"), without any log lines."""
    lines = (line.split(": ", 1) for line in text.splitlines())
    return {parts[0]: parts[1] for parts in lines if len(parts) == 2 and parts[0] in NAMES}


def runner_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_", "FLASK_"))},
        "PORTAL_ENV": "development",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PORTAL_OUTBOX_DELIVERY": "off",
        "LOCKSTEP_DIR": str(tmp_path),
        "PYTHONPATH": str(REPO),
    }


@contextmanager
def runners(count: int, database_url: str, tmp_path: Path) -> Iterator[list[subprocess.Popen[str]]]:
    """``count`` ``flask jobs run`` processes started at once."""
    command = [str(FLASK), "--app", "tests.test_job_locks:lockstep_app", "jobs", "run"]
    env = runner_env(database_url, tmp_path)
    started = [
        subprocess.Popen(
            command, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=DEADLINE_SECONDS)


def holder(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}"


def locks(app: Flask) -> dict[str, JobLock]:
    with app.app_context():
        return {lock.name: lock for lock in db.session.scalars(select(JobLock))}


def test_two_runners_started_at_once_run_every_job_exactly_once(app, database_url, tmp_path):
    steps = Lockstep(tmp_path)
    with runners(2, database_url, tmp_path) as both:
        pids = {process.pid for process in both}
        # Every job is let go only once the next one has started, so whichever runner
        # finishes a job finds the next one taken: the two runners overlap all the way.
        for this, following in itertools.pairwise(NAMES):
            steps.wait_until_started(this, both)
            steps.wait_until_started(following, both)
            steps.release(this)
        last_runner = steps.wait_until_started(NAMES[-1], both)
        [other] = [process for process in both if process.pid != last_runner]
        # The other runner must have passed the last job (skipped it) before it is let go.
        wait_for(lambda: other.poll() is not None, "the other runner to finish", both)
        steps.release(NAMES[-1])
        outputs = {process.pid: output(process) for process in both}
        codes = {process.pid: process.returncode for process in both}

    assert codes == dict.fromkeys(pids, 0), outputs
    started = steps.started()
    assert sorted(started) == sorted(NAMES)
    assert all(len(runs) == 1 for runs in started.values()), started
    ran_by = {name: runs[0] for name, runs in started.items()}
    assert set(ran_by.values()) == pids, "both runners ran jobs"
    for pid, text in outputs.items():
        [other_pid] = pids - {pid}
        lines = job_lines(text)
        assert sorted(lines) == sorted(NAMES), text
        for name, summary in lines.items():
            if ran_by[name] == pid:
                assert not summary.startswith(("skipped", "failed")), (name, summary)
            else:
                assert summary.startswith(f"skipped: running on {holder(other_pid)} (lease until")
    rows = locks(app)
    for name in NAMES:
        assert (rows[name].holder, rows[name].locked_until) == (None, None)
        assert rows[name].last_summary == job_lines(outputs[ran_by[name]])[name]
        assert rows[name].last_started_at <= rows[name].last_finished_at


def test_a_crashed_runner_holds_its_job_until_its_lease_ends(app, runner, database_url, tmp_path):
    steps = Lockstep(tmp_path)
    first = NAMES[0]
    with runners(1, database_url, tmp_path) as [crashing]:
        steps.wait_until_started(first, [crashing])
        os.kill(crashing.pid, signal.SIGKILL)  # dies inside the job: nothing lets go of it
        crashing.wait(timeout=DEADLINE_SECONDS)
    crashed = holder(crashing.pid)

    soon_after = runner.invoke(args=["jobs", "run"])
    assert soon_after.exit_code == 0, soon_after.output
    assert f"{first}: skipped: running on {crashed} (lease until" in soon_after.output
    for name in NAMES[1:]:
        assert f"{name}: skipped" not in soon_after.output
    status = runner.invoke(args=["jobs", "status"])
    assert f"{first}: running on {crashed} until" in status.output
    assert "(ended" not in status.output

    # When the lease has ended, the next runner takes the job over.
    lease = dict(zip(NAMES, [job.lease for job in JOBS], strict=True))[first]
    later = utcnow() + lease + timedelta(minutes=1)
    with app.app_context():
        context = JobContext(db.session, Path(app.config["UPLOAD_FOLDER"]), later)
        [result] = run_due(context, [job for job in JOBS if job.name == first], clock=lambda: later)
    assert (result.ok, result.skipped) == (True, False), result
    assert first == "retention" and result.summary.startswith("contact data removed from 0")
    row = locks(app)[first]
    assert (row.holder, row.locked_until, row.last_summary) == (None, None, result.summary)
    assert row.last_finished_at == later


def test_a_lease_is_counted_per_job(app):
    """A short lease ends sooner: a job that is due often can say so with its own."""
    quick = Job("upload-sweep", sweep_uploads, timedelta(milliseconds=50))
    with app.app_context():
        context = JobContext(db.session, Path(app.config["UPLOAD_FOLDER"]), utcnow())
        taken = portal.jobs.take_lease(db.session, quick.name, "dood:1", quick.lease)
        assert isinstance(taken, portal.jobs.Lease)
        [held] = run_due(context, [quick])
        assert held.skipped and held.summary.startswith("skipped: running on dood:1")
        wait_for(lambda: utcnow() > taken.until, "the short lease to end")
        [result] = run_due(context, [quick])
    assert (result.ok, result.skipped) == (True, False), result
    assert locks(app)["upload-sweep"].holder is None


def test_a_failing_job_lets_go_of_its_lock(app, runner):
    def broken(context: JobContext) -> str:
        context.session.execute(select(JobLock))  # something in its transaction
        raise RuntimeError("schijf vol")

    with app.app_context():
        context = JobContext(db.session, Path(app.config["UPLOAD_FOLDER"]), utcnow())
        results = run_due(context, (("broken", broken), ("upload-sweep", sweep_uploads)))
        again = run_due(context, (("broken", broken),))
    assert [(r.name, r.ok, r.skipped) for r in results] == [
        ("broken", False, False),
        ("upload-sweep", True, False),
    ]
    # Run again at once: not held by the failed run.
    assert [(r.ok, r.skipped, r.summary) for r in again] == [(False, False, "failed: schijf vol")]
    row = locks(app)["broken"]
    assert (row.holder, row.locked_until, row.last_summary) == (None, None, "failed: schijf vol")
    status = runner.invoke(args=["jobs", "status"])
    assert status.exit_code == 0, status.output
    assert "upload-sweep: idle; last started" in status.output
    assert "question-reminders: never run" in status.output
