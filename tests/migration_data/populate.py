"""Fill a Tryghed database with real data through the product's own interfaces, on whatever code is
first on ``sys.path`` (today's, or an old release checked out into a folder by ``tests/migration_data``).

Run as a script: ``PYTHONPATH=<code> python populate.py OUT.json`` with ``TRYGHED_DATABASE_URL``,
``TRYGHED_INSTANCE_PATH``, ``TRYGHED_OUTBOX_DIR`` and ``TRYGHED_SECRET_KEY`` set. It uses only what every
release has offered (the ``tryghed`` commands of the interface contract, the respondent's form over HTTP
through the app's test client) and asks the command tree which later commands exist (actions, units,
accounts, the chosen focus), so one script populates every release. It prints nothing; it writes what
the checks after an upgrade compare against: every round's ``round show``, the action plans, and the
links of the open round, answered and not.

Imports nothing from ``tests`` (the old code has its own).
"""

from __future__ import annotations

import email
import json
import re
import sys
from email import policy
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from survey.cli import main

TOKEN_RE = re.compile(r"/s/([A-Za-z0-9_-]{43})")
RUNNER = CliRunner()


def run(*args: str, stdin: str | None = None) -> dict[str, Any]:
    """One ``tryghed`` command with ``--json``; fails loudly with its output."""
    result = RUNNER.invoke(main, [*args, "--json"], input=stdin, catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"tryghed {' '.join(args)} failed ({result.exit_code}): {result.output}")
    return json.loads(result.output.strip().splitlines()[-1])


def has(*path: str) -> bool:
    """True when this release's command tree has ``tryghed <path...>``."""
    node: Any = main
    for name in path:
        node = getattr(node, "commands", {}).get(name)
        if node is None:
            return False
    return True


def options(*path: str) -> set[str]:
    node: Any = main
    for name in path:
        node = node.commands[name]
    return {opt for param in node.params for opt in getattr(param, "opts", [])}


class Hidden(HTMLParser):
    """The hidden fields of a form page (sent back as they are, as the contract asks)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def links(outbox: Path, emails: set[str]) -> dict[str, str]:
    """recipient -> the personal link token found in the invitations written to the outbox folder."""
    found: dict[str, str] = {}
    for path in sorted(outbox.rglob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        to = str(msg["To"]).split("<")[-1].rstrip(">").strip().lower()
        if to not in emails:
            continue
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                match = TOKEN_RE.search(part.get_content())
                if match:
                    found[to] = match.group(1)
    return found


def answer(client: Any, token: str, items: list[str], seed: int) -> None:
    page = client.get(f"/s/{token}")
    if page.status_code != 200:
        raise SystemExit(f"GET /s/… answered {page.status_code}")
    parser = Hidden()
    parser.feed(page.get_data(as_text=True))
    data = {**parser.fields, **{key: str(1 + (seed * 7 + i * 3) % 5) for i, key in enumerate(items)}}
    done = client.post(f"/s/{token}", data=data)
    if done.status_code not in (200, 303):
        raise SystemExit(f"POST /s/… answered {done.status_code}")


def populate(out: Path) -> None:
    import os

    from survey import create_app

    outbox = Path(os.environ["TRYGHED_OUTBOX_DIR"])
    run("init")
    items = [item["key"] for item in run("instrument", "show")["items"]]
    client = create_app().test_client()
    unit_args: list[str] = []
    if has("unit", "add"):
        unit = run("unit", "add", "Socialforvaltningen", "--head-email", "chef@kommune.test")
        unit_args = ["--unit", str(unit["id"])] if "--unit" in options("team", "add") else []
    if has("user", "add"):
        run("user", "add", "it@kommune.test", "--role", "admin", "--password-stdin", stdin="en lang hemmelighed\n")

    def team(name: str, size: int) -> tuple[int, list[str]]:
        team_id = run("team", "add", name, "--leader-email", f"leder.{name.lower()}@kommune.test", *unit_args)["id"]
        people = [f"p{i}.{name.lower()}@kommune.test" for i in range(size)]
        csv = out.parent / f"{name}.csv"
        csv.write_text("email,name\n" + "".join(f"{p},Person {i}\n" for i, p in enumerate(people)), encoding="utf-8")
        run("participants", "import", str(team_id), str(csv))
        return team_id, people

    def round_with_answers(team_id: int, people: list[str], answered: int, *opts: str) -> tuple[int, dict[str, str]]:
        round_id = run("round", "create", str(team_id), *opts)["id"]
        run("round", "open", str(round_id))
        tokens = links(outbox, set(people))
        for i, person in enumerate(people[:answered]):
            answer(client, tokens[person], items, seed=round_id * 31 + i)
        return round_id, tokens

    nord, nord_people = team("Nord", 8)
    reported, _ = round_with_answers(nord, nord_people, 7)
    run("round", "close", str(reported))
    if has("round", "focus"):
        pillar = run("instrument", "show")["pillars"][1]["key"]
        run("round", "focus", str(reported), pillar)
    if has("actions", "add"):
        by = ["--by", "marts"] if "--by" in options("actions", "add") else []
        run("actions", "add", str(reported), "--level", "gruppe", "--what", "Tjek-in på mødet", "--who", "Alle", *by)
        run("actions", "add", str(reported), "--level", "ledelse", "--what", "Fejl deles først", "--who", "Lene", *by)
    syd, syd_people = team("Syd", 4)
    suppressed, _ = round_with_answers(syd, syd_people, 3)
    run("round", "close", str(suppressed))
    ost, ost_people = team("Ost", 6)
    # k = 3: the answer given after the upgrade makes four, enough for figures when the test closes it
    still_open, tokens = round_with_answers(ost, ost_people, 3, "--min-responses", "3")
    draft = run("round", "create", str(nord))["id"]
    result = {
        "rounds": {str(r): run("round", "show", str(r)) for r in (reported, suppressed, still_open, draft)},
        "actions": run("actions", "list", str(reported))["actions"] if has("actions", "list") else [],
        "reported": reported,
        "open": still_open,
        "answered_tokens": [tokens[p] for p in ost_people[:3]],
        "unanswered_tokens": [tokens[p] for p in ost_people[3:]],
        "items": items,
    }
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    populate(Path(sys.argv[1]))
