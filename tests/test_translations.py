"""Every text the resident can see has an English translation, and the switch works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def test_english_catalogue_covers_every_text_in_the_code(tmp_path: Path) -> None:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "N_",
            "-o",
            str(template),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with template.open("rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalogue
        if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string) and not m.fuzzy
    }
    missing = sorted(wanted - translated)
    assert not missing, f"{len(missing)} texts lack an English translation: {missing[:10]}"


def test_language_switch_renders_english(client) -> None:
    dutch = client.get("/melden").get_data(as_text=True)
    assert 'lang="nl"' in dutch
    assert "Verstuur melding" in dutch
    english = client.get("/melden?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english
    assert "Verstuur melding" not in english
    # The choice sticks for the next page.
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
