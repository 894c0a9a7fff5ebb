"""The clinician record (CLINICAL.md §3): everything the chart needs, for every decision.

Findings, every screening answer, clearances, the follow-up decision with its outcome charts,
the program summary with doses, what was withheld, the full decision trace with rule ids, and
the versions and digests. Nothing here ever reaches a patient-facing page; the record is its
own PDF, never attached to the patient's e-mail.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.platypus import Table

from hepplan import __version__
from hepplan.domain import redflags
from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.profile import Profile
from hepplan.domain.progress import MeasureChange, Progress
from hepplan.errors import Status
from hepplan.render.kit import (
    BOLD,
    FONT,
    GREY,
    INK,
    Styles,
    build_pdf,
    frame_width,
    styles,
)
from hepplan.render.kit import para as _p
from hepplan.render.kit import table_style as _style
from hepplan.words.catalog import Words, words
from hepplan.words.text import dose_words

RECORD_BODY, RECORD_LEAST = 10.0, 9.0
SHADED = (
    "Shaded: within one minimal clinically important difference (MCID) of the first visit; a "
    "change inside the band is not meaningful."
)
#: Outcome charts side by side, at most this many to a row.
CHARTS_PER_ROW = 3
BAND = colors.HexColor("#E3ECF5")
LINE = colors.HexColor("#1F4E79")
RULE = colors.HexColor("#DDDDDD")

#: The follow-up flags, in words for the chart.
FLAG_WORDS = {
    "review_diagnosis": (
        "Review the diagnosis: an outcome measure is worse by at least its minimal clinically "
        "important difference."
    ),
    "review_plan": (
        "Review the plan or refer: no outcome measure has improved by its minimal clinically "
        "important difference in six weeks or more (NICE NG59)."
    ),
    "reexamine_nerve": (
        "Re-examine the nerve: the patient reported new or spreading neurological symptoms or "
        "pain that calls for a step back."
    ),
}
STATUS_WORDS = {
    Status.PRESCRIBED: "Program prescribed",
    Status.REFUSED: "Program refused: referred for medical care",
    Status.INCOMPLETE: "Screening incomplete: no program until every question is answered",
}


def chart_record(profile: Profile, decision: Decision, clinic: Clinic) -> bytes:
    """The clinician record every command writes: with the follow-up decision (CLINICAL.md §4)
    when this visit is a follow-up and a program is prescribed. A refusal's record shows no
    step to move to: there is no program to move in."""
    return render_record(profile, decision, clinic, follow_up_of(profile, decision))


def follow_up_of(profile: Profile, decision: Decision) -> Progress | None:
    """The follow-up decision of a prescribed follow-up visit, as the decision carries it."""
    return decision.progress if decision.prescribed else None


def render_record(
    profile: Profile,
    decision: Decision,
    clinic: Clinic,
    progress: Progress | None = None,
) -> bytes:
    """The clinician record as PDF bytes, for a prescribed, refused or incomplete decision.
    It is a chart's page, not a patient's: 10 pt text, 9 pt at the least."""
    s = styles(False, RECORD_BODY, RECORD_LEAST)
    width = frame_width(clinic)
    story = _heading(profile, decision, clinic, s)
    if progress is not None:
        story += _follow_up(progress, s, width)
    if decision.prescribed:
        story += _program(decision, s, width, words(profile.patient.language))
    story += _findings(profile, s, width)
    story += _screening(profile, decision, s, width)
    if decision.clinician_notes:
        notes = [_p(note, s.small) for note in decision.clinician_notes]
        story += [_p("Withheld or adjusted", s.h2), *notes]
    story += [_p("Decision trace", s.h2), *(_p(line, s.small) for line in decision.trace)]
    left = f"Clinician record · {profile.patient.id} · {profile.assessment.date.isoformat()}"
    return build_pdf(
        story, clinic, "Clinician record", lambda n, total: (left, f"page {n} of {total}"), s
    )


def _heading(profile: Profile, decision: Decision, clinic: Clinic, s: Styles) -> list:
    patient, a = profile.patient, profile.assessment
    who = f"{patient.name} ({patient.id})" + (
        f", age {patient.age}" if patient.age is not None else ""
    )
    lines = [
        _p("Clinician record", s.title),
        _p(who, s.strong),
        _p(
            f"Assessed {a.date.isoformat()} by {a.clinician}"
            + (f" · {clinic.name}" if clinic.name else ""),
            s.body,
        ),
        _p(f"{STATUS_WORDS[decision.status]} (disposition: {decision.disposition})", s.strong),
    ]
    if decision.triggered:
        lines.append(_p("Counted red flags: " + ", ".join(decision.triggered), s.body))
    if decision.missing:
        lines.append(_p("Not yet asked: " + ", ".join(decision.missing), s.body))
    lines += _versions(decision, s)
    return lines


def _rows(
    rows: list[tuple[str, str]], s: Styles, width: float, first: float = 0.32, pairs: int = 1
) -> Table:
    """Label-value rows, ``pairs`` of them side by side. A short value is drawn as a plain
    string, which costs a fraction of a paragraph."""
    part = width / pairs
    room = part * (1 - first) / (s.size * 0.65)  # characters that surely fit on one line
    cells = [
        [_p(key, s.small), value if len(value) < room else _p(value, s.body)] for key, value in rows
    ]
    cells += [["", ""]] * (-len(cells) % pairs)
    grid = [[c for cell in cells[i : i + pairs] for c in cell] for i in range(0, len(cells), pairs)]
    table = Table(grid, colWidths=[part * first, part * (1 - first)] * pairs, hAlign="LEFT")
    table.setStyle(
        _style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("FONTSIZE", (0, 0), (-1, -1), s.size),
                ("LEADING", (0, 0), (-1, -1), s.body.leading),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
            ]
        )
    )
    return table


def _findings(profile: Profile, s: Styles, width: float) -> list:
    a = profile.assessment
    rows = [
        ("Painful side", a.side.value),
        ("Piriformis", a.piriformis.value),
        (
            "Gluteus medius / maximus",
            f"{_grade(a.glute_strength.medius)} / {_grade(a.glute_strength.maximus)}",
        ),
        ("Radicular level", a.radicular_level.value),
        ("Irritability", a.irritability.value),
        ("Pain now", "not recorded" if a.pain_now is None else f"{a.pain_now}/10"),
        ("Directional preference", a.directional_preference.value),
        ("Conditions", ", ".join(c.value for c in a.conditions) or "none"),
        ("Equipment", ", ".join(e.value for e in a.equipment) or "none beyond chair, wall, mat"),
    ]
    plan = profile.plan
    if plan.include or plan.exclude:
        rows.append(
            (
                "Clinician's includes / excludes",
                " / ".join(", ".join(ids) or "-" for ids in (plan.include, plan.exclude)),
            )
        )
    return [_p("Findings", s.h2), _rows(rows, s, width, first=0.45, pairs=2)]


def _screening(profile: Profile, decision: Decision, s: Styles, width: float) -> list:
    cleared = profile.cleared
    rows = []
    for flag in redflags.RED_FLAGS:
        answer = profile.red_flags.answer(flag.key)
        shown = "not asked" if answer is None else answer.value
        if flag.key in cleared:
            shown += " (medically cleared)"
        rows.append((f"{flag.label} [{flag.key}, {flag.level.word}]", shown))
    story = [_p("Red-flag screening", s.h2), _rows(rows, s, width, first=0.72, pairs=2)]
    if profile.medical_clearance:
        story.append(_p("Medical clearances", s.h2))
        for entry in profile.medical_clearance:
            note = f". {entry.note}" if entry.note else ""
            story.append(
                _p(
                    f"{entry.flag}: cleared by {entry.cleared_by} on "
                    f"{entry.date.isoformat()}{note}",
                    s.body,
                )
            )
    return story


def _follow_up(progress: Progress, s: Styles, width: float) -> list:
    story = [
        _p("Follow-up", s.h2),
        _p(
            f"Decision: {progress.decision} (step {progress.from_step} → step {progress.to_step})",
            s.strong,
        ),
        *(_p(reason, s.body) for reason in progress.reasons),
        *(_p(FLAG_WORDS[flag], s.strong) for flag in progress.flags),
    ]
    charts = list(progress.outcomes.values())
    for first in range(0, len(charts), CHARTS_PER_ROW):
        story.append(_chart_row(charts[first : first + CHARTS_PER_ROW], s, width))
    if charts:
        story.append(_p(SHADED, s.small))
    return story


def _chart_row(changes: list[MeasureChange], s: Styles, width: float) -> Table:
    """Outcome charts side by side, each under its measure's line."""
    part = width / CHARTS_PER_ROW
    cells = [[_p(_measure_line(c), s.small), outcome_chart(c, part - 8, 85)] for c in changes]
    table = Table([cells], colWidths=[part] * len(changes), hAlign="LEFT")
    table.setStyle(
        _style(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _measure_line(change: MeasureChange) -> str:
    verdict = "meaningful" if change.meaningful else "not meaningful"
    return (
        f"{change.measure.name}: first {change.first:g}, now {change.last:g}, change "
        f"{change.change:+g} ({change.direction}; {verdict}, MCID {change.measure.mcid:g})"
    )


def _scale_top(change: MeasureChange) -> float:
    return 100.0 if change.measure.key == "odi" else 10.0


def _label(x: float, y: float, text: str, *, anchor: str, bold: bool = False) -> String:
    font, colour = (BOLD, INK) if bold else (FONT, GREY)
    return String(x, y, text, fontName=font, fontSize=9, fillColor=colour, textAnchor=anchor)


@dataclass(frozen=True)
class _Frame:
    """Where a chart's values land: its plotting box, the days it spans, the scale's top."""

    left: float
    bottom: float
    right: float
    top: float
    span: int
    top_value: float

    def x(self, day: int) -> float:
        return self.left + (self.right - self.left) * day / self.span

    def y(self, value: float) -> float:
        return self.bottom + (self.top - self.bottom) * value / self.top_value


def outcome_chart(change: MeasureChange, width: float, height: float = 110) -> Drawing:
    """Points joined by a line across visits, the band within one MCID of the first visit
    shaded (a change inside it is not meaningful), dates on the x axis."""
    drawing = Drawing(width, height)
    days = [(day - change.points[0][0]).days for day, _ in change.points]
    frame = _Frame(34, 22, width - 10, height - 8, max(days[-1], 1), _scale_top(change))
    _axes(drawing, frame, change)
    points = [(frame.x(d), frame.y(v)) for d, (_, v) in zip(days, change.points, strict=True)]
    drawing.add(PolyLine([c for point in points for c in point], strokeColor=LINE, strokeWidth=1.6))
    for (px, py), (day, value) in zip(points, change.points, strict=True):
        drawing.add(Circle(px, py, 3, fillColor=LINE, strokeColor=colors.white, strokeWidth=0.8))
        drawing.add(_label(px, py + 6, f"{value:g}", anchor="middle", bold=True))
        drawing.add(_label(px, frame.bottom - 12, _short_date(day), anchor="middle"))
    return drawing


def _axes(drawing: Drawing, f: _Frame, change: MeasureChange) -> None:
    """The MCID band around the first visit, the two axes and the scale."""
    low = max(0.0, change.first - change.measure.mcid)
    high = min(f.top_value, change.first + change.measure.mcid)
    band = Rect(f.left, f.y(low), f.right - f.left, f.y(high) - f.y(low), strokeColor=None)
    band.fillColor = BAND
    drawing.add(band)
    drawing.add(Line(f.left, f.bottom, f.right, f.bottom, strokeColor=GREY, strokeWidth=0.6))
    drawing.add(Line(f.left, f.bottom, f.left, f.top, strokeColor=GREY, strokeWidth=0.6))
    for value in (0.0, f.top_value / 2, f.top_value):
        drawing.add(_label(f.left - 6, f.y(value) - 3, f"{value:g}", anchor="end"))


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b')}"


def _program(decision: Decision, s: Styles, width: float, w: Words) -> list:
    story = [_p("Program summary", s.h2)]
    for phase in decision.phases:
        start, end = phase.weeks
        when = "done before this visit" if phase.done else f"weeks {start}-{end}"
        story.append(
            _p(
                f"Step {phase.number}: {w.say(phase.name)} ({when}, "
                f"about {phase.minutes_per_day} min/day)",
                s.strong,
            )
        )
        if phase.done:
            continue
        rows = [
            (item.name, dose_words(item) + (f"; side: {item.side}" if item.side else ""))
            for item in (*phase.exercises, phase.aerobic)
        ]
        story.append(_rows(rows, s, width))
        criteria = "; ".join(line.rstrip(".") for line in w.lines(phase.progress_when))
        story.append(_p(f"Move on when: {criteria}.", s.small))
    return story


def _versions(decision: Decision, s: Styles) -> list:
    library = decision.library_version or "none (the library could not be used)"
    lines = [f"hepplan {__version__}", f"library version {library}"]
    if decision.prescribed:
        lines.append(f"content digest {decision.content_version} (the exercises of this program)")
    return [_p("Versions: " + " · ".join(lines), s.small)]


def _grade(value: float | None) -> str:
    return "not graded" if value is None else f"{value:g}/5"
