"""The inbox and nearby benchmarks still run (at their tiny size, one round: no timing is
checked here), on SQLite and, when PostgreSQL is installed, on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args, "--tiny"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize(
    ("measurement", "expected"),
    [
        ("inbox", ['| search "glasbak kapot" |', "| last page (all) |", "| overdue |"]),
        ("nearby", ["| open signals within 250 m |", "| HTTP: bare Flask endpoint |"]),
        ("steering", ["| management: last month (the default) |", "| public: /cijfers |"]),
    ],
)
def test_the_benchmark_runs_at_its_tiny_size(measurement, expected):
    out = bench(measurement)
    assert "CPUs" in out.splitlines()[0]  # the machine comes first
    assert "**SQLite" in out
    for line in expected:
        assert line in out
