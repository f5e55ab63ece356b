"""What a measurement ran on: printed above every result, so numbers can be compared."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata

PACKAGES = ("flask", "sqlalchemy", "jinja2", "werkzeug", "gunicorn", "psycopg", "flask-wtf")


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return "?"
    return f"{pages / 1024**3:.0f} GB"


def _postgres_version() -> str:
    try:
        out = subprocess.run(["postgres", "--version"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        try:
            out = subprocess.run(
                ["pg_config", "--version"], capture_output=True, text=True, timeout=5
            )
        except (OSError, subprocess.SubprocessError):
            return "not found"
    found = re.search(r"\d+(\.\d+)+", out.stdout)
    return found.group(0) if found else "not found"


def describe() -> str:
    """One paragraph: date, CPU, memory, load, Python, SQLite, PostgreSQL and package versions."""
    versions = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions.append(f"{name} {metadata.version(name)}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} CPUs ({_cpu_model()}), "
        f"{_memory_gb()} RAM, load average {load:.1f} at start; {platform.platform()}; "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {_postgres_version()}; " + ", ".join(versions)
    )
