"""What a report shows, as plain values for the templates: figures formatted, charts drawn, sections built.

Pure: ``ReportData`` in, a dict for Jinja out (no WeasyPrint, no Flask). ``pipeline.render`` turns the
result into the PDF and the web pages. Every section that needs a decision (the change against earlier
rounds with its interval, the chosen and the suggested focus, grouped answers, strongest and weakest
statements, the debrief agenda, what a suppressed report offers) is decided here, once, for both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from babel.dates import format_time
from markupsafe import Markup

from pipeline import charts, report_text
from pipeline.debrief import debrief_agenda
from pipeline.recommend import focus_reason
from pipeline.report_data import ProcessSession, ReportData
from pipeline.trend import PillarChange, RoundChange
from survey.content import PILLAR_ORDER
from survey.domain.actions import IGLO_LEVELS
from survey.locales import babel_locale


def report_context(data: ReportData) -> dict[str, object]:
    """Everything the templates need, derived from ``data`` (figures formatted, charts drawn)."""
    lang = data.lang if data.lang in ("da", "en") else "da"
    ui = report_text.section_labels(lang)
    ins = data.instrument
    if tuple(p.key for p in ins.pillars) != PILLAR_ORDER:
        # the toolkit's "the pillars build on each other" is true of its own four pillars only
        ui = {**ui, "read_pillars_text": ui["read_pillars_other"], "focus_intro": ui["focus_intro_other"]}
    bands = ins.bands
    result = data.result
    suppressed = data.suppressed or result.suppressed
    pillar_name = {p.key: p.name.get(lang) for p in ins.pillars}
    # the scale and band zones every chart is drawn on, with tick labels in the report's number format
    axis: dict[str, Any] = {
        "scale_min": ins.scale_min,
        "scale_max": ins.scale_max,
        "red_below": bands.red_below,
        "green_from": bands.green_from,
        "tick_text": lambda v: report_text.format_number(v, lang),
    }
    # the answer groups in the instrument's own scale words: a 7-point "passer" scale is no agree/disagree
    group_labels = ins.answer_groups(lang)
    points = len(ins.scale_labels)
    middle_label = ins.scale_labels[points // 2].get(lang) if points % 2 else ui["legend_neutral"]
    # the round every "since" sentence is about: the newest earlier round with figures
    labels_by_round = {h.round_id: h.label for h in data.history}
    latest = data.changes[0] if data.changes and not suppressed else None

    pillars: list[dict[str, Any]] = []
    statements: list[dict[str, Any]] = []
    items_by_key = {i.key: i for i in result.items}
    if not suppressed:
        for p in ins.pillars:
            pr = result.pillar(p.key)
            items = []
            for item in ins.items_of(p.key):
                ir = items_by_key[item.key]
                entry = _statement(item.text.get(lang), item.reverse, ir.mean, ir.distribution, group_labels, lang, ui)
                items.append(entry)
                statements.append(entry)
            pillars.append(
                {
                    "key": p.key,
                    "name": p.name.get(lang),
                    "description": p.description.get(lang),
                    "mean": report_text.format_mean(pr.mean, lang),
                    "band": pr.band,
                    "band_label": report_text.band_label(pr.band, lang),
                    "focus": p.key in data.focus_pillars,
                    "sentence": report_text.pillar_sentence(
                        p.name.get(lang), pr.mean, pr.band, lang, focus=p.key in data.focus_pillars
                    ),
                    "items": items,
                    "change": _change_sentence(latest, p.key, labels_by_round, lang, ui),
                }
            )

    summary_chart = ""
    if not suppressed:
        rows = [
            charts.BarRow(
                p.name.get(lang),
                result.pillar(p.key).mean,
                report_text.format_mean(result.pillar(p.key).mean, lang),
                p.key in data.focus_pillars,
            )
            for p in ins.pillars
        ]
        summary_chart = Markup(charts.pillar_bars(rows, **axis, title=_pillar_bars_alt(rows, ui)))

    trend = None
    if data.kind == "followup" and not suppressed:
        labels = [h.label for h in data.history] + [ui["this_round"]]
        series = [
            charts.Series(
                p.name.get(lang),
                [h.pillar_means.get(p.key) for h in data.history] + [result.pillar(p.key).mean],
            )
            for p in ins.pillars
        ]
        rows_text = [{"name": s.label, "values": [report_text.format_mean(v, lang) for v in s.values]} for s in series]
        trend = {
            "labels": labels,
            "rows": rows_text,
            "chart": Markup(
                charts.trend_chart(
                    labels,
                    series,
                    **axis,
                    # the chart's alternative text points to the table of the same figures right below it
                    title=f"{ui['chart_trend_title']} ({', '.join(labels)})",
                )
            ),
            "has_gap": any(v is None for s in series for v in s.values),
        }

    changes = [] if suppressed else [_change_table(c, labels_by_round, pillar_name, lang, ui) for c in data.changes]
    focus = [] if suppressed else _focus_context(data, latest, labels_by_round, pillar_name, lang, ui)
    ranked = sorted(statements, key=lambda s: s["raw_mean"], reverse=True)
    size = min(3, len(ranked) // 2)
    extremes = {"strongest": ranked[:size], "weakest": list(reversed(ranked[-size:])) if size else []}

    # the steps already link to their pages, and the action-plan page to the IGLO sheet (a suppressed
    # round has no action plan to make, so no IGLO link either)
    linked_elsewhere = {step.url for step in data.steps}
    if "iglo" in data.links:
        linked_elsewhere.add(data.links["iglo"])
    links = [
        {"label": ui.get(f"link_{name}", url), "url": url}
        for name, url in data.links.items()
        if url not in linked_elsewhere
    ]
    actions_by_level = {lvl: [a for a in data.previous_actions if a.level == lvl] for lvl in IGLO_LEVELS}
    # A suppressed report names no pillar as weak: it offers the first dilemma of every pillar, in order.
    first: dict[str, Any] = {}
    for d in data.all_dilemmas:
        first.setdefault(d.pillar, d)
    dilemmas = [first[p.key] for p in ins.pillars if p.key in first] if suppressed else data.dilemmas
    agenda = debrief_agenda(
        lang,
        suppressed=suppressed,
        followup=data.kind == "followup",
        strongest=extremes["strongest"][0]["text"] if extremes["strongest"] else None,
        weakest=extremes["weakest"][0]["text"] if extremes["weakest"] else None,
        focus=pillar_name.get(data.focus_pillars[0]) if data.focus_pillars and not suppressed else None,
        followed=pillar_name.get(data.followed_focus) if data.followed_focus else None,
        dilemmas=[d.title.get(lang) for d in dilemmas],
        has_previous_actions=bool(data.previous_actions),
        small_team=data.invited < data.min_responses,
    )
    title = f"{ui['report_title']} – {data.team_name}"
    return {
        "lang": lang,
        "ui": ui,
        "title": title,
        "data": data,
        "suppressed": suppressed,
        "followup": data.kind == "followup",
        "period": report_text.format_period(data.opens_at, data.closes_at, lang),
        "generated": report_text.format_date(data.generated_at, lang),
        "answered": ui["answered"].format(n=data.responses, total=data.invited),
        "scale": {
            "min": ins.scale_min,
            "max": ins.scale_max,
            "labels": [t.get(lang) for t in ins.scale_labels],
            # the three groups every distribution is drawn in, coloured by what they mean for safety
            "legend": [
                {"label": ui["legend_unsafe"], "class": "swatch-unsafe"},
                {"label": middle_label, "class": "swatch-neutral"},
                {"label": ui["legend_safe"], "class": "swatch-safe"},
            ],
        },
        "read": {
            "scale": ui["read_scale_text"].format(
                min=ins.scale_min,
                max=ins.scale_max,
                min_label=ins.scale_labels[0].get(lang),
                max_label=ins.scale_labels[-1].get(lang),
                max_fmt=report_text.format_mean(ins.scale_max, lang),
            ),
            "reverse": ui["read_reverse_text"].format(sum=ins.scale_min + ins.scale_max),
            "bands": ui["read_bands_text"].format(
                red=report_text.format_number(bands.red_below, lang),
                green=report_text.format_number(bands.green_from, lang),
            ),
            "anonymity": ui["read_anonymity_text"].format(k=data.min_responses),
            "small": ui["read_small_text"].format(n=data.responses),
        },
        "pillars": pillars,
        "pillars_explained": [{"name": p.name.get(lang), "description": p.description.get(lang)} for p in ins.pillars],
        "links": links,
        "pillar_names": [p.name.get(lang) for p in ins.pillars],
        "pillar_name": pillar_name,
        "summary_chart": summary_chart,
        "trend": trend,
        "changes": changes,
        "extremes": extremes,
        "focus": focus,
        "hacks": [] if suppressed else data.hacks,
        "plan_hacks": [] if suppressed else data.plan_hacks,
        "has_hacks": data.has_hacks,
        "dilemmas": dilemmas,
        "agenda": agenda,
        "agenda_minutes": sum(part.minutes for part in agenda),
        # a facilitated team's report shows the toolkit's process in place of the self-run agenda
        "process": [_process_session(s, ui, lang) for s in data.process],
        # whose a hack, dilemma or piece of advice is: the label of its origin ("" when the content has none)
        "origin": lambda origin: _origin(data, origin, lang),
        "traps": [
            {"title": t.title.get(lang), "text": t.text.get(lang), "origin": _origin(data, t.origin, lang)}
            for t in data.traps
        ],
        "iglo_levels": [(lvl, ui[f"iglo_{lvl}"], actions_by_level[lvl]) for lvl in IGLO_LEVELS],
        **_suppressed_text(data, ui, lang),
    }


def _origin(data: ReportData, origin: str, lang: str) -> str:
    """How a text of this origin is labelled: the toolkit's theme, or the programme's own addition."""
    label = data.about.origin(origin) if data.about else None
    return label.get(lang) if label else ""


def _process_session(s: ProcessSession, ui: dict[str, str], lang: str) -> dict[str, str]:
    """One session of the team's process, with when and where once a facilitator has planned it."""
    status = ui["process_unplanned"]
    if s.starts is not None:
        locale = babel_locale(lang)
        when = f"{report_text.format_date(s.starts, lang)} {format_time(s.starts, 'short', locale=locale)}"
        if s.ends is not None:
            when += f"–{format_time(s.ends, 'short', locale=locale)}"
        status = ui["process_planned"].format(when=when, place=s.place)
    return {"title": s.title.get(lang), "text": s.text.get(lang), "status": status}


