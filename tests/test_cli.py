"""The `tryghed` command as the contract describes it: JSON shapes, errors, the demo."""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from email import policy
from pathlib import Path
from typing import Any

import pytest

TRYGHED = [sys.executable, "-m", "survey.cli"]


def run(tmp_path: Path, *args: str, ok: bool = True, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `tryghed ... --json` in a fresh process with its own instance folder; one JSON object out."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGHED_")}
    full_env.update({"TRYGHED_INSTANCE_PATH": str(tmp_path / "instance"), **(env or {})})
    proc = subprocess.run(
        [*TRYGHED, *args, "--json"], capture_output=True, text=True, env=full_env, cwd=tmp_path, timeout=120
    )
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def test_demo_writes_pdf_and_report_email(tmp_path: Path) -> None:
    out = run(tmp_path, "demo", "--out", str(tmp_path / "out"))
    assert out["status"] == "reported" and out["responses"] == 7 and out["invited"] == 8
    pdf = Path(out["pdf"])
    assert pdf.read_bytes().startswith(b"%PDF")
    msg = email.message_from_bytes(Path(out["report_email"]).read_bytes(), policy=policy.default)
    attachments = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_content() == pdf.read_bytes()
    assert all(p["mean"] is not None for p in out["pillars"])
    # the shipped barometer says whose it is, with the official one linked (issue 9)
    from tests.helpers import pdf_text

    text = " ".join(pdf_text(pdf.read_bytes(), tmp_path).split())
    assert "Tryghed-programmets egen ordlyd" in text and "Tryghedsbarometer3.pdf" in text
    assert out["seconds"] < 30  # generous for loaded CI machines; docs/benchmarks.md has the measured figure


def test_contract_flow_and_errors(tmp_path: Path) -> None:
    assert run(tmp_path, "round", "show", "1", ok=False)["error"].startswith("the database has no tables")
    assert run(tmp_path, "init")["status"] == "ready"

    shown = run(tmp_path, "instrument", "show")
    assert shown["scale"] == {"min": 1, "max": 5}
    assert [p["key"] for p in shown["pillars"]] == ["inkludere", "laere", "bidrage", "udfordre"]
    assert len(shown["items"]) == 16 and set(shown["items"][0]) == {"key", "pillar", "reverse", "text"}
    assert "unknown instrument" in run(tmp_path, "instrument", "show", "nope", ok=False)["error"]

    team = run(tmp_path, "team", "add", "Team Syd", "--leader-email", "lene@example.org", "--leader-name", "Lene")
    assert isinstance(team["id"], int)
    assert "valid email" in run(tmp_path, "team", "add", "X", "--leader-email", "nope", ok=False)["error"]

    bad = tmp_path / "bad.csv"
    bad.write_text("email,name\nok@example.org,Ok\nnot-an-email,Bad\nok@example.org,Twice\n", encoding="utf-8")
    err = run(tmp_path, "participants", "import", str(team["id"]), str(bad), ok=False)
    assert [e["line"] for e in err["errors"]] == [3, 4]
    good = tmp_path / "good.csv"
    good.write_text("email,name,lang\n" + "".join(f"p{i}@example.org,P {i},da\n" for i in range(6)), encoding="utf-8")
    assert run(tmp_path, "participants", "import", str(team["id"]), str(good))["added"] == 6

    assert "at least 3" in run(tmp_path, "round", "create", str(team["id"]), "--min-responses", "2", ok=False)["error"]
    rnd = run(tmp_path, "round", "create", str(team["id"]), "--closes", "2099-01-01T16:00")
    assert rnd["status"] == "draft" and rnd["closes_at"].startswith("2099-01-01T16:00:00+01:00")
    assert "never been opened" in run(tmp_path, "round", "close", str(rnd["id"]), ok=False)["error"]

    opened = run(tmp_path, "round", "open", str(rnd["id"]))
    assert opened["status"] == "open" and opened["invited"] == 6
    assert len(list((tmp_path / "instance" / "outbox").glob("*.eml"))) == 6
    assert all(p["mean"] is None for p in opened["pillars"])  # no figure while open
    assert run(tmp_path, "round", "remind", str(rnd["id"]))["reminded"] == 6

    closed = run(tmp_path, "round", "close", str(rnd["id"]))
    assert closed["status"] == "reported" and closed["suppressed"] is True
    assert closed["focus_pillars"] == [] and closed["recommended_hacks"] == []
    keys = {
        "id",
        "team_id",
        "status",
        "invited",
        "responses",
        "min_responses",
        "suppressed",
        "pillars",
        "items",
        "focus_pillars",
        "recommended_hacks",
    }
    assert keys <= set(closed)
    assert "does not exist" in run(tmp_path, "round", "show", "999", ok=False)["error"]
    assert isinstance(run(tmp_path, "tick"), dict)


@pytest.mark.parametrize(
    ("name", "value"),
    [("MIN_RESPONSES", "2"), ("MIN_RESPONSES", "abc"), ("SMTP_STARTTLS", "maybe"), ("TIMEZONE", "Mars/Base")],
)
def test_bad_configuration_is_a_clear_error(tmp_path: Path, name: str, value: str) -> None:
    err = run(tmp_path, "init", ok=False, env={f"TRYGHED_{name}": value})
    assert f"TRYGHED_{name}" in err["error"]
