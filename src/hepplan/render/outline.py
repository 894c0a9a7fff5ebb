"""The handout's outline: a Decision turned into the document's sections and sentences, once.

Everything a patient reads is decided here, in the order of CLINICAL.md §3, with its words from
the catalog; the PDF layout (``render/handout.py``) only lays the outline out, and any other
output (HTML, FHIR) would read the same outline. Nothing here is a rule id, a key or a digest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision, Phase, Prescription
from hepplan.domain.library import fill_side
from hepplan.domain.pose import Pose
from hepplan.domain.profile import Profile
from hepplan.domain.progress import Progress
from hepplan.domain.rules import EXERCISE_WHY, OLDER_ADULT, PAIN_TO_ADVANCE
from hepplan.words import text
from hepplan.words.catalog import Words, words

#: Where a repeated exercise's page number goes in its line, filled in by the layout.
PAGE = "\x00"


@dataclass(frozen=True)
class Card:
    id: str
    name: str
    dose: str
    side: str | None  # "Your left leg." or None
    steps: tuple[str, ...]
    feel: str
    stop_if: str
    why: str
    note: str | None  # "A set is ..." on the first card that uses the word
    pose: Pose
    picture_side: str | None  # the side the picture shows working


@dataclass(frozen=True)
class Again:
    """An exercise shown in full in an earlier step: its new dose and the page of its card."""

    id: str
    text: str  # holds PAGE where the page number goes


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    line: str
    goal: str
    cards: tuple[Card, ...]
    again_title: str
    again: tuple[Again, ...]
    check_title: str
    checklist: tuple[str, ...]
    after_check: str
    log_title: str
    log_how: str
    log_weeks: tuple[str, ...]
    log_days: tuple[str, ...]
    log_pain: str


@dataclass(frozen=True)
class Safety:
    title: str
    signs: tuple[str, ...]
    action: str
    phone: str  # the clinic's phone line, or the words before a write-in line
    write_in: bool


@dataclass(frozen=True)
class Box:
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Handout:
    title: str
    details: tuple[tuple[str, str], ...]
    main: tuple[str, ...]
    safety: Safety
    found: Box
    routine: str | None
    protect_hip: Box | None
    pain: tuple[str, str, tuple[tuple[str, str], ...]]  # title, scale, (label, words)
    glance: tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]  # title, header, rows
    need: Box
    steps: tuple[Step, ...]
    note: Box | None
    recap: Box
    date: str
    labels: tuple[str, str]  # under the start and end pictures


def handout_outline(profile: Profile, decision: Decision, clinic: Clinic) -> Handout:
    """The handout of a prescribed decision, in the patient's language."""
    if not decision.prescribed or not decision.phases:
        raise ValueError("only a prescribed decision can be rendered as a handout")
    w = words(profile.patient.language)
    a = profile.assessment
    date = w.date(a.date, us=clinic.page_size == "letter")
    shown = _shown(decision)
    return Handout(
        title=w.say("handout.title"),
        details=_details(profile, w, date),
        main=_main(decision, w),
        safety=_safety(clinic, w),
        found=Box(w.say("handout.found_title"), _found(profile, shown, w)),
        routine=_routine(profile, decision, w),
        protect_hip=_protect_hip(profile, w),
        pain=_pain(clinic, w),
        glance=_glance(decision, w),
        need=Box(w.say("handout.need_title"), _need(shown, profile, w)),
        steps=_steps(profile, decision, shown, w, text.unbroken(clinic.phone)),
        note=Box(w.say("handout.note_title"), (profile.plan.notes,))
        if profile.plan.notes
        else None,
        recap=Box(
            w.say("handout.recap_title"),
            w.lines(
                "handout.recap",
                amber_max=clinic.pain_bands.amber_max,
                advance_max=PAIN_TO_ADVANCE,
                moving_on=any(p.number < len(decision.phases) for p in shown),
            ),
        ),
        date=date,
        labels=(w.say("common.start"), w.say("common.end")),
    )


