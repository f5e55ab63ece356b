"""Where the non-Python parts live: inside the package when installed from a wheel, at the
top of the source tree otherwise (editable installs and checkouts)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    inside = PACKAGE_DIR / name
    if inside.is_dir():
        return inside
    return PACKAGE_DIR.parent / name
