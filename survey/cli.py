"""The ``tryghed`` command. Every command takes ``--json`` and then prints exactly one JSON object;
failures exit non-zero and print ``{"error": ...}`` (with ``--json``) or a plain message.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from survey.domain.validation import check_whole_numbers
from survey.errors import UserError

if TYPE_CHECKING:
    from flask import Flask

# Commands that work before `tryghed init`: creating the schema, and reading the content files.
NO_DATABASE_NEEDED = {"init", "instrument_show", "db_downgrade"}
# Commands that run a task or hand one to the workers. Tasks run in the Flask app's context (the emails
# are Flask templates), so these build the app; every other command runs on the bare runtime, without
# importing Flask or Celery, which is most of a short command's time (docs/benchmarks.md).
RUN_TASKS = {"round_open", "round_remind", "round_close", "round_kickoff", "mail_retry"}
# Commands that build the app only once they have a task to hand over: the cron-run tick finds nothing due
# almost every minute, and then runs on the bare runtime (pipeline.tick).
TASKS_WHEN_DUE = {"tick"}
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
# Commands whose plain (non-JSON) output is a sentence rather than "key: value" lines, by function name.
HUMAN: dict[str, Callable[[dict[str, Any]], str]] = {}


def _app(**overrides: Any) -> Flask:
    from survey import create_app

    # No pages: a command never serves a request (tryghed demo builds its own full app for the form).
    return create_app(overrides or None, web=False)


@contextlib.contextmanager
def _runtime(with_tasks: bool) -> Iterator[Any]:
    """The runtime a command works with: inside the app's context when it runs tasks, bare otherwise."""
    if with_tasks:
        app = _app()
        with app.app_context():
            yield app.extensions["tryghed"]
    else:
        from survey.runtime import load_runtime

        yield load_runtime()


def emit(result: dict[str, Any], as_json: bool, human: Callable[[dict[str, Any]], str] | None = None) -> None:
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, default=str))
    else:
        click.echo(human(result) if human else "\n".join(f"{k}: {v}" for k, v in result.items()))