def _shown(decision: Decision) -> tuple[Phase, ...]:
    """The steps printed in full: from the patient's step on (earlier ones are done)."""
    return tuple(phase for phase in decision.phases if not phase.done)


def _details(profile: Profile, w: Words, date: str) -> tuple[tuple[str, str], ...]:
    a = profile.assessment
    rows = [
        (w.say("handout.for"), profile.patient.name),
        (w.say("handout.date"), date),
        (w.say("handout.therapist"), a.clinician),
        (w.say("handout.side"), w.say("handout.side_name", side=a.side.value)),
    ]
    if profile.plan.next_visit is not None:
        visit = w.date(profile.plan.next_visit, us=date[0].isalpha())
        rows.append((w.say("handout.next_visit"), visit))
    return tuple(rows)


def _main(decision: Decision, w: Words) -> tuple[str, ...]:
    progress = decision.progress
    if progress is not None:  # at a follow-up: how the patient is doing comes first
        said = _progress_words(progress, w)
        return (*said, w.say("handout.main_follow_up"))
    weeks = max(12, max(phase.weeks[1] for phase in decision.phases))
    return (w.say("handout.main_message", weeks=weeks),)


def _progress_words(progress: Progress, w: Words) -> list[str]:
    """How the patient is doing, in plain words with the numbers (CLINICAL.md §4)."""
    said = []
    pain = progress.outcomes.get("nprs")
    if pain is not None:
        direction = {"better": "down", "worse": "up"}.get(pain.direction, "same")
        said.append(
            w.say(
                f"handout.progress_pain_{direction}", first=f"{pain.first:g}", last=f"{pain.last:g}"
            )
        )
    step = progress.to_step
    if progress.decision == "hold":
        reason = w.say(f"handout.hold_{progress.unmet[0]}")  # the most telling one
        said.append(w.say("handout.progress_hold", step=step, reason=reason))
    else:
        said.append(w.say(f"handout.progress_{progress.decision}", step=step))
    return said


def _safety(clinic: Clinic, w: Words) -> Safety:
    phone = text.unbroken(clinic.phone)
    return Safety(
        title=w.say("handout.safety_title"),
        signs=w.lines("signs.emergency_signs"),
        action=w.say("signs.emergency_action", emergency_number=clinic.emergency_number),
        phone=w.say("handout.safety_phone", phone=phone)
        if phone
        else w.say("handout.safety_phone_blank"),
        write_in=not phone,
    )


def _found(profile: Profile, shown: tuple[Phase, ...], w: Words) -> tuple[str, ...]:
    """Two or three plain sentences about this patient (CLINICAL.md §3). A direction the back
    prefers is said only with an exercise in the printed steps that moves it that way (a
    condition may have withheld it)."""
    a = profile.assessment
    said = []
    if a.piriformis.value in ("tight", "overstretched"):
        said.append(w.say(f"handout.found_{a.piriformis.value}"))
    if a.radicular_level.value != "none":
        said.append(w.say("handout.found_nerve"))
    weak = [m for m in ("medius", "maximus") if _weak(getattr(a.glute_strength, m))]
    if weak:
        where = w.say("handout.weak_both" if len(weak) == 2 else f"handout.weak_{weak[0]}")
        said.append(w.say("handout.found_weak", where=where))
    said += [w.say(f"handout.found_{c.value}") for c in a.conditions]
    preference = a.directional_preference.value
    stenosis = any(c.value == "lumbar_stenosis" for c in a.conditions)
    tags = {t.value for p in shown for i in p.exercises for t in i.exercise.tags}
    wanted = preference == "extension" or (preference == "flexion" and not stenosis)
    if wanted and f"lumbar_{preference}" in tags:  # stenosis says it already
        said.append(w.say(f"handout.found_{preference}"))
    return tuple(said)