def _suppressed_text(data: ReportData, ui: dict[str, str], lang: str) -> dict[str, Any]:
    """What a suppressed report says first, by why it has no figures: a team smaller than its threshold
    did not answer too little (3 of 4 is a high rate), so it gets its honest options instead."""
    small = data.invited < data.min_responses
    values = {"n": data.responses, "total": data.invited, "k": data.min_responses}
    if small:
        rate = report_text.format_share(data.responses, data.invited, lang)
        lead = ui["suppressed_lead_small"].format(rate=rate, **values)
        # a lower threshold helps only a team of at least 3 (k is never below 3)
        lower = [ui["suppressed_small_1"]] if data.invited >= 3 else []
        todos = [*lower, ui["suppressed_small_2"], ui["suppressed_small_3"], ui["suppressed_todo_3"]]
    else:
        lead = ui["suppressed_lead"].format(**values)
        todos = [ui[f"suppressed_todo_{i}"] for i in (1, 2, 3, 4)]
    return {"suppressed_lead": lead, "suppressed_todos": todos, "small_team": small}


def _statement(
    text: str,
    reverse: bool,
    mean: float | None,
    dist: Sequence[int] | None,
    group_labels: tuple[str, str, str],
    lang: str,
    ui: dict[str, str],
) -> dict[str, Any]:
    """One statement's figures: mean, grouped shares (never counts) and the bar with its text alternative."""
    group = charts.group_answers(dist or ())
    shares = [(group_labels[0], group.disagree)]
    if group.has_neutral:
        shares.append((group_labels[1], group.neutral))
    shares.append((group_labels[2], group.agree))
    shares_text = " · ".join(f"{label} {report_text.format_percent(share, lang)}" for label, share in shares)
    return {
        "text": text,
        "reverse": reverse,
        "mean": report_text.format_mean(mean, lang),
        "raw_mean": mean if mean is not None else 0.0,
        "agree": ui["agree_share"].format(share=report_text.format_percent(group.agree, lang)),
        # in the direction of safety: for a reverse-worded statement the safe side is disagreeing. The same
        # share the bar shows (one computation per statement, so the number is the same on every page)
        "safe": ui["safe_share"].format(
            share=report_text.format_percent(group.disagree if reverse else group.agree, lang)
        ),
        "shares_text": shares_text,
        "chart": Markup(
            charts.grouped_bar(group, reverse=reverse, labels=group_labels, title=f"{text}: {shares_text}", lang=lang)
        )
        if dist
        else "",
    }


