"""Teams and their participants: adding a team, importing participants from CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from survey.data.models import Participant, Team
from survey.domain.validation import NAME_MAX, clean_email, clean_optional, clean_text
from survey.errors import NotFound, Text, UserError

LANGS = ("da", "en")
TRACKS = ("selfguided", "facilitated")


def check_email(value: str, what: str = "email") -> str:
    """One plain email address, lower-cased (see ``survey.domain.validation.clean_email``)."""
    return clean_email(value, what)


def check_lang(value: str) -> str:
    if value not in LANGS:
        raise UserError(
            Text("language must be one of %(choices)s, got %(value)s", choices=", ".join(LANGS), value=repr(value))
        )
    return value


def check_instrument(name: str | None, known: Collection[str]) -> str | None:
    """``name`` if it is one of the ``known`` instruments (None: the default instrument)."""
    if name is not None and name not in known:
        raise UserError(
            Text("unknown instrument %(name)s; known: %(choices)s", name=repr(name), choices=", ".join(sorted(known)))
        )
    return name


def add_team(
    session: Session,
    name: str,
    leader_email: str,
    leader_name: str | None = None,
    lang: str = "da",
    instrument: str | None = None,
    trio_emails: list[str] | None = None,
    known_instruments: Collection[str] | None = None,
    track: str = "selfguided",
    unit_id: int | None = None,
) -> Team:
    """Create a team (committed). ``instrument`` names the instrument the team is measured with (None:
    the default); with ``known_instruments`` given, an unknown name is refused. ``unit_id`` places the
    team in an organisational unit."""
    if known_instruments is not None:
        check_instrument(instrument, known_instruments)
    # the team name is in every email's subject line: one line, no control or direction characters
    name = clean_text(name, "team name", max_len=NAME_MAX)
    if unit_id is not None:
        from survey.data.models import Unit

        if session.get(Unit, unit_id) is None:
            raise NotFound(Text("unit %(unit_id)s does not exist", unit_id=unit_id))
    team = Team(
        track=check_track(track),
        name=name,
        leader_email=check_email(leader_email, "leader email"),
        leader_name=clean_optional(leader_name, "leader name"),
        lang=check_lang(lang),
        instrument=instrument,
        trio_emails=[check_email(e, "TRIO email") for e in (trio_emails or [])],
        unit_id=unit_id,
    )
    session.add(team)
    session.commit()
    return team


def check_track(value: str) -> str:
    if value not in TRACKS:
        raise UserError(
            Text("track must be one of %(choices)s, got %(value)s", choices=", ".join(TRACKS), value=repr(value))
        )
    return value


def update_team(
    session: Session,
    team_id: int,
    *,
    lang: str | None = None,
    instrument: str | None = None,
    track: str | None = None,
    trio_emails: list[str] | None = None,
    known_instruments: tuple[str, ...] = (),
) -> Team:
    """Change a team's language, instrument, track or TRIO addresses (committed); None leaves a value as is.

    ``instrument`` "" means the default instrument; other names must be in ``known_instruments``.
    """
    team = get_team(session, team_id)
    if lang is not None:
        team.lang = check_lang(lang)
    if track is not None:
        team.track = check_track(track)
    if instrument is not None:
        team.instrument = check_instrument(instrument or None, known_instruments)
    if trio_emails is not None:
        team.trio_emails = [check_email(e, "TRIO email") for e in trio_emails if e.strip()]
    session.commit()
    return team


def add_participant(
    session: Session, team_id: int, email: str, name: str | None = None, lang: str | None = None
) -> Participant:
    """Add one participant, or re-activate one with the same email (committed)."""
    team = get_team(session, team_id)
    email = check_email(email)
    name = clean_optional(name, "name")
    lang = check_lang(lang or team.lang)
    person = session.scalar(select(Participant).where(Participant.team_id == team_id, Participant.email == email))
    if person is None:
        person = Participant(team_id=team_id, email=email, name=name, lang=lang, active=True)
        session.add(person)
    else:
        person.name, person.lang, person.active = name or person.name, lang, True
    session.commit()
    return person


def deactivate_participant(session: Session, participant_id: int) -> Participant:
    """Take a participant out of future rounds (committed); invitations already sent stay valid."""
    person = session.get(Participant, participant_id)
    if person is None:
        raise NotFound(Text("participant %(participant_id)s does not exist", participant_id=participant_id))
    person.active = False
    session.commit()
    return person


def list_participants(session: Session, team_id: int) -> list[Participant]:
    """The team's participants, active first, then by email."""
    return list(
        session.scalars(
            select(Participant)
            .where(Participant.team_id == team_id)
            .order_by(Participant.active.desc(), Participant.email)
        )
    )


def get_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(Text("team %(team_id)s does not exist", team_id=team_id))
    return team


@dataclass(frozen=True)
class ParsedRow:
    line: int
    email: str
    name: str | None
    lang: str