def _weak(grade: float | None) -> bool:
    """Weakness is mentioned only when a grade of 4 or less was recorded."""
    return grade is not None and grade <= 4


def _routine(profile: Profile, decision: Decision, w: Words) -> str | None:
    if not decision.see_doctor_about:
        return None
    answers = profile.red_flags
    from hepplan.domain import redflags

    concerns = "; ".join(
        w.say(redflags.BY_KEY[key].told(answers.answer(key).value)).rstrip(".")
        for key in decision.triggered
        if answers.positive(key)
    )
    return w.say("handout.routine_check", concerns=concerns)


def _protect_hip(profile: Profile, w: Words) -> Box | None:
    if not any(c.value == "gtps" for c in profile.assessment.conditions):
        return None
    return Box(w.say("handout.protect_hip_title"), w.lines("handout.protect_hip"))


def _pain(clinic: Clinic, w: Words):
    bands = clinic.pain_bands
    ctx = dict(green_max=bands.green_max, amber_max=bands.amber_max)
    rows = tuple(
        (w.say(f"handout.{colour}"), w.say(f"handout.pain_{colour}", **ctx))
        for colour in ("green", "yellow", "red")
    )
    return w.say("handout.pain_title"), w.say("handout.pain_scale"), rows


def weeks_words(phase: Phase, w: Words) -> str:
    """Weeks as the logs number them: weeks (0, 2) are "Weeks 1 and 2"."""
    start, end = phase.weeks
    return w.say("handout.weeks", start=start + 1, end=end)


def _glance(decision: Decision, w: Words):
    header = tuple(w.say(f"handout.glance_{k}") for k in ("step", "weeks", "exercises"))
    rows = []
    for phase in decision.phases:
        done = phase.done
        names = "" if done else ", ".join(i.name for i in (*phase.exercises, phase.aerobic))
        rows.append(
            (
                f"{phase.number}. {w.say(phase.name)}",
                w.say("handout.glance_done")
                if done
                else w.say(
                    "handout.glance_when",
                    weeks=weeks_words(phase, w),
                    minutes=phase.minutes_per_day,
                ),
                names,
            )
        )
    return w.say("handout.glance_title"), header, tuple(rows)


def _need(shown: tuple[Phase, ...], profile: Profile, w: Words) -> tuple[str, ...]:
    """Each piece of equipment the printed steps use, in plain words, mat and chair first; for a
    patient of 65 or over, how to get down to the floor and up safely, after the mat."""
    order = (
        "mat",
        "chair",
        "wall",
        "resistance_band",
        "foam_roller",
        "massage_ball",
        "step",
        "exercise_bike",
    )
    used = {
        e.value
        for p in shown
        for item in (*p.exercises, p.aerobic)
        for e in item.exercise.equipment
    }
    items = [w.say(f"handout.need_{name}") for name in order if name in used]
    if "mat" in used and OLDER_ADULT(profile):  # getting down to the floor safely
        items.insert(1, w.say("handout.floor"))
    pictured = any(
        item.exercise.pose.props.pillow for p in shown for item in (*p.exercises, p.aerobic)
    )
    if pictured or any(c.value == "gtps" for c in profile.assessment.conditions):
        items.append(w.say("handout.need_pillow"))  # drawn with one, or to sleep with one
    return tuple(items)


def _steps(
    profile: Profile,
    decision: Decision,
    shown: tuple[Phase, ...],
    w: Words,
    phone: str | None = None,
) -> tuple[Step, ...]:
    firsts = _first_cards(shown)
    whys = _why_counts(firsts.values(), w)
    # "A set is ..." explained once, on the first card whose dose counts sets
    explain = next((i.id for i in firsts.values() if text.counts_sets(i)), None)
    steps = []
    for phase in shown:
        cards, again = [], []
        for item in (*phase.exercises, phase.aerobic):
            if firsts[item.id] is not item:
                again.append(_again(item, w))
            else:
                cards.append(_card(profile, item, whys, item.id == explain, w))
        steps.append(_step(phase, len(decision.phases), (tuple(cards), tuple(again)), w, phone))
    return tuple(steps)


