"""The house rules of DESIGN.md, checked: business rules in ``portal/domain`` never load
Flask (they run in workers, the CLI and tests without an app), and models never import from
the domain (the shared vocabulary sits below both, in ``portal/vocabulary.py``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parents[1] / "portal"
DOMAIN_MODULES = sorted(p for p in (PORTAL / "domain").rglob("*.py") if p.name != "__init__.py")
MODEL_MODULES = sorted((PORTAL / "models").glob("*.py"))


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=lambda p: str(p.relative_to(PORTAL)))
def test_domain_modules_do_not_import_flask(path: Path) -> None:
    assert not {n for n in imports_of(path) if n.split(".")[0].startswith("flask")}


@pytest.mark.parametrize("path", MODEL_MODULES, ids=lambda p: p.name)
def test_models_do_not_import_the_domain(path: Path) -> None:
    assert not {n for n in imports_of(path) if n.startswith("portal.domain")}


def test_loading_every_domain_module_loads_no_flask() -> None:
    """Also through what they import in turn (the check above sees only their own lines)."""
    names = (".".join(p.relative_to(PORTAL.parent).with_suffix("").parts) for p in DOMAIN_MODULES)
    modules = ", ".join(names)
    code = f"import sys, {modules}; assert 'flask' not in sys.modules, 'flask was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
