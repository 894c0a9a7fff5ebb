"""Patient-facing words that are built from data: the side, the dose, what a refused patient
must do. Their sentences come from the catalog (``words/catalog.py``).

Exercise text is not a template: its ``{{ side }}`` and ``{{ other_side }}`` are substituted
by ``domain.library.fill_side`` and nothing else is evaluated (a library must never run code).

Imported only by the commands that render or report, never by ``hepplan --help``.
"""

from __future__ import annotations

from hepplan.domain.decision import Prescription
from hepplan.domain.library import OTHER_SIDE
from hepplan.words.catalog import Words, words


def what_to_do(disposition, emergency_number: str | None = None) -> str:
    """What a refused patient must do, in the words every message uses: "go to the emergency
    department now, or call 911" or "see a doctor within 24 hours"."""
    return words().say(
        "signs.what_to_do",
        emergency=disposition.word == "emergency",
        emergency_number=emergency_number or "",
    )


def side_line(item: Prescription, painful: str, w: Words | None = None) -> str | None:
    """Which leg, in words, or None when both legs work together."""
    w = w or words()
    if item.side is None:
        return None
    if item.side in OTHER_SIDE:
        return w.say("handout.leg_one", side=item.side)
    if item.exercise.laterality.value == "painful_side":
        return w.say("handout.leg_painful_both")
    first = painful if painful in OTHER_SIDE else "left"
    return w.say("handout.leg_both", first=first, second=OTHER_SIDE[first])


def counts_sets(item: Prescription) -> bool:
    """Whether the dose is given in sets ("2 sets of 10"), rather than minutes or holds (a
    stretch or a release: "hold 30 seconds, 3 times")."""
    holds = item.category in ("stretch", "soft_tissue") and bool(item.hold_s)
    return not item.minutes and bool(item.reps) and not holds


def dose_words(item: Prescription, w: Words | None = None) -> str:
    """``2 sets of 10, hold 3 seconds, once a day, every day``; an exercise done side to side
    says what one count is (``2 sets of 8 on each side``, ``3 sets of 12 each way``)."""
    w = w or words()
    parts = []
    if item.minutes:
        parts.append(w.say("handout.dose_minutes", minutes=item.minutes))
    elif item.reps:
        if not counts_sets(item):
            parts.append(w.say("handout.dose_holds", hold=item.hold_s, reps=item.reps))
        else:
            sets, count = item.sets or 1, item.exercise.count
            parts.append(w.say("handout.dose_sets", sets=sets, reps=item.reps, count=count))
            if item.hold_s:
                parts.append(w.say("handout.dose_hold", hold=item.hold_s))
    parts.append(w.say("handout.dose_times", times=item.times_per_day))
    parts.append(w.say("handout.dose_days", days=item.days_per_week))
    return ", ".join(parts)


def unbroken(phone: str | None) -> str | None:
    """A phone number that never breaks across two lines: its spaces made no-break spaces."""
    return phone.replace(" ", "\u00a0") if phone else phone
