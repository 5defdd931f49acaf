"""The gettext catalogs' .mo files are compiled when missing (every text being in the catalogs and translated
is tests/test_catalogs.py)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"


def test_missing_mo_files_are_compiled_at_start(tmp_path: Path) -> None:
    from survey.locales import compile_catalogs

    folder = tmp_path / "translations" / "da" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_bytes(CATALOG.read_bytes())
    assert compile_catalogs(tmp_path / "translations") == [folder / "messages.mo"]
    assert compile_catalogs(tmp_path / "translations") == []  # up to date: nothing to do