def command(fn: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """Run ``fn`` inside the app context; turn UserError (and bad configuration) into a clean exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, as_json: bool = False, **kwargs: Any) -> None:
        try:
            check_whole_numbers(kwargs)  # before any reaches a database driver (OverflowError, out of range)
            with _runtime(with_tasks=fn.__name__ in RUN_TASKS) as rt:
                if fn.__name__ not in NO_DATABASE_NEEDED:
                    _require_schema(rt)
                result = fn(rt, *args, **kwargs)
                _audit(rt, fn.__name__, kwargs, result)
        except UserError as exc:
            _fail(exc.message, as_json, **exc.details)
        except ValueError as exc:  # configuration and content errors name what is wrong
            _fail(str(exc), as_json)
        except Exception as exc:  # a down service or a full disk: say so, never a traceback
            failure = service_failure(exc)
            if failure is None:
                raise
            _fail(failure, as_json)
        emit(result, as_json, HUMAN.get(fn.__name__))

    return json_option(wrapper)


# Commands the audit log records (actor "cli"): the action, and the key of what it acted on.
AUDITED = {
    "user_add": ("account_created", "user", "email"),
    "round_open": ("round_opened", "round", "round_id"),
    "round_remind": ("round_reminded", "round", "round_id"),
    "round_close": ("round_closed", "round", "round_id"),
    "unit_add": ("unit_created", "unit", "id"),
    "unit_set": ("unit_changed", "unit", "unit_id"),
    "unit_delete": ("unit_deleted", "unit", "unit_id"),
    "team_delete": ("team_deleted", "team", "team_id"),
    "round_delete": ("round_deleted", "round", "round_id"),
}


def _audit(rt: Any, name: str, kwargs: dict[str, Any], result: dict[str, Any]) -> None:
    if name not in AUDITED:
        return
    from survey.domain import audit

    action, kind, key = AUDITED[name]
    with rt.db.session() as session:
        audit.record(session, action, "cli", f"{kind} {kwargs.get(key, result.get(key))}", rt.now())


def service_failure(exc: BaseException) -> str | None:
    """A message for a failure of the world around the command (database, broker, disk), or None.

    Each command's writes are one transaction, so when one of these interrupts it nothing was changed;
    failures after a commit are caught where they happen (see ``enqueue``) and say what was committed.
    """
    import errno

    from kombu.exceptions import OperationalError as BrokerError
    from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError) or (isinstance(exc, ArgumentError) and "URL" in str(exc)):
        return f"TRYGHED_DATABASE_URL cannot be used: {exc}. Use sqlite:///PATH or postgresql+psycopg://…"
    if isinstance(exc, BrokerError):
        return f"the broker (TRYGHED_BROKER_URL) cannot be reached ({exc}); the work waits until it is back"
    if isinstance(exc, DBAPIError):
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        if "disk is full" in reason or "No space left" in reason:
            return f"the database could not be written, the disk is full ({reason}); nothing was changed"
        if "disk I/O error" in reason:  # SQLite's word for a journal it could not create: full or read-only
            return f"the database could not be written ({reason}: is the disk full?); nothing was changed"
        return f"the database refused or could not be reached ({reason}); nothing was changed"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return f"the disk is full{where}; free some space and run the command again"
        return f"{exc.strerror or exc}{where}"
    return None


def enqueue(task: Any, round_id: int, done: str, waiting: str) -> None:
    """Hand ``task`` to the workers after the command's change was committed.

    When the broker is down the change stands (it was committed) and the next tick picks the work up
    once the broker is back; the command then fails with a message that says exactly that, so the
    person knows the round moved and need not run the command again.
    """
    from kombu.exceptions import OperationalError as BrokerError

    try:
        # a task, or a function that enqueues one (``pipeline.tasks.start_pipeline``)
        (task.delay if hasattr(task, "delay") else task)(round_id)
    except BrokerError as exc:
        raise UserError(
            f"{done}; the broker is down ({exc}), so {waiting}",
            round_id=round_id,
            committed=True,
        ) from exc


def _require_schema(rt: Any) -> None:
    from survey.data.db import SCHEMA_PROBLEMS, schema_state

    state = schema_state(rt.db)
    if state != "current":
        raise UserError(SCHEMA_PROBLEMS[state], schema=state)


def _fail(message: str, as_json: bool, **details: Any) -> None:
    if as_json:
        click.echo(json.dumps({"error": message, **details}, ensure_ascii=False, default=str))
    else:
        click.echo(f"Fejl / error: {message}", err=True)
        for row in details.get("errors", []):
            click.echo(f"  line {row['line']}: {row['error']}", err=True)
    sys.exit(1)


def parse_time(value: str | None, tz: ZoneInfo, option: str, day_time: str | None = None) -> datetime | None:
    """ISO 8601; a time without a zone is read in the configured time zone. A date alone ("2027-03-01")
    gets ``day_time`` ("08:00": the installation's whole local opening or closing time)."""
    if value is None:
        return None
    if day_time and len(value.strip()) == 10:
        value = f"{value.strip()}T{day_time}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"{option}: {value!r} is not an ISO 8601 time (e.g. 2026-12-01T09:00)") from exc
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


@click.group()
def main() -> None:
    """Tryghed: psykologisk tryghed i teams / psychological safety in teams."""


@main.command()
@command
def init(rt: Any) -> dict[str, Any]:
    """Create or upgrade the database (SQLite: a backup is written first)."""
    from survey.data import migrate

    rt.db.dispose()  # no pooled connection of ours holds the file while the migration locks it
    # SQLite: an older schema is copied first (the run's own transaction, before anything changes); a
    # failed upgrade leaves the schema as it was, but one that succeeds wrongly is undone from the copy.
    done = migrate.upgrade(rt.db.url, backup_at=rt.now())
    return _migrated(rt, "ready", done)


def _migrated(rt: Any, status: str, done: Any) -> dict[str, Any]:
    return {
        "database": rt.db.engine.url.render_as_string(hide_password=True),
        "status": status,
        "from": done.before,
        "to": done.after,
        "backup": str(done.backup) if done.backup else None,
    }


def _said_init(r: dict[str, Any]) -> str:
    change = f"{r['from']} -> {r['to']}" if r["from"] != r["to"] else f"{r['to']}, uændret / unchanged"
    lines = [f"Databasen er klar / the database is ready ({change}): {r['database']}"]
    if r["backup"]:
        lines.append(f"Sikkerhedskopi fra før opgraderingen / backup from before the upgrade: {r['backup']}")
    return "\n".join(lines)


HUMAN["init"] = _said_init


@main.group("db")
def db_group() -> None:
    """The database schema: roll back to an earlier revision (docs/operations.md, "Upgrade and rollback")."""


@db_group.command("downgrade")
@click.argument("revision")
@command
def db_downgrade(rt: Any, revision: str) -> dict[str, Any]:
    """Take the schema back to REVISION (e.g. 0006, or base) before running an older version.

    What the newer revisions added (their tables and columns) is dropped; on SQLite a backup is written
    first, on PostgreSQL take a pg_dump before.
    """
    from survey.data import migrate

    rt.db.dispose()
    return _migrated(rt, "downgraded", migrate.downgrade(rt.db.url, revision, backup_at=rt.now()))


def _said_downgrade(r: dict[str, Any]) -> str:
    lines = [f"Databasen er rullet tilbage / the database was rolled back ({r['from']} -> {r['to']}): {r['database']}"]
    if r["backup"]:
        lines.append(f"Sikkerhedskopi fra før / backup from before: {r['backup']}")
    return "\n".join(lines)


HUMAN["db_downgrade"] = _said_downgrade


@main.group()
def instrument() -> None:
    """The questionnaire (instrument)."""


@instrument.command("show")
@click.argument("name", required=False)
@command
def instrument_show(rt: Any, name: str | None) -> dict[str, Any]:
    """Show an instrument (default: the default instrument)."""
    if name and name not in rt.content.instruments:
        raise UserError(f"unknown instrument {name!r}; known: {', '.join(sorted(rt.content.instruments))}")
    ins = rt.content.instrument(name)
    return {
        "name": ins.name,
        "scale": {"min": ins.scale_min, "max": ins.scale_max},
        "pillars": [{"key": p.key, "name": p.name.da} for p in ins.pillars],
        "items": [{"key": i.key, "pillar": i.pillar, "reverse": i.reverse, "text": i.text.da} for i in ins.items],
    }


@main.group()
def team() -> None:
    """Teams."""


@team.command("add")
@click.argument("name")
@click.option("--leader-email", required=True)
@click.option("--leader-name")
@click.option("--lang", default="da", show_default=True)
@click.option("--trio-email", "trio_emails", multiple=True, help="TR/AMR address for the TRIO notice.")
@click.option("--instrument", "instrument_name", help="Measure the team with this instrument (default: the default).")
@click.option("--unit", "unit_id", type=int, help="The organisational unit the team belongs to.")
@command
def team_add(
    rt: Any,
    name: str,
    leader_email: str,
    leader_name: str | None,
    lang: str,
    trio_emails: tuple[str, ...],
    instrument_name: str | None,
    unit_id: int | None,
) -> dict[str, Any]:
    """Create a team."""
    from survey.domain.teams import add_team

    with rt.db.session() as s:
        t = add_team(
            s,
            name,
            leader_email,
            leader_name,
            lang,
            instrument=instrument_name,
            trio_emails=list(trio_emails),
            known_instruments=rt.content.instruments,
            unit_id=unit_id,
        )
        return {
            "id": t.id,
            "name": t.name,
            "leader_email": t.leader_email,
            "leader_name": t.leader_name,
            "lang": t.lang,
            "instrument": t.instrument or rt.content.default_instrument,
            "trio_emails": t.trio_emails,
            "unit_id": t.unit_id,
        }


@team.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), help="A page of at most this many, newest first.")
@click.option("--before", type=int, help="A page of teams with a smaller id (the next page: the last id shown).")
@command
def team_list(rt: Any, limit: int | None, before: int | None) -> dict[str, Any]:
    """All teams, oldest first, with how many participants and rounds each has; with --limit or --before a
    page of them, newest first (200 unless --limit says), and "next_before" where the next page starts."""
    from survey.domain.teams import LIST_LIMIT, list_teams

    with rt.db.session() as s:
        teams = list_teams(s, limit=limit, before=before)
    if limit is None and before is None:
        return {"teams": teams}
    full = bool(teams) and len(teams) == (limit or LIST_LIMIT)
    return {"teams": teams, "next_before": teams[-1]["id"] if full else None}


