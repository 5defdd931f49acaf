"""Pages for every logged-in role: the start page, the step-1 knowledge page, a team's page, its reports
and trend (the debrief, focus and IGLO plan, are in ``plan``). Leaders reach only their own teams (``access.guard``);
what only facilitators may change lives in ``manage``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as WerkzeugResponse

from pipeline.charts import Series, trend_chart
from survey.data.models import Report, Round, RoundResultRow
from survey.domain import nudges, overview, tracks
from survey.domain.rounds import find_rounds, get_round, round_rows
from survey.domain.small_teams import small_team
from survey.domain.teams import get_team, list_participants
from survey.runtime import Runtime, get_runtime
from survey.web import audit_log, forms
from survey.web.access import headed_units
from survey.web.appnav import with_app_nav
from survey.web.org_forms import leader_form
from survey.web.request_db import request_session
from survey.web.team_cards import team_cards

bp = Blueprint("pages", __name__)


PAGE_SIZE = 25  # teams per start page: a municipality has 10,000
# A team's page shows its latest rounds, the chart its latest reported ones: the page costs the same for a
# team in its first year as for one with thirty rounds (docs/benchmarks.md). Every round stays one link
# away, on the team's history page, a page of HISTORY_PAGE_SIZE at a time.
TEAM_PAGE_ROUNDS = 6
TREND_ROUNDS = 12
HISTORY_PAGE_SIZE = 50


@bp.get("/")
def start() -> tuple[str, int]:
    """The teams the account may see, a page at a time, with step, latest round, answers and attention."""
    rt = get_runtime()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    now = rt.now()
    session = request_session()  # the one the sign-in check read in (survey.web.request_db)

    def page_of(page: int) -> list[overview.TeamStatus]:
        # one more than a page tells whether there is a next one, without counting every team
        offset = (page - 1) * PAGE_SIZE
        role, email = current_user.role, current_user.email
        return overview.page_statuses(session, role, email, now, limit=PAGE_SIZE + 1, offset=offset)

    found = page_of(page)
    if not found and page > 1:
        page, found = 1, page_of(1)  # past the end (an old link): the first page
    statuses = found[:PAGE_SIZE]
    # every team's attention points, not only the page's, open requests among them (bounded:
    # survey.domain.overview.needs_attention)
    attention = overview.needs_attention(session, now) if current_user.manages else None
    # the leader's to-do list: the same occasions as the nudge emails (survey.domain.nudges)
    teams = [status.team for status in statuses]
    todos = [] if current_user.manages else nudges.leader_todos(session, teams, now, now.astimezone(rt.tz).date())
    return render_template(
        "web/start.html",
        units=headed_units(),  # a unit head's start page is their units (and their teams, if they lead any)
        statuses=statuses,
        cards=team_cards(statuses, _steps(rt)),
        attention=attention,
        todos=todos,
        page=page,
        more=len(found) > PAGE_SIZE,
    ), 200


@bp.get("/knowledge")
def knowledge() -> tuple[str, int]:
    """Step 1, Fælles viden: the material to share before the first round (from the content files)."""
    rt = get_runtime()
    c = rt.content
    return render_template(
        "web/knowledge.html",
        steps=c.steps,
        roles=c.roles,
        traps=c.traps,
        links=c.links,
        instrument=c.instrument(),
        measures=c.measures,
        about=c.about,
        tracks=c.tracks,
    ), 200


def _steps(rt: Runtime) -> dict[str, Any]:
    return {s.key: s for s in rt.content.steps}


def trend_svg(rt: Runtime, session: Session, team_id: int, lang: str) -> Markup | None:
    """Pillar means of the team's latest ``TREND_ROUNDS`` reported rounds as an inline SVG; rounds below k
    are gaps, never figures."""
    # the columns the chart needs, not whole rounds: a team with 30 rounds loads them for every other part
    rows = session.execute(
        select(Round.number, Round.instrument, RoundResultRow.suppressed, RoundResultRow.result)
        .join(RoundResultRow, RoundResultRow.round_id == Round.id)
        .where(Round.team_id == team_id, Round.status == "reported")
        .order_by(Round.number.desc())
        .limit(TREND_ROUNDS)
    ).all()[::-1]
    if not rows:
        return None
    instrument = rt.content.instrument(rows[-1].instrument)
    means = [None if row.suppressed else {p["key"]: p["mean"] for p in row.result["pillars"]} for row in rows]
    series = [
        Series(pillar.name.get(lang), [None if m is None else m.get(pillar.key) for m in means])
        for pillar in instrument.pillars
    ]
    labels = [_("Round %(n)s", n=row.number) for row in rows]
    svg = trend_chart(
        labels,
        series,
        scale_min=instrument.scale_min,
        scale_max=instrument.scale_max,
        red_below=instrument.bands.red_below,
        green_from=instrument.bands.green_from,
        title=_("The pillars over the team's rounds"),
    )
    return Markup(svg)  # built from numbers and escaped labels by pipeline.charts


def team_context(rt: Runtime, session: Session, team_id: int, **overrides: Any) -> dict[str, Any]:
    """Everything the team page shows; ``overrides`` put a form with its errors back in place."""
    team = get_team(session, team_id)
    status = overview.team_statuses(session, [team], rt.now())[0]
    table = rounds_table(rt, session, team_id, limit=TEAM_PAGE_ROUNDS)
    rounds = table["rounds"]
    latest_id = rounds[0]["id"] if rounds else None
    settings = forms.SettingsForm(
        lang=team.lang, track=team.track, instrument=team.instrument or "", trio_emails=", ".join(team.trio_emails)
    )
    settings.instrument.choices = forms.options(
        [("", _("Default instrument"))]
        + [(name, ins.title.get(current_user.lang)) for name, ins in sorted(rt.content.instruments.items())]
    )
    # a facilitated team follows the toolkit's own process, each session one a facilitator plans
    track = rt.content.track(team.track)
    process = track.sessions if track else ()
    kinds = [m.key for m in process]
    context: dict[str, Any] = {
        "team": team,
        "track": track,
        "process": process,
        "process_state": tracks.process_of(session, team_id, kinds),
        "process_forms": {k: forms.PlanForm(prefix=f"s-{k}") for k in kinds},
        "session_titles": {m.key: m.title.get(current_user.lang) for t in rt.content.tracks for m in t.sessions},
        "status": status,
        "steps": _steps(rt),
        "participants": list_participants(session, team_id) if current_user.manages else [],
        **table,
        "latest_round_id": latest_id,
        "delivery": overview.delivery(session, latest_id) if latest_id and current_user.manages else None,
        "trend": trend_svg(rt, session, team_id, current_user.lang),
        "timeline": tracks.timeline(session, team_id, kinds, rounds=TEAM_PAGE_ROUNDS),
        "requests": tracks.requests_of(session, team_id),
        "upload_form": forms.UploadForm(),
        "participant_form": forms.ParticipantForm(lang=team.lang),
        "settings_form": settings,
        "round_form": forms.RoundForm(),
        "followup_form": forms.FollowupForm(),
        "request_form": forms.RequestForm(),
        "leader_form": leader_form(session, team) if current_user.manages else None,
        "button": forms.EmptyForm(),
        "csv_errors": None,
        # fewer people than the threshold: told before the round, with the honest options
        "small_team": small_team(session, team_id, int(rt.config["MIN_RESPONSES"])),
    }
    process_forms = overrides.pop("process_forms", {})
    context.update(overrides)
    context["process_forms"] = {**context["process_forms"], **process_forms}
    return context


def rounds_table(
    rt: Runtime, session: Session, team_id: int, *, limit: int, before: int | None = None
) -> dict[str, Any]:
    """A team's rounds newest first, at most ``limit`` of them (older than the round ``before``), with what
    their rows show: the round objects, which have a report, and whether older rounds follow."""
    found = find_rounds(session, team_id, limit=limit + 1, before=before)
    shown, more = found[:limit], len(found) > limit
    rounds = round_rows(rt, session, shown)
    objs = {r.id: r for r in shown}
    ids = list(objs)  # at most ``limit``: a bounded IN list
    reported = set(session.scalars(select(Report.round_id).where(Report.round_id.in_(ids)))) if ids else set()
    return {"rounds": rounds, "round_objs": objs, "reported": reported, "more_rounds": more}


@bp.get("/teams/<int:team_id>")
def team(team_id: int) -> tuple[str, int]:
    rt = get_runtime()
    with rt.db.session() as session:
        return render_template("web/team.html", **team_context(rt, session, team_id)), 200


@bp.get("/teams/<int:team_id>/history")
def team_history(team_id: int) -> tuple[str, int]:
    """Every round of a team, newest first, ``HISTORY_PAGE_SIZE`` a page (``?before=<round id>`` pages on)."""
    rt = get_runtime()
    before = request.args.get("before", type=int)
    if before is not None and not 0 < before < 2**31:
        before = None  # no round has such an id (an edited link): the first page
    with rt.db.session() as session:
        team = get_team(session, team_id)
        table = rounds_table(rt, session, team_id, limit=HISTORY_PAGE_SIZE, before=before)
        latest = (
            session.scalar(select(func.max(Round.id)).where(Round.team_id == team_id))
            if before is not None
            else next((r["id"] for r in table["rounds"]), None)
        )
        return render_template(
            "web/team_history.html",
            team=team,
            before=before,
            latest_round_id=latest,
            **table,
        ), 200


@bp.get("/rounds/<int:round_id>/report.pdf")
def report_pdf(round_id: int) -> Response:
    """The round's PDF report, as the leader got it by email (only once it exists)."""
    with get_runtime().db.session() as session:
        report = session.get(Report, round_id)
        if report is None:
            abort(404)
        rnd = get_round(session, round_id)
        name = f"tryghed-{rnd.team_id}-runde-{rnd.number}.pdf"
        audit_log.note("report_downloaded", f"round {round_id}")
        return Response(
            report.pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


@bp.get("/rounds/<int:round_id>/report")
def report_page(round_id: int) -> tuple[str, int]:
    """The web report (the same page as the leader's signed link), once the round is reported."""
    from pipeline.report_builder import build_report_data
    from pipeline.report_html import report_html

    rt = get_runtime()
    with rt.db.session() as session:
        if get_round(session, round_id).status != "reported":
            abort(404)
        data = build_report_data(session, round_id, rt.content, rt.tz)
    audit_log.note("report_viewed", f"round {round_id}")
    return with_app_nav(report_html(data, for_web=True)), 200


@bp.post("/teams/<int:team_id>/requests")
def request_facilitator(team_id: int) -> tuple[str, int] | WerkzeugResponse:
    """A leader (or facilitator) asks for a facilitator for one step."""
    rt = get_runtime()
    form = forms.RequestForm()
    with rt.db.session() as session:
        if form.validate_on_submit():
            tracks.request_facilitator(session, team_id, form.kind.data, form.note.data or "")
            flash(_("Your request has been sent to the facilitators."))
            return redirect(url_for("pages.team", team_id=team_id), 303)
        return render_template("web/team.html", **team_context(rt, session, team_id, request_form=form)), 400
