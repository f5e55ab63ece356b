"""The public pages benchmark still runs at its smallest size, and what it checks holds: every
resident flow it counted stored exactly one signal. It times nothing here (bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_bench_pages_tiny() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "pages", "--tiny"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.strip("|").split("|")[1:]]
        for line in result.stdout.splitlines()
        if line.startswith("| ") and not line.startswith("| case")
    }
    assert set(rows) == {
        "GET /melden",
        "GET /status/<token>",
        "resident flow (GET, POST, GET)",
        "GET /privacy (for contrast)",
    }
    for case, cells in rows.items():
        assert float(cells[0].replace(",", "")) > 0, case  # portal per second
    assert float(rows["GET /melden"][4]) > 0  # a ratio against the bare stack
    flows = result.stdout.split("Confirmed flows: ")[1].split(";")[0]
    stored = result.stdout.split("signals stored meanwhile: ")[1].split(";")[0]
    assert int(flows) > 0 and flows == stored