@team.command("set")
@click.argument("team_id", type=int)
@click.option("--lang", type=click.Choice(["da", "en"]))
@click.option("--track", type=click.Choice(["selfguided", "facilitated"]))
@click.option("--instrument", help="An instrument name; an empty string means the default instrument.")
@click.option("--trio-email", "trio_emails", multiple=True, help="Replaces the TRIO addresses (repeat the option).")
@click.option("--leader-email", help="A new leader: gets the team and its history; the old one loses it at once.")
@click.option("--leader-name", help="The leader's name (an empty string removes it).")
@click.option("--unit", "unit_id", type=int, help="Place the team in this unit.")
@click.option("--no-unit", is_flag=True, help="Take the team out of its unit.")
@command
def team_set(
    rt: Any,
    team_id: int,
    lang: str | None,
    track: str | None,
    instrument: str | None,
    trio_emails: tuple[str, ...],
    leader_email: str | None,
    leader_name: str | None,
    unit_id: int | None,
    no_unit: bool,
) -> dict[str, Any]:
    """Change a team's language, track, instrument, TRIO addresses, leader or unit (the web app's team
    settings); only the options given change."""
    from survey.domain import organisation
    from survey.domain.teams import get_team, update_team

    if unit_id is not None and no_unit:
        raise UserError("give either --unit or --no-unit, not both")
    with rt.db.session() as s:
        get_team(s, team_id)  # an unknown team is "not found" before any option is checked
        if unit_id is not None or no_unit:
            organisation.place_team(s, team_id, unit_id)
            _record(rt, "team_changed", f"team {team_id}: unit {unit_id if unit_id is not None else '-'}")
        handed: list[dict[str, Any]] = []
        if leader_email is not None or leader_name is not None:
            current = get_team(s, team_id)
            change = organisation.set_leader(
                s, team_id, leader_email or current.leader_email or "", leader_name, actor="cli", now=rt.now()
            )
            handed = [
                {"kind": h.kind, "round_id": h.round_id, "request_id": h.request_id, "outcome": h.outcome, "to": h.to}
                for h in change.mail
            ]
        t = update_team(
            s,
            team_id,
            lang=lang,
            track=track,
            instrument=instrument,
            trio_emails=list(trio_emails) if trio_emails else None,
            known_instruments=tuple(rt.content.instruments),
        )
        return {
            "id": t.id,
            "name": t.name,
            "leader_email": t.leader_email,
            "leader_name": t.leader_name,
            "unit_id": t.unit_id,
            "lang": t.lang,
            "track": t.track,
            "instrument": t.instrument,
            "trio_emails": t.trio_emails,
            # emails that were waiting for the old leader: re-addressed to the new one, or cancelled
            "mail": handed,
        }