def parse_participants_csv(text: str, default_lang: str = "da") -> list[ParsedRow]:
    """Parse ``email,name[,lang]`` rows. Raises UserError with every bad row by line number."""
    if text.startswith("\ufeff"):  # Excel writes a byte-order mark
        text = text[1:]
    lines = text.splitlines()
    sample = lines[0] if lines else ""
    delimiter = ";" if sample.count(";") > sample.count(",") else ","  # Danish Excel uses semicolons
    # newline="" lets the csv module see \r, \n and \r\n line ends as they are (old Mac files use \r only)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    errors: list[dict[str, object]] = []
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UserError(Text("bad CSV header"), errors=[{"line": 1, "error": _csv_problem(exc)}]) from exc
    if header is None:
        raise UserError(
            Text("the CSV file is empty"), errors=[{"line": 1, "error": Text("empty file, expected a header")}]
        )
    columns = [h.strip().lower() for h in header]
    if columns[:2] != ["email", "name"] or len(columns) > 3 or (len(columns) == 3 and columns[2] != "lang"):
        raise UserError(
            Text("bad CSV header"),
            errors=[
                {
                    "line": 1,
                    "error": Text("expected 'email,name[,lang]', got %(header)s", header=repr(",".join(header))),
                }
            ],
        )
    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    for cells in _rows(reader, errors):
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            errors.append(
                {
                    "line": line,
                    "error": Text("expected %(expected)s columns, got %(got)s", expected=len(columns), got=len(cells)),
                }
            )
            continue
        try:
            email = check_email(cells[0])
            name = clean_optional(cells[1], "name")
            lang = check_lang(cells[2].strip() or default_lang) if len(columns) == 3 else default_lang
        except UserError as exc:
            errors.append({"line": line, "error": exc.message})
            continue
        if email in seen:
            errors.append(
                {"line": line, "error": Text("%(email)s is already on line %(line)s", email=email, line=seen[email])}
            )
            continue
        seen[email] = line
        rows.append(ParsedRow(line, email, name, lang))
    if errors:
        raise UserError(Text("%(count)s invalid row(s); nothing was imported", count=len(errors)), errors=errors)
    if not rows:
        raise UserError(
            Text("the CSV file has no participants"), errors=[{"line": 2, "error": Text("no rows after the header")}]
        )
    return rows


def _csv_problem(exc: csv.Error) -> Text:
    message = str(exc)
    if "field larger than field limit" in message:
        return Text(
            "a field is longer than %(most)s characters; is this the right file?",
            most=format(csv.field_size_limit(), ","),
        )
    return Text("not readable as CSV: %(problem)s", problem=message)  # the csv module's own words


def _rows(reader: Any, errors: list[dict[str, object]]) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot read is an error on its line, and reading stops
    (after a broken quote the rest of the file cannot be trusted to line up)."""
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append({"line": reader.line_num, "error": _csv_problem(exc)})
            return
        yield cells


def import_participants(session: Session, team_id: int, text: str) -> dict[str, int]:
    """Add or update the team's participants from CSV text; all rows or none (committed)."""
    team = get_team(session, team_id)
    rows = parse_participants_csv(text, team.lang)
    existing = {p.email: p for p in session.scalars(select(Participant).where(Participant.team_id == team_id))}
    added = updated = 0
    for row in rows:
        current = existing.get(row.email)
        if current is None:
            session.add(Participant(team_id=team_id, email=row.email, name=row.name, lang=row.lang, active=True))
            added += 1
        else:
            current.name, current.lang, current.active = row.name, row.lang, True
            updated += 1
    session.commit()
    total = len(existing) + added
    return {"team_id": team_id, "added": added, "updated": updated, "participants": total}


# teams per page of ``team list`` when paged (``--before`` without ``--limit``); as ``round list``
LIST_LIMIT = 200


def list_teams(session: Session, *, limit: int | None = None, before: int | None = None) -> list[dict[str, object]]:
    """Teams with their number of active participants and rounds (for facilitators).

    Without ``limit`` and ``before``: every team, oldest first (as ``team list`` always answered). Paged: the
    teams with an id below ``before``, newest first, at most ``limit`` (``LIST_LIMIT`` by default), and
    participants and rounds are counted for those teams only, through their ``team_id`` indexes.
    """
    from sqlalchemy import func

    from survey.data.models import Round

    paged = limit is not None or before is not None
    people = select(Participant.team_id, func.count().label("n")).where(Participant.active.is_(True))
    rounds = select(Round.team_id, func.count().label("n"))
    query = select(Team)
    if paged:
        page = select(Team.id).order_by(Team.id.desc()).limit(limit or LIST_LIMIT)
        if before is not None:
            page = page.where(Team.id < before)
        ids = select(page.subquery().c.id)
        people, rounds = people.where(Participant.team_id.in_(ids)), rounds.where(Round.team_id.in_(ids))
        query = query.where(Team.id.in_(ids))
    counted = [q.group_by(q.selected_columns[0]).subquery() for q in (people, rounds)]
    rows = session.execute(
        query.add_columns(*(func.coalesce(c.c.n, 0) for c in counted))
        .outerjoin(counted[0], counted[0].c.team_id == Team.id)
        .outerjoin(counted[1], counted[1].c.team_id == Team.id)
        .order_by(Team.id.desc() if paged else Team.id)
    ).all()
    return [
        {"id": t.id, "name": t.name, "leader_email": t.leader_email, "lang": t.lang, "participants": p, "rounds": r}
        for t, p, r in rows
    ]
