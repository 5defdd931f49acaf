"""Unit overview PDFs made by a worker: asked for on a page, made in the background, then offered.

A municipality's overview is a PDF of 150+ pages that takes minutes to lay out, past any web request's
timeout; so the page only records the request (``request_report``), a task makes the file
(``make_report``, from ``pipeline.tasks.render_unit_report``, in-process when there is no broker), and the
page shows where it is until the file is there. Every step is a conditional UPDATE, so a duplicated or
redelivered task makes the file once. ``tryghed unit report`` keeps rendering in the command itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from survey.data.models import UnitReport
from survey.domain.due import WORKING, move_report, stalled_reports  # noqa: F401  (stalled_reports: re-exported, the tick's read, in Core)
from survey.errors import NotFound, Text

if TYPE_CHECKING:
    from survey.runtime import Runtime

KEEP = 3  # finished files kept per unit and language: the newest, and a couple before it


def request_report(rt: Runtime, session: Session, unit_id: int, lang: str) -> str:
    """Record a request for the unit's overview PDF (committed) and return its id for the task.

    A request of the same unit and language still being made is reused rather than started twice (a
    double click, two heads asking at once).
    """
    running = session.scalar(
        select(UnitReport.id)
        .where(UnitReport.unit_id == unit_id, UnitReport.lang == lang, UnitReport.status.in_(WORKING))
        .order_by(UnitReport.created_at.desc())
        .limit(1)
    )
    if running is not None:
        return running
    job = UnitReport(unit_id=unit_id, lang=lang, status="queued", created_at=rt.now())
    session.add(job)
    session.commit()
    return job.id


def get_report(session: Session, unit_id: int, report_id: str) -> UnitReport:
    """The request ``report_id`` of this unit, or NotFound (an id of another unit is not found either)."""
    job = session.get(UnitReport, report_id)
    if job is None or job.unit_id != unit_id:
        raise NotFound(
            Text("unit %(unit_id)s has no overview request %(report_id)s", unit_id=unit_id, report_id=report_id)
        )
    return job


def latest_report(session: Session, unit_id: int, lang: str) -> UnitReport | None:
    """The newest request of the unit in ``lang``, whatever its state (None: never asked)."""
    return session.scalars(
        select(UnitReport)
        .where(UnitReport.unit_id == unit_id, UnitReport.lang == lang)
        .order_by(UnitReport.created_at.desc())
        .limit(1)
    ).first()


def make_report(rt: Runtime, session: Session, report_id: str) -> str:
    """Make the requested PDF (the worker's part); returns the final status, or "skipped" for a duplicate.

    The figures are the same as ``tryghed unit report``'s (``survey.domain.units.unit_report``); making
    the file stores nothing that a later overview reads.
    """
    from survey.domain.units import unit_report

    job = session.get(UnitReport, report_id)
    if job is None:
        return "skipped"
    unit_id, lang = job.unit_id, job.lang
    if not move_report(session, report_id, ("queued",), status="figures", started_at=rt.now()):
        return "skipped"  # another worker has it, or it is done

    def laying_out() -> None:
        move_report(session, report_id, ("figures",), status="layout")

    try:
        pdf, pages = unit_report(rt, session, unit_id, lang, on_layout=laying_out)
    except Exception as exc:
        session.rollback()
        # shown on the page: our own clear message, or only the kind of failure (a database error's text
        # carries the statement and its parameters, which no page or log may show)
        reason = getattr(exc, "message", None) or type(exc).__name__
        move_report(session, report_id, WORKING, status="failed", error=str(reason)[:2000], finished_at=rt.now())
        raise
    finished = {"status": "done", "pdf": pdf, "pages": pages, "finished_at": rt.now()}
    done = move_report(session, report_id, ("figures", "layout"), **finished)
    _forget_old(session, unit_id, lang)
    return "done" if done else "skipped"


def _forget_old(session: Session, unit_id: int, lang: str) -> None:
    """Keep the newest ``KEEP`` finished files of the unit and language; older ones go (PDFs are large)."""
    keep = select(UnitReport.id).where(
        UnitReport.unit_id == unit_id, UnitReport.lang == lang, UnitReport.status.not_in(WORKING)
    )
    newest = list(session.scalars(keep.order_by(UnitReport.created_at.desc()).limit(KEEP)))
    session.execute(
        delete(UnitReport).where(
            UnitReport.unit_id == unit_id,
            UnitReport.lang == lang,
            UnitReport.status.not_in(WORKING),
            UnitReport.id.not_in(newest),
        )
    )
    session.commit()