@team.command("delete")
@click.argument("team_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: the team, its participants and its unopened rounds go.")
@command
def team_delete(rt: Any, team_id: int, yes: bool) -> dict[str, Any]:
    """Delete a team none of whose rounds has opened (asks for --yes); a team with answers is kept."""
    from survey.domain.removal import delete_team, team_refusal

    what = "the team, its participants and its rounds that never opened are deleted"
    return _delete(rt, team_refusal, delete_team, team_id, yes, what)


@main.group()
def participants() -> None:
    """Participants of a team."""


@participants.command("import")
@click.argument("team_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@command
def participants_import(rt: Any, team_id: int, file: Path) -> dict[str, Any]:
    """Import participants from a CSV file with the header email,name[,lang]."""
    from survey.domain.teams import import_participants

    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise UserError(f"{file}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{file}: not UTF-8 text (save the CSV as UTF-8)",
            errors=[{"line": 1, "error": "file is not UTF-8"}],
        ) from exc
    with rt.db.session() as s:
        return import_participants(s, team_id, text)


@participants.command("add")
@click.argument("team_id", type=int)
@click.argument("email")
@click.option("--name")
@click.option("--lang", type=click.Choice(["da", "en"]), help="Default: the team's language.")
@command
def participants_add(rt: Any, team_id: int, email: str, name: str | None, lang: str | None) -> dict[str, Any]:
    """Add one participant (or take one back into future rounds)."""
    from survey.domain.teams import add_participant

    with rt.db.session() as s:
        p = add_participant(s, team_id, email, name, lang)
        return {"id": p.id, "team_id": p.team_id, "email": p.email, "lang": p.lang, "active": p.active}


@participants.command("deactivate")
@click.argument("participant_id", type=int)
@command
def participants_deactivate(rt: Any, participant_id: int) -> dict[str, Any]:
    """Leave a participant out of future rounds (invitations already sent stay valid)."""
    from survey.domain.teams import deactivate_participant

    with rt.db.session() as s:
        p = deactivate_participant(s, participant_id)
        return {"id": p.id, "team_id": p.team_id, "email": p.email, "active": p.active}


@main.group(name="round")
def round_() -> None:
    """Survey rounds."""


def _show(rt: Any, round_id: int) -> dict[str, Any]:
    from survey.domain.round_show import show_round

    # Core only: a fresh `round show` imports no ORM and maps no class (docs/benchmarks.md)
    with rt.db.engine.connect() as conn:
        return show_round(rt, conn, round_id)


@round_.command("list")
@click.argument("team_id", type=int, required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), help="At most this many (default: 200 without TEAM_ID).")
@click.option("--before", type=int, help="Only rounds with a smaller id (the next page: the last id shown).")
@command
def round_list(rt: Any, team_id: int | None, limit: int | None, before: int | None) -> dict[str, Any]:
    """Rounds (of one team, or all) with status and response rate, newest first."""
    from survey.domain.rounds import LIST_LIMIT, list_rounds

    with rt.db.session() as s:
        rounds = list_rounds(rt, s, team_id, limit=limit, before=before)
    # where the next page starts, when this one is full (null: nothing older)
    full = limit is not None or team_id is None
    more = full and rounds and len(rounds) == (limit or LIST_LIMIT)
    return {"rounds": rounds, "next_before": rounds[-1]["id"] if more else None}