def _first_cards(shown: tuple[Phase, ...]) -> dict[str, Prescription]:
    """Each exercise where it is printed in full: its first step; later steps give a line."""
    firsts: dict[str, Prescription] = {}
    for phase in shown:
        for item in (*phase.exercises, phase.aerobic):
            firsts.setdefault(item.id, item)
    return firsts


def _reasons(item: Prescription, w: Words) -> list[str]:
    """The sentences of the rules' reasons for one exercise."""
    said = " ".join(w.say(key) for key in item.why if key != EXERCISE_WHY)
    return [part for part in re.split(r"(?<=\.)\s+", said) if part]


def _why_counts(cards, w: Words) -> dict[str, int]:
    """How many cards each sentence of the rules' reasons would be printed on."""
    counts: dict[str, int] = {}
    for item in cards:
        for sentence in dict.fromkeys(_reasons(item, w)):
            counts[sentence] = counts.get(sentence, 0) + 1
    return counts


def _why(item: Prescription, counts: dict[str, int], w: Words) -> str:
    """Why this exercise, for this patient: the reasons that are this card's alone, or else
    what the exercise itself does (never the same sentence on two cards)."""
    own = [s for s in dict.fromkeys(_reasons(item, w)) if counts.get(s, 0) == 1]
    return " ".join(own) or fill_side(item.exercise.why, item.side)


def _card(profile: Profile, item: Prescription, whys, explain_set: bool, w: Words) -> Card:
    ex = item.exercise
    dose = text.dose_words(item, w)
    note = (
        w.say("handout.set_explained", sets=item.sets or 1, reps=item.reps) if explain_set else None
    )
    why = _why(item, whys, w)
    return Card(
        id=item.id,
        name=ex.name,
        dose=dose[:1].upper() + dose[1:] + ".",
        side=text.side_line(item, profile.assessment.side.value, w),
        steps=tuple(fill_side(step, item.side) for step in ex.steps),
        feel=w.say("handout.feel", text=fill_side(ex.feel, item.side)),
        stop_if=w.say("handout.stop_if", text=fill_side(ex.stop_if, item.side)),
        why=w.say("handout.why", text=why),
        note=note,
        pose=ex.pose,
        picture_side=item.side,
    )


def _again(item: Prescription, w: Words) -> Again:
    return Again(
        item.id, w.say("handout.again", name=item.name, dose=text.dose_words(item, w), page=PAGE)
    )


def _step(phase: Phase, total: int, shown: tuple, w: Words, phone: str | None) -> Step:
    cards, again = shown
    last = phase.number == total
    after = (
        w.say("handout.keep_going")
        if last
        else w.say("handout.move_on_check", next=phase.number + 1, phone=phone)
    )
    start, end = phase.weeks
    return Step(
        number=phase.number,
        title=w.say("handout.step_title", number=phase.number, total=total, name=w.say(phase.name)),
        line=w.say("handout.step_line", weeks=weeks_words(phase, w), minutes=phase.minutes_per_day),
        goal=w.say("handout.goal", goal=w.say(phase.goal)),
        cards=cards,
        again_title=w.say("handout.again_title"),
        again=again,
        check_title=w.say("handout.doing_well")
        if last
        else w.say("handout.move_on", next=phase.number + 1),
        checklist=w.lines(phase.progress_when),
        after_check=after,
        log_title=w.say("handout.log_title", number=phase.number),
        log_how=w.say("handout.log_how"),
        log_weeks=tuple(w.say("handout.log_week", week=n) for n in range(start + 1, end + 1)),
        log_days=tuple(w.say("handout.log_day", day=n) for n in range(1, 8)),
        log_pain=w.say("handout.log_pain"),
    )
