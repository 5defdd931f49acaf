"""The web app's gettext catalogs: every text of the templates and views is in the catalogs, and the Danish
one translates all of them (Danish first)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"


def test_catalogs_cover_every_text_and_danish_translates_all(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
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
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    with CATALOG.open("rb") as f:
        danish = read_po(f)
    missing = extracted - {m.id for m in danish if m.id}
    assert not missing, f"run `make extract-messages` and translate: {sorted(missing)[:5]}"
    untranslated = [m.id for m in danish if m.id and (not m.string or m.fuzzy)]
    assert not untranslated, untranslated[:5]
    assert len(extracted) > 150


def test_missing_mo_files_are_compiled_at_start(tmp_path: Path) -> None:
    from survey.locales import compile_catalogs

    folder = tmp_path / "translations" / "da" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_bytes(CATALOG.read_bytes())
    assert compile_catalogs(tmp_path / "translations") == [folder / "messages.mo"]
    assert compile_catalogs(tmp_path / "translations") == []  # up to date: nothing to do