@round_.command("create")
@click.argument("team_id", type=int)
@click.option("--opens", help="ISO time or date (then TRYGHED_ROUND_OPENS_AT, 08:00); default: open by hand.")
@click.option("--closes", help="ISO time or date (then TRYGHED_ROUND_CLOSES_AT, 16:00); the tick closes it then.")
@click.option("--min-responses", type=int, help="Minimum answers before any figure is shown (>= 3).")
@click.option(
    "--channel",
    type=click.Choice(["email", "cards"]),
    default="email",
    show_default=True,
    help="email: a personal link per participant; cards: printed answer cards tied to no person.",
)
@click.option("--cards", "cards", type=int, help="With --channel cards: how many (default: participants + 2).")
@command
def round_create(
    rt: Any,
    team_id: int,
    opens: str | None,
    closes: str | None,
    min_responses: int | None,
    channel: str,
    cards: int | None,
) -> dict[str, Any]:
    """Create a round for a team."""
    from survey.domain.rounds import create_round
    from survey.domain.small_teams import threshold_warnings

    with rt.db.session() as s:
        rnd = create_round(
            rt,
            s,
            team_id,
            parse_time(opens, rt.tz, "--opens", str(rt.config["ROUND_OPENS_AT"])),
            parse_time(closes, rt.tz, "--closes", str(rt.config["ROUND_CLOSES_AT"])),
            min_responses,
            channel=channel,
            cards=cards,
        )
        rid, warnings = rnd.id, threshold_warnings(s, rnd)
    return {**_show(rt, rid), "warnings": warnings}


@round_.command("open")
@click.argument("round_id", type=int)
@command
def round_open(rt: Any, round_id: int) -> dict[str, Any]:
    """Open a round: one invitation email per participant."""
    from pipeline.tasks import send_pending
    from survey.domain.rounds import open_round
    from survey.domain.small_teams import threshold_warnings

    with rt.db.session() as s:
        warnings = threshold_warnings(s, open_round(rt, s, round_id))
    enqueue(
        send_pending,
        round_id,
        f"round {round_id} is open",
        "the invitations wait in the outbox; the next tick sends them once the broker is back",
    )
    return {**_show(rt, round_id), "warnings": warnings}


