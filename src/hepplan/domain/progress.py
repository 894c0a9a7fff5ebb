"""Follow-up visits: where the patient goes next, and how the outcomes changed (CLINICAL.md §4).

Pure: the follow-up answers and the outcome visits in, a ``Progress`` out. Screening runs before
this, always; a refused or incomplete screening never reaches it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from statistics import fmean

from hepplan.domain.profile import FollowUp, OutcomeVisit
from hepplan.domain.rules import (
    DAYS_DONE_TO_ADVANCE,
    MEASURES,
    PAIN_TO_ADVANCE,
    PAIN_TO_REGRESS,
    PROG_ADVANCE,
    PROG_HOLD,
    PROG_MAINTAIN,
    PROG_REGRESS,
    WEEKS_TO_ADVANCE,
    WEEKS_WITHOUT_CHANGE,
    Measure,
)
from hepplan.domain.vocab import Answer, NextMorning

__all__ = ["MEASURES", "Measure", "MeasureChange", "Progress", "decide_progress"]


@dataclass(frozen=True)
class MeasureChange:
    """One measure across visits: the points to chart, and first against last."""

    measure: Measure
    points: tuple[tuple[dt.date, float], ...]

    @property
    def first(self) -> float:
        return self.points[0][1]

    @property
    def last(self) -> float:
        return self.points[-1][1]

    @property
    def change(self) -> float:
        return round(self.last - self.first, 2)

    @property
    def direction(self) -> str:
        """better, worse or same, whichever way the measure improves."""
        gain = -self.change if self.measure.lower_is_better else self.change
        return "better" if gain > 0 else "worse" if gain < 0 else "same"

    @property
    def meaningful(self) -> bool:
        return abs(self.change) >= self.measure.mcid

    def to_dict(self) -> dict:
        return {
            "first": self.first,
            "last": self.last,
            "change": self.change,
            "mcid": self.measure.mcid,
            "meaningful": self.meaningful,
            "direction": self.direction,
            "visits": [[day.isoformat(), value] for day, value in self.points],
        }


def _series(visits: tuple[OutcomeVisit, ...], measure: Measure) -> list[tuple[dt.date, float]]:
    if measure.key != "psfs":
        return [
            (visit.date, float(getattr(visit, measure.key)))
            for visit in visits
            if getattr(visit, measure.key) is not None
        ]
    scored = [visit for visit in visits if visit.psfs]
    if len(scored) < 2:
        return [(visit.date, round(fmean(visit.psfs.values()), 2)) for visit in scored]
    # An activity is compared only with itself: the mean covers the activities that the first
    # and the latest visit both scored.
    shared = [name for name in scored[0].psfs if name in scored[-1].psfs]
    if not shared:
        return []
    return [
        (visit.date, round(fmean(visit.psfs[name] for name in shared if name in visit.psfs), 2))
        for visit in scored
        if any(name in visit.psfs for name in shared)
    ]


def measure_changes(visits: tuple[OutcomeVisit, ...]) -> dict[str, MeasureChange]:
    """Every measure taken at two visits or more, first against latest."""
    changes = {}
    for measure in MEASURES:
        points = _series(visits, measure)
        if len(points) >= 2:
            changes[measure.key] = MeasureChange(measure, tuple(points))
    return changes


@dataclass(frozen=True)
class Progress:
    """Where the patient goes next, why, and what the measures say."""

    decision: str  # advance | hold | regress | maintain
    from_step: int
    to_step: int
    reasons: tuple[str, ...]  # each starts with its rule id
    outcomes: dict[str, MeasureChange]
    flags: tuple[str, ...]  # review_diagnosis, review_plan, reexamine_nerve
    #: At a hold, each move-on criterion not met, most telling first: pain, morning, days,
    #: weeks, worse (a measure worse by its MCID).
    unmet: tuple[str, ...] = ()

    @property
    def gentle(self) -> bool:
        """A step back is dosed as for high irritability."""
        return self.decision == "regress"

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "from_step": self.from_step,
            "to_step": self.to_step,
            "reasons": list(self.reasons),
            "outcomes": {key: change.to_dict() for key, change in self.outcomes.items()},
            "flags": list(self.flags),
        }


def _regress_triggers(follow_up: FollowUp) -> list[str]:
    triggers = []
    if follow_up.new_nerve_signs in (Answer.YES, Answer.UNSURE):
        answer = follow_up.new_nerve_signs.value
        triggers.append(f"new or spreading numbness, tingling or weakness ({answer})")
    if follow_up.pain_during > PAIN_TO_REGRESS:
        triggers.append(
            f"pain during the exercises {follow_up.pain_during}/10 (above {PAIN_TO_REGRESS})"
        )
    if follow_up.next_morning is NextMorning.WORSE and follow_up.pain_during > PAIN_TO_ADVANCE:
        triggers.append(
            f"worse the next morning with pain during {follow_up.pain_during}/10 "
            f"(above {PAIN_TO_ADVANCE})"
        )
    return triggers


def _unmet_criteria(follow_up: FollowUp, worse: list[MeasureChange]) -> list[tuple[str, str]]:
    """Each move-on criterion not met: its name and, for the trace, what was found."""
    unmet = []
    if follow_up.pain_during > PAIN_TO_ADVANCE:
        found = f"{follow_up.pain_during}/10 (move on at {PAIN_TO_ADVANCE} or less)"
        unmet.append(("pain", f"pain during the exercises {found}"))
    if follow_up.next_morning is NextMorning.WORSE:
        unmet.append(("morning", "symptoms not back to usual by the next morning"))
    if follow_up.days_done_percent < DAYS_DONE_TO_ADVANCE:
        found = f"(move on at {DAYS_DONE_TO_ADVANCE}% or more)"
        unmet.append(("days", f"{follow_up.days_done_percent}% of days done {found}"))
    if follow_up.weeks_on_step < WEEKS_TO_ADVANCE:
        found = f"(at least {WEEKS_TO_ADVANCE})"
        unmet.append(("weeks", f"{follow_up.weeks_on_step} weeks on the step {found}"))
    for change in worse:
        found = f"worse by {abs(change.change):g} (its MCID is {change.measure.mcid:g})"
        unmet.append(("worse", f"{change.measure.name} {found}"))
    return unmet


def _flags(
    changes: dict[str, MeasureChange], visits: tuple[OutcomeVisit, ...], today: dt.date
) -> list[str]:
    flags = []
    if any(c.direction == "worse" and c.meaningful for c in changes.values()):
        flags.append("review_diagnosis")
    weeks = (today - visits[0].date).days / 7 if visits else 0
    improved = any(c.direction == "better" and c.meaningful for c in changes.values())
    if visits and weeks >= WEEKS_WITHOUT_CHANGE and not improved:
        flags.append("review_plan")
    return flags


def decide_progress(
    follow_up: FollowUp, visits: tuple[OutcomeVisit, ...], today: dt.date
) -> Progress:
    """PROG-REGRESS over PROG-HOLD over PROG-ADVANCE / PROG-MAINTAIN (CLINICAL.md §4)."""
    changes = measure_changes(visits)
    flags = _flags(changes, visits, today)
    step = follow_up.step_reached
    triggers = _regress_triggers(follow_up)
    if triggers:
        to_step = max(1, step - 1)
        reasons = tuple(f"{PROG_REGRESS}: {trigger}" for trigger in triggers)
        return Progress("regress", step, to_step, reasons, changes, (*flags, "reexamine_nerve"))
    worse = [c for c in changes.values() if c.direction == "worse" and c.meaningful]
    unmet = _unmet_criteria(follow_up, worse)
    if unmet:
        reasons = tuple(f"{PROG_HOLD}: {criterion}" for _, criterion in unmet)
        names = tuple(dict.fromkeys(name for name, _ in unmet))
        return Progress("hold", step, step, reasons, changes, tuple(flags), names)
    met = "every move-on criterion met"
    if step == 3:
        reasons = (f"{PROG_MAINTAIN}: step 3 done, {met}",)
        return Progress("maintain", 3, 3, reasons, changes, tuple(flags))
    reasons = (f"{PROG_ADVANCE}: {met}",)
    return Progress("advance", step, step + 1, reasons, changes, tuple(flags))
