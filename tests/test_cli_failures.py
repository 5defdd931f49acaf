"""The CLI under a user's mistakes and a failing world: a JSON error and an exit code, never a traceback.

Each test runs the real ``tryghed`` in a fresh process, as an operator would, against real PostgreSQL, a
real (unreachable) Redis broker and a real full file system (a tiny tmpfs, mounted when we are root)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TRYGHED = [sys.executable, "-m", "survey.cli"]


def tryghed(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """(exit code, the one JSON object printed); fails the test on a traceback."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    full_env.update({"TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"), **(env or {})})
    proc = subprocess.run(
        [*TRYGHED, *args, "--json"], capture_output=True, text=True, env=full_env, cwd=tmp_path, timeout=180
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    return proc.returncode, json.loads(lines[0])


def ok(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, out = tryghed(tmp_path, *args, env=env)
    assert code == 0, out
    return out


def failed(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    code, out = tryghed(tmp_path, *args, env=env)
    assert code != 0 and "error" in out, out
    return out


def team_with_people(tmp_path: Path, env: dict[str, str] | None = None, people: int = 5) -> int:
    ok(tmp_path, "init", env=env)
    team = ok(tmp_path, "team", "add", "Team Syd", "--leader-email", "lene@example.org", env=env)
    csv = tmp_path / "people.csv"
    csv.write_text("email,name\n" + "".join(f"p{i}@example.org,Person {i}\n" for i in range(people)))
    ok(tmp_path, "participants", "import", str(team["id"]), str(csv), env=env)
    return int(team["id"])


def test_csv_with_cr_only_line_endings_is_read(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    team = ok(tmp_path, "team", "add", "Team Syd", "--leader-email", "lene@example.org")
    csv = tmp_path / "mac.csv"
    csv.write_bytes(b"email,name\ra@example.org,Anna\rb@example.org,Bo\r")
    assert ok(tmp_path, "participants", "import", str(team["id"]), str(csv))["added"] == 2


def test_csv_field_over_the_csv_limit_is_an_error_on_its_line(tmp_path: Path) -> None:
    ok(tmp_path, "init")
    team = ok(tmp_path, "team", "add", "Team Syd", "--leader-email", "lene@example.org")
    csv = tmp_path / "huge.csv"
    csv.write_text(f"email,name\na@example.org,Anna\nb@example.org,{'x' * 140_000}\n")
    out = failed(tmp_path, "participants", "import", str(team["id"]), str(csv))
    assert out["errors"] == [{"line": 3, "error": out["errors"][0]["error"]}]
    assert "longer than 131,072 characters" in out["errors"][0]["error"]
    assert ok(tmp_path, "team", "list")["teams"][0]["participants"] == 0  # nothing imported


@pytest.mark.postgres
def test_nul_byte_in_a_csv_on_postgresql_is_an_error_on_its_line(tmp_path: Path, pg_url: str) -> None:
    env = {"TRYGHED_DATABASE_URL": pg_url}
    ok(tmp_path, "init", env=env)
    team = ok(tmp_path, "team", "add", "Team Syd", "--leader-email", "lene@example.org", env=env)
    csv = tmp_path / "nul.csv"
    csv.write_bytes(b"email,name\na@example.org,An\x00na\n")
    out = failed(tmp_path, "participants", "import", str(team["id"]), str(csv), env=env)
    assert out["errors"][0]["line"] == 2 and "control character (U+0000" in out["errors"][0]["error"]
    named = failed(tmp_path, "team", "add", "Team\x01Nord", "--leader-email", "x@example.org", env=env)
    assert named["error"].startswith("team name: contains a control character")


@pytest.mark.parametrize("name", ["Team\r\nBcc: x@y.dk", "Team\u2028Bcc: x@y.dk", "Team\x85Bcc: x@y.dk", "Team\nB"])
def test_a_line_break_in_a_team_name_is_refused(tmp_path: Path, name: str) -> None:
    ok(tmp_path, "init")
    out = failed(tmp_path, "team", "add", name, "--leader-email", "lene@example.org")
    assert out["error"].startswith("team name: must be one line") and out["field"] == "team name"
    assert ok(tmp_path, "team", "list")["teams"] == []


UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: "connection refused" at once


def test_broker_down_after_round_open_says_what_was_committed(tmp_path: Path) -> None:
    team_id = team_with_people(tmp_path)
    round_id = ok(tmp_path, "round", "create", str(team_id))["id"]
    down = {"TRYGHED_BROKER_URL": UNREACHABLE_BROKER}
    code, out = tryghed(tmp_path, "round", "open", str(round_id), env=down)
    assert code == 1 and out["committed"] is True and out["round_id"] == round_id
    assert out["error"].startswith(f"round {round_id} is open; the broker is down")
    assert "wait in the outbox; the next tick sends them" in out["error"]
    shown = ok(tmp_path, "round", "show", str(round_id))
    assert shown["status"] == "open" and shown["invited"] == 5
    # the broker is back (here: no broker, tasks in-process): the next tick sends the waiting invitations
    assert ok(tmp_path, "tick")["mail_rounds"] == [round_id]
    assert len(list((tmp_path / "instance" / "outbox").glob("*.eml"))) == 5

    code, out = tryghed(tmp_path, "round", "close", str(round_id), env=down)
    assert code == 1 and out["committed"] is True
    assert out["error"].startswith(f"round {round_id} is closed to answers; the broker is down")
    assert ok(tmp_path, "round", "show", str(round_id))["status"] == "closing"


@contextlib.contextmanager
def tiny_disk(path: Path, size: str = "3m") -> Iterator[Path]:
    """A real, small file system (tmpfs); skipped where mounting needs privileges we lack."""
    path.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte; returns the filler file."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    with open(filler, "ab", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0")
    return filler


def test_full_disk_under_the_database(tmp_path: Path) -> None:
    with tiny_disk(tmp_path / "disk") as disk:
        env = {"TRYGHED_DATABASE_URL": f"sqlite:///{disk / 'tryghed.sqlite'}"}
        team_id = team_with_people(tmp_path, env)
        filler = fill(disk)
        out = failed(tmp_path, "round", "create", str(team_id), env=env)
        assert "database could not be written" in out["error"] and "disk" in out["error"]
        assert "nothing was changed" in out["error"]
        filler.unlink()
        assert ok(tmp_path, "round", "create", str(team_id), env=env)["id"] == 1  # nothing half-written


def test_full_disk_under_the_outbox_loses_nothing(tmp_path: Path) -> None:
    """Writing the .eml files fails on a full disk; the round is open, no traceback, and the invitations
    wait in the outbox (a temporary failure, retried) until the next tick after space is freed."""
    with tiny_disk(tmp_path / "disk") as disk:
        env = {"TRYGHED_OUTBOX_DIR": str(disk / "outbox"), "TRYGHED_MAIL_BACKOFF": "[1, 1, 1]"}
        team_id = team_with_people(tmp_path, env)
        round_id = ok(tmp_path, "round", "create", str(team_id), env=env)["id"]
        filler = fill(disk)
        tryghed(tmp_path, "round", "open", str(round_id), env=env)  # asserts: one JSON object, no traceback
        assert not list((disk / "outbox").glob("*.eml"))
        filler.unlink()
        time.sleep(1.5)  # the retry is due after the (shortened) backoff
        ok(tmp_path, "tick", env=env)
        shown = ok(tmp_path, "round", "show", str(round_id), env=env)
        assert shown["status"] == "open" and not shown["failed_messages"], shown["failed_messages"]
        assert len(list((disk / "outbox").glob("*.eml"))) == 5


@pytest.mark.parametrize(
    "args",
    [
        ("round", "show", "1180591620717411303424"),
        ("round", "create", "1", "--min-responses", "99999999999999999999"),
        ("actions", "list", "99999999999999999999999999"),
    ],
)
def test_a_number_too_large_for_the_database_is_a_json_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    ok(tmp_path, "init")
    ok(tmp_path, "team", "add", "T", "--leader-email", "l@example.org")
    code, out = tryghed(tmp_path, *args)
    assert code == 1 and "out of range" in out["error"]


@pytest.mark.parametrize("url", ["nosuchdb://x", "garbage", "postgresql+nosuchdriver://u@h/d"])
def test_an_unusable_database_url_is_a_json_error(tmp_path: Path, url: str) -> None:
    code, out = tryghed(tmp_path, "team", "list", env={"TRYGHED_DATABASE_URL": url})
    assert code == 1 and "TRYGHED_DATABASE_URL" in out["error"]
