"""The outbox and memory benchmarks still run, at their smallest size (they time nothing here:
the numbers are in bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_bench(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def table(output: str) -> list[list[str]]:
    """The markdown table's rows (without the header and its rule), as cells."""
    lines = [line for line in output.splitlines() if line.startswith("|")]
    assert len(lines) >= 3, output
    assert set(lines[1]) <= set("|-: "), output
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def test_bench_outbox_tiny() -> None:
    output = run_bench("outbox", "--tiny", "--no-postgres")

    assert "Python" in output.splitlines()[0]  # the machine comes first
    rows = table(output)
    assert [row[0] for row in rows] == ["raw smtplib, one connection", "outbox, SQLite"]
    for row in rows:
        assert float(row[1].replace(",", "")) > 0  # messages per second
        assert row[4] == "1"  # one connection for the round


def test_bench_memory_tiny() -> None:
    output = run_bench("memory", "--tiny")

    assert "Python" in output.splitlines()[0]
    assert "failed: 0." in output
    rows = table(output)
    assert len(rows) == 2  # one per gunicorn worker
    for row in rows:
        assert row[0].startswith(("1 (pid", "2 (pid"))
        assert row[1].endswith(" MB") and row[2].endswith(" MB")
