"""Hatch build hook that makes every wheel whole.

A wheel built from a source checkout (`pip install .`, `pip wheel .`, `python -m build`) gets its
translation catalogues compiled here, so the English UI is English without `make translations`
first. The build stops when the NL Design System CSS is missing: without it every page would
render unstyled, and nothing else would say why.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Copied from node_modules by `make assets`; ignored by git, so a fresh clone lacks them.
REQUIRED_ASSETS = (
    "static/vendor/utrecht/component-library.css",
    "static/vendor/utrecht/design-tokens.css",
    "static/vendor/leaflet/leaflet.js",
    "static/vendor/leaflet.markercluster/leaflet.markercluster.js",
)
CATALOGUES = "translations/*/LC_MESSAGES/messages.po"
# Where the installed package looks for them (see portal/paths.py and the wheel's force-include).
INSTALLED_TRANSLATIONS = "portal/translations"


class MissingFrontEndAssetsError(RuntimeError):
    pass


class BrokenCatalogueError(RuntimeError):
    pass


class PortalBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            # An editable install serves the source tree itself, where `make` compiles the
            # catalogues and copies the assets.
            return
        root = Path(self.root)
        check_front_end_assets(root)
        self._compiled_dir = Path(tempfile.mkdtemp(prefix="portal-catalogues-"))
        # A target given here outside the project root replaces any stale messages.mo in the
        # checkout that the force-included translations/ folder would otherwise bring along.
        for po_path, mo_path in compile_catalogues(root, self._compiled_dir):
            target = f"{INSTALLED_TRANSLATIONS}/{po_path.relative_to(root / 'translations')}"
            build_data["force_include"][str(mo_path)] = str(Path(target).with_suffix(".mo"))

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        compiled_dir = getattr(self, "_compiled_dir", None)
        if compiled_dir is not None:
            shutil.rmtree(compiled_dir, ignore_errors=True)


def check_front_end_assets(root: Path) -> None:
    missing = [name for name in REQUIRED_ASSETS if not _non_empty_file(root / name)]
    if missing:
        raise MissingFrontEndAssetsError(
            "Front-end assets are missing: "
            + ", ".join(missing)
            + ". Run `make assets` (it copies the NL Design System CSS from node_modules after"
            " `npm ci`) and build again; a wheel without them serves unstyled pages."
        )


def compile_catalogues(root: Path, out_dir: Path) -> list[tuple[Path, Path]]:
    """Compile every translations/<lang>/LC_MESSAGES/messages.po into out_dir with the same
    layout; return (po, mo) pairs. Fuzzy entries are used, as `make translations` does."""
    compiled = []
    for po_path in sorted(root.glob(CATALOGUES)):
        locale = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=locale)
        # A msgstr with other placeholders than its msgid breaks the page that renders it.
        errors = [
            f"{po_path.relative_to(root)}:{message.lineno}: {error}"
            for message, message_errors in catalogue.check()
            for error in message_errors
        ]
        if errors:
            raise BrokenCatalogueError("Translation catalogue errors:\n" + "\n".join(errors))
        mo_path = out_dir / po_path.relative_to(root / "translations").with_suffix(".mo")
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue, use_fuzzy=True)
        compiled.append((po_path, mo_path))
    return compiled


def _non_empty_file(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0