@round_.command("cards")
@click.argument("round_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="PDF file (default: cards-ROUND.pdf).")
@command
def round_cards(rt: Any, round_id: int, out: Path | None) -> dict[str, Any]:
    """Print an open card round's answer cards: a PDF, 8 cards to an A4 sheet."""
    from survey.domain.cards import card_sheet

    with rt.db.session() as s:
        pdf, count = card_sheet(rt, s, round_id)
    path = (out or Path(f"cards-{round_id}.pdf")).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    return {"path": str(path), "cards": count, "round_id": round_id}


@round_.command("remind")
@click.argument("round_id", type=int)
@command
def round_remind(rt: Any, round_id: int) -> dict[str, Any]:
    """Remind those who have not answered (same link as the invitation)."""
    from pipeline.tasks import send_pending
    from survey.domain.rounds import remind_round

    with rt.db.session() as s:
        count = remind_round(rt, s, round_id)
    if count:
        enqueue(
            send_pending,
            round_id,
            f"{count} reminder(s) for round {round_id} are queued",
            "they wait in the outbox; the next tick sends them once the broker is back",
        )
    return {**_show(rt, round_id), "reminded": count}


@round_.command("close")
@click.argument("round_id", type=int)
@click.option("--wait", is_flag=True, help="With a broker: wait until the report is delivered.")
@click.option("--timeout", type=float, default=300.0, show_default=True, help="Seconds to wait with --wait.")
@click.option("--followup-after", help="Schedule a follow-up round this long after the report (e.g. 90d).")
@command
def round_close(rt: Any, round_id: int, wait: bool, timeout: float, followup_after: str | None) -> dict[str, Any]:
    """Close a round: aggregate, render the PDF report and email it to the leader."""
    from pipeline.tasks import start_pipeline
    from survey.domain.followup import parse_days
    from survey.domain.rounds import close_round

    days = parse_days(followup_after, "--followup-after") if followup_after is not None else None
    with rt.db.session() as s:
        close_round(rt, s, round_id, followup_after_days=days)
    enqueue(
        start_pipeline,
        round_id,
        f"round {round_id} is closed to answers",
        "the report is not made yet; the first tick after the broker is back resumes it",
    )
    if wait:
        deadline = time.monotonic() + timeout
        while _show(rt, round_id)["status"] == "closing":
            if time.monotonic() > deadline:
                raise UserError(f"round {round_id} is still closing after {timeout:.0f} s", round_id=round_id)
            time.sleep(0.5)
    result = _show(rt, round_id)
    if result["status"] == "failed":
        raise UserError(f"round {round_id} failed: {result['status_reason']}", round_id=round_id)
    return result


@round_.command("followup")
@click.argument("round_id", type=int)
@click.option("--after", required=True, help="Delay from now until the follow-up opens (e.g. 90d, 12w).")
@click.option("--duration", default="14d", show_default=True, help="How long the follow-up stays open.")
@command
def round_followup(rt: Any, round_id: int, after: str, duration: str) -> dict[str, Any]:
    """Schedule the next round of the same team; the tick opens and closes it."""
    from survey.domain.followup import create_followup, parse_span

    with rt.db.session() as s:
        rnd = create_followup(rt, s, round_id, parse_span(after, "--after"), parse_span(duration, "--duration"))
        rid = rnd.id
    return {**_show(rt, rid), "previous_round_id": round_id}


@round_.command("kickoff")
@click.argument("round_id", type=int)
@command
def round_kickoff(rt: Any, round_id: int) -> dict[str, Any]:
    """Send the leader the step-1 material (Fælles viden) before the round opens; once per round."""
    from pipeline.tasks import send_pending
    from survey.domain.kickoff import queue_kickoff

    with rt.db.session() as s:
        recipient = queue_kickoff(s, round_id)
    enqueue(
        send_pending,
        round_id,
        f"the kickoff email for round {round_id} is queued",
        "it waits in the outbox; the next tick sends it once the broker is back",
    )
    return {"round_id": round_id, "kickoff_to": recipient}


@round_.command("show")
@click.argument("round_id", type=int)
@command
def round_show(rt: Any, round_id: int) -> dict[str, Any]:
    """A round's status, counts and (once closed, and only above the threshold) its figures."""
    return _show(rt, round_id)


@round_.command("focus")
@click.argument("round_id", type=int)
@click.argument("pillar_key")
@command
def round_focus(rt: Any, round_id: int, pillar_key: str) -> dict[str, Any]:
    """Record the focus pillar the team chose at the debrief; the next report follows it."""
    from survey.domain.focus import record_focus

    with rt.db.session() as s:
        record_focus(s, rt.content, round_id, pillar_key)
    return _show(rt, round_id)


@round_.command("delete")
@click.argument("round_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: the round that never opened is deleted.")
@command
def round_delete(rt: Any, round_id: int, yes: bool) -> dict[str, Any]:
    """Delete a round that has not opened (draft or scheduled; the team's latest) (asks for --yes)."""
    from survey.domain.removal import delete_round, round_refusal

    return _delete(rt, round_refusal, delete_round, round_id, yes, "the round is deleted")


def _delete(
    rt: Any,
    refusal: Callable[[Any, int], str | None],
    delete: Callable[[Any, int], dict[str, Any]],
    object_id: int,
    yes: bool,
    what: str,
) -> dict[str, Any]:
    """A deletion that may be refused: the reason comes first (no --yes makes it possible), then --yes."""
    with rt.db.session() as s:
        reason = refusal(s, object_id)
        if reason:
            raise UserError(reason)
        _confirmed(yes, what)
        return delete(s, object_id)


def _confirmed(yes: bool, what: str) -> None:
    """Destructive commands ask for ``--yes``, like ``actions delete``."""
    if not yes:
        raise UserError(f"bekræft med --yes / confirm with --yes: {what}")


def _record(rt: Any, action: str, subject: str) -> None:
    """One audit event by the command line (for commands whose subject says more than an id)."""
    from survey.domain import audit

    with rt.db.session() as session:
        audit.record(session, action, "cli", subject, rt.now())


@main.group()
def actions() -> None:
    """The team's IGLO action plan after a round."""


@actions.command("add")
@click.argument("round_id", type=int)
@click.option("--level", required=True, help="individ, gruppe, ledelse or organisation")
@click.option("--what", required=True, help="What will be done.")
@click.option("--who", required=True, help="Who does it.")
@click.option("--due", help="Due date, YYYY-MM-DD (the owner is nudged 3 days before and when it is overdue).")
@click.option("--owner-email", help="Who gets the due-date nudges (default: the team's leader).")
@click.option("--by", "by_when", default="", help="By when, as free text (kept for older plans; prefer --due).")
@click.option("--hack", "hack_key", help="The key of the hack this action puts into practice.")
@command
def actions_add(
    rt: Any,
    round_id: int,
    level: str,
    what: str,
    who: str,
    due: str | None,
    owner_email: str | None,
    by_when: str,
    hack_key: str | None,
) -> dict[str, Any]:
    """Record an agreed action; the next round's report reviews it."""
    from survey.domain.actions import add_action, list_actions

    with rt.db.session() as s:
        action = add_action(
            s,
            round_id,
            level,
            what,
            who,
            by_when,
            hack_key=hack_key,
            content=rt.content,
            due=due,
            owner_email=owner_email,
        )
        return {"id": action.id, "round_id": round_id, "actions": list_actions(s, round_id)}


@actions.command("list")
@click.argument("round_id", type=int)
@command
def actions_list(rt: Any, round_id: int) -> dict[str, Any]:
    """The actions of a round's plan, with status, hack, due date and what they were carried from."""
    from survey.domain.actions import list_actions

    with rt.db.session() as s:
        return {"round_id": round_id, "actions": list_actions(s, round_id)}


@actions.command("status")
@click.argument("action_id", type=int)
@click.argument("status", type=click.Choice(["planned", "done", "ongoing", "dropped"]))
@command
def actions_status(rt: Any, action_id: int, status: str) -> dict[str, Any]:
    """Mark an agreed action done, ongoing or dropped; the follow-up report shows it."""
    from survey.domain.actions import set_action_status

    with rt.db.session() as s:
        action = set_action_status(s, action_id, status)
        return {"id": action.id, "round_id": action.round_id, "status": action.status}


@actions.command("edit")
@click.argument("action_id", type=int)
@click.option("--level", help="individ, gruppe, ledelse or organisation")
@click.option("--what")
@click.option("--who")
@click.option("--due", help="YYYY-MM-DD; an empty value clears it.")
@click.option("--owner-email", help="An empty value clears it (the leader gets the nudges).")
@click.option("--hack", "hack_key", help="A hack key; an empty value clears it.")
@click.option("--status", type=click.Choice(["planned", "done", "ongoing", "dropped"]))
@command
def actions_edit(rt: Any, action_id: int, **changes: Any) -> dict[str, Any]:
    """Change an agreed action; only the options given change."""
    from survey.domain.actions import action_json, edit_action

    given = {k: v for k, v in changes.items() if v is not None}
    with rt.db.session() as s:
        return action_json(edit_action(s, action_id, content=rt.content, **given))


@actions.command("delete")
@click.argument("action_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: the action is removed from the plan.")
@command
def actions_delete(rt: Any, action_id: int, yes: bool) -> dict[str, Any]:
    """Remove an action from the plan (asks for --yes)."""
    from survey.domain.actions import delete_action

    _confirmed(yes, "the action is removed from the plan")
    with rt.db.session() as s:
        round_id = delete_action(s, action_id)
    return {"deleted": action_id, "round_id": round_id}


@main.group()
def mail() -> None:
    """The outbox: send again what failed."""


@mail.command("retry")
@click.argument("round_id", type=int, required=False)
@command
def mail_retry(rt: Any, round_id: int | None) -> dict[str, Any]:
    """Send again the emails that failed for good (of one round, or all), each with its Message-ID."""
    from pipeline.tasks import send_again
    from survey.domain.mail_retry import retry_failed

    with rt.db.session() as s:
        result = retry_failed(rt, s, round_id)
    try:
        send_again(result)
    except Exception as exc:
        failure = service_failure(exc)
        if failure is None:
            raise
        raise UserError(
            f"{result['requeued']} emails are back in the outbox, but {failure}; the tick sends them",
            committed=True,
            **result,
        ) from exc
    return result


@main.group()
def user() -> None:
    """Web accounts (admin, facilitator, leader)."""


@user.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "facilitator", "leader"]))
@click.option("--name")
@click.option("--lang", default="da", show_default=True, type=click.Choice(["da", "en"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (required).")
@command
def user_add(rt: Any, email: str, role: str, name: str | None, lang: str, password_stdin: bool) -> dict[str, Any]:
    """Create a web account. The password comes on standard input, never as an argument (which `ps`
    and the shell history would show)."""
    from survey.domain.users import add_user

    if not password_stdin:
        raise UserError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with rt.db.session() as s:
        created = add_user(s, email, role, password, name, lang)
        return {"id": created.id, "email": created.email, "role": created.role}


@main.group()
def unit() -> None:
    """Organisational units and their overview."""


@unit.command("add")
@click.argument("name")
@click.option("--parent", "parent_id", type=int, help="The unit above this one.")
@click.option("--head-email", help="The unit head's email (sees the unit's overview once logged in).")
@command
def unit_add(rt: Any, name: str, parent_id: int | None, head_email: str | None) -> dict[str, Any]:
    """Create an organisational unit."""
    from survey.domain.units import add_unit

    with rt.db.session() as s:
        u = add_unit(s, name, parent_id, head_email)
        return {"id": u.id, "name": u.name, "parent_id": u.parent_id, "head_email": u.head_email}


@unit.command("set")
@click.argument("unit_id", type=int)
@click.option("--name", help="A new name.")
@click.option("--parent", "parent_id", type=int, help="Move the unit under this unit (never under itself).")
@click.option("--top", is_flag=True, help="Make the unit a top unit (no unit above it).")
@click.option("--head-email", help="The unit head's email; an empty string removes the head.")
@command
def unit_set(
    rt: Any, unit_id: int, name: str | None, parent_id: int | None, top: bool, head_email: str | None
) -> dict[str, Any]:
    """Rename a unit, move it, or set its head; only the options given change."""
    from survey.domain.organisation import set_unit

    with rt.db.session() as s:
        u = set_unit(s, unit_id, name=name, parent_id=parent_id, top=top, head_email=head_email)
        return {"id": u.id, "name": u.name, "parent_id": u.parent_id, "head_email": u.head_email}


@unit.command("delete")
@click.argument("unit_id", type=int)
@click.option("--yes", is_flag=True, help="Confirm: the empty unit is deleted.")
@command
def unit_delete(rt: Any, unit_id: int, yes: bool) -> dict[str, Any]:
    """Delete a unit that holds no team and no unit (asks for --yes)."""
    from survey.domain.organisation import contents, delete_unit

    with rt.db.session() as s:
        if contents(s, unit_id).empty:
            _confirmed(yes, "the unit is deleted")
        return delete_unit(s, unit_id)


@unit.command("show")
@click.argument("unit_id", type=int)
@command
def unit_show(rt: Any, unit_id: int) -> dict[str, Any]:
    """Every team of the unit and its sub-units side by side, within the anonymity rules."""
    from survey.domain.units import show_unit

    with rt.db.session() as s:
        return show_unit(rt.content, s, unit_id, rt.config["MIN_RESPONSES"])


@unit.command("report")
@click.argument("unit_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the PDF.")
@click.option("--lang", default="da", show_default=True, help="da or en.")
@command
def unit_report(rt: Any, unit_id: int, out: Path | None, lang: str) -> dict[str, Any]:
    """The unit's overview as a PDF (the change it shows is each team's since its previous measurement)."""
    from survey.domain.teams import check_lang
    from survey.domain.units import unit_report as render_unit_report

    check_lang(lang)
    with rt.db.session() as s:
        pdf, pages = render_unit_report(rt, s, unit_id, lang)
        path = (out or Path(f"unit-{unit_id}.pdf")).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf)
    return {"path": str(path), "pages": pages, "unit_id": unit_id}


@main.command()
@command
def tick(rt: Any) -> dict[str, Any]:
    """One scheduler pass (beat runs this every minute)."""
    from pipeline.tick import run_tick

    if not rt.eager:
        # with a broker the tick asks it how many tasks wait, and hands every one to the workers: the app's way
        with _runtime(with_tasks=True):
            from pipeline.tasks import tick as tick_task

            return tick_task.run()

    def hand_over(found: Any) -> None:
        # the tasks run here, in the app's context: built only on a minute with something due
        with _runtime(with_tasks=True):
            from pipeline.tasks import dispatch

            dispatch(found)

    return run_tick(rt, idle=False, dispatch=hand_over)


@main.command()
@command
def purge(rt: Any) -> dict[str, Any]:
    """Delete personal data of rounds finished more than TRYGHED_RETENTION_DAYS ago (the tick does it too)."""
    from survey.domain.purge import purge as purge_rounds

    with rt.db.session() as s:
        return purge_rounds(rt, s)


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Where to write the PDF report.",
)
@click.option("--instrument", "instrument_name", help="Run the demo with this instrument (TRYGHED_CONTENT_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def demo(out_dir: Path, instrument_name: str | None, as_json: bool) -> None:
    """The whole main job on the embedded default: invite, answer through the form, close, report."""
    from survey.demo import run_demo

    try:
        result = run_demo(out_dir, instrument_name)
    except (UserError, ValueError) as exc:
        _fail(getattr(exc, "message", str(exc)), as_json)
    except Exception as exc:  # a full disk under --out, a database that went away
        failure = service_failure(exc)
        if failure is None:
            raise
        _fail(failure, as_json)
    emit(
        result,
        as_json,
        lambda r: (
            f"Demo: {r['responses']} af {r['invited']} svarede i '{r['team']}'.\n"
            f"Rapport (PDF): {r['pdf']}\nRapport-mail:  {r['report_email']}\n"
            + "\n".join(f"  {p['key']:<10} {p['mean']}  {p['band']}" for p in r["pillars"])
            + f"\nFokus: {', '.join(r['focus_pillars'])} ({r['seconds']} s)"
        ),
    )


if __name__ == "__main__":
    main()