def _pillar_bars_alt(rows: Sequence[charts.BarRow], ui: dict[str, str]) -> str:
    """The summary chart's alternative text: its title and every pillar's mean, as the chart shows them."""
    return f"{ui['chart_pillars_title']}: " + ", ".join(f"{r.label} {r.value_text}" for r in rows)


def _reading(change: PillarChange, ui: dict[str, str]) -> str:
    if change.unchanged:
        return ui["reading_unchanged"]
    return ui["reading_up"] if change.change > 0 else ui["reading_down"]


def _change_sentence(
    latest: RoundChange | None, key: str, labels_by_round: dict[int, str], lang: str, ui: dict[str, str]
) -> str:
    """The summary's sentence on how a pillar moved since the newest earlier round with figures."""
    change = latest.pillar(key) if latest else None
    if latest is None or change is None:
        return ""
    return ui["summary_change"].format(
        label=labels_by_round.get(latest.since_round_id, ""),
        delta=report_text.format_delta(change.change, lang),
        interval=report_text.format_interval(change.low, change.high, lang),
        reading=_reading(change, ui),
    )


def _change_table(
    change: RoundChange, labels_by_round: dict[int, str], names: dict[str, str], lang: str, ui: dict[str, str]
) -> dict[str, Any]:
    """One earlier round's comparison: every pillar then, now, the change, its interval and how to read it."""
    return {
        "heading": ui["change_since"].format(
            label=labels_by_round.get(change.since_round_id, ""), n=change.since_responses
        ),
        "rows": [
            {
                "name": names.get(p.key, p.key),
                "before": report_text.format_mean(p.before, lang),
                "after": report_text.format_mean(p.after, lang),
                "change": report_text.format_delta(p.change, lang),
                "interval": report_text.format_interval(p.low, p.high, lang),
                "reading": _reading(p, ui),
                "unchanged": p.unchanged,
            }
            for p in change.pillars
        ],
    }


def _focus_context(
    data: ReportData,
    latest: RoundChange | None,
    labels_by_round: dict[int, str],
    names: dict[str, str],
    lang: str,
    ui: dict[str, str],
) -> dict[str, Any]:
    """The focus page: the team's own choice and how it moved (follow-up), then the suggestion and why."""
    order = [p.key for p in data.instrument.pillars]
    followed = None
    if data.followed_focus:
        name = names.get(data.followed_focus, data.followed_focus)
        change = latest.pillar(data.followed_focus) if latest else None
        sentence = (
            ui["followed_moved"].format(
                pillar=name,
                label=labels_by_round.get(latest.since_round_id, "") if latest else "",
                delta=report_text.format_delta(change.change, lang),
                interval=report_text.format_interval(change.low, change.high, lang),
                reading=_reading(change, ui),
            )
            if change is not None
            else ui["followed_no_change"].format(pillar=name)
        )
        followed = {"key": data.followed_focus, "name": name, "sentence": sentence}
    reason = focus_reason(data.result, order)
    suggestion = None
    if reason is not None:
        name = names.get(reason.suggested, reason.suggested)
        text = ui[f"reason_{reason.rule}"].format(pillar=name, order=", ".join(names[k] for k in order))
        if reason.lowest != reason.suggested:
            lowest_mean = data.result.pillar(reason.lowest).mean
            text += " " + ui["reason_lowest_differs"].format(
                lowest=names.get(reason.lowest, reason.lowest),
                mean=report_text.format_mean(lowest_mean, lang),
                pillar=name,
            )
        suggestion = {
            "key": reason.suggested,
            "name": name,
            "description": data.instrument.pillar(reason.suggested).description.get(lang),
            "reason": text,
            "same_as_followed": followed is not None and followed["key"] == reason.suggested,
        }
    return {"followed": followed, "suggestion": suggestion}
