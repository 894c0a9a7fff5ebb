"""The redirect to medical care, written instead of a program when red flags need a doctor
first (CLINICAL.md §1). It holds no exercise.

Page one: the action in large type (what, where, how fast), the emergency number, the reasons in
plain words, why it is urgent, what to bring and say with lines to write on, and the recap. The
receiving doctor's section follows, in clinical words, whole: on page one when it fits, else on
page two. No rule ids, keys or trace lines.
"""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from hepplan.domain import redflags
from hepplan.domain.clinic import Clinic
from hepplan.domain.decision import Decision
from hepplan.domain.profile import Profile
from hepplan.domain.redflags import Level
from hepplan.render.handout import clinic_header
from hepplan.render.kit import (
    AMBER,
    BLUE,
    GREY,
    RED,
    Styles,
    box_style,
    boxed,
    build_pdf,
    frame_width,
    para,
    styles,
    table_style,
    write_in,
)
from hepplan.words.catalog import Words, words
from hepplan.words.text import unbroken

PALE_GREY = colors.HexColor("#F2F2F2")

#: The redirect's body size in normal print: one page of few words, read in a hurry.
REDIRECT_BODY = 14.0


def render_redirect(
    profile: Profile, decision: Decision, clinic: Clinic, *, large_print: bool = False
) -> bytes:
    """The document a refused patient takes away instead of a program."""
    if not decision.refused:
        raise ValueError("only a refused decision has a redirect document")
    s = styles(large_print, None if large_print else REDIRECT_BODY)
    w = words(profile.patient.language)
    width = frame_width(clinic)
    emergency = decision.disposition is Level.EMERGENCY
    ctx = dict(
        emergency=emergency,
        emergency_number=clinic.emergency_number,
        phone=unbroken(clinic.phone),
    )
    story, bring = _patient_page(profile, decision, clinic, s, w, width, ctx)
    # What to bring stays with the doctor's section: on page one when both fit, else both on
    # page two, the sheet the patient hands over.
    doctor = _doctor_section(profile, decision, clinic, s, w)
    box = boxed(doctor, GREY, PALE_GREY, width, s)  # fenced off: the hospital staff's part
    story.append(KeepTogether([*bring, Spacer(1, s.size * 0.5), box]))
    date = w.date(profile.assessment.date, us=clinic.page_size == "letter")
    left = " · ".join(x for x in (clinic.name, date) if x)

    def footer(number: int, total: int) -> tuple[str, str]:
        return left, w.say("common.page_of", number=number, total=total)

    return build_pdf(story, clinic, w.say("redirect.title", **ctx), footer, s)


def _patient_page(profile, decision, clinic: Clinic, s: Styles, w: Words, width, ctx):
    story: list = clinic_header(clinic, s, width)
    story.append(para(w.say("redirect.title", **ctx), s.title))
    story.append(para(w.say("redirect.for", name=profile.patient.name), s.strong))
    story.append(_banner(s, w, width, ctx))
    story.append(Spacer(1, s.size * 0.2))
    story.append(para(w.say("redirect.how", **ctx), s.strong))
    therapist = w.say("redirect.therapist", therapist=profile.assessment.clinician, **ctx)
    story.append(para(therapist, s.body))
    story.append(para(w.say("redirect.why_title", **ctx), s.h1))
    story.append(para(w.say("redirect.reasons_intro", **ctx), s.body))
    story += [para(r, s.bullet, bullet="•") for r in patient_reasons(profile, decision, w)]
    why = "redirect.why_emergency" if ctx["emergency"] else "redirect.why_urgent"
    story.append(para(w.say(why, **ctx), s.body))
    recap = [para(w.say("redirect.recap_title", **ctx), s.h2)]
    recap += [
        para(item, s.step, bullet=str(n))
        for n, item in enumerate(w.lines("redirect.recap", **ctx), 1)
    ]
    story += [Spacer(1, s.size * 0.2), KeepTogether(boxed(recap, BLUE, None, width, s))]
    bring = [para(w.say("redirect.bring_title", **ctx), s.h1)]
    bring += [para(line, s.bullet, bullet="•") for line in w.lines("redirect.bring", **ctx)]
    bring += [
        write_in(w.say("redirect.started", **ctx), s),
        write_in(w.say("redirect.medicines", **ctx), s),
    ]
    if clinic.phone:
        bring.append(para(w.say("redirect.questions", **ctx), s.body))
    return story, bring


def _banner(s: Styles, w: Words, width: float, ctx: dict) -> Table:
    """The action in large type beside a hospital sign, on the level's colour."""
    colour = RED if ctx["emergency"] else AMBER
    words_ = [para(w.say("redirect.action", **ctx), s.action)]
    words_.append(para(w.say("redirect.number", **ctx), s.big_number))
    sign = _HospitalSign(s.size * 4, colour)
    table = Table([[sign, words_]], colWidths=[s.size * 5, width - s.size * 5])
    table.setStyle(box_style(colour, colour, width=2, pad=s.size * 0.6))
    table.setStyle(table_style([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    return table


class _HospitalSign(Flowable):
    """A white square with an "H" in the level's colour: the road sign for a hospital (a
    cross alone reads as first aid at home)."""

    def __init__(self, size: float, colour):
        super().__init__()
        self.size, self.colour = size, colour

    def wrap(self, availWidth, availHeight):
        return self.size, self.size

    def draw(self) -> None:
        c, n = self.canv, self.size
        c.saveState()
        c.setFillColor(colors.white)
        c.roundRect(0, 0, n, n, n * 0.15, stroke=0, fill=1)
        c.setFillColor(self.colour)
        stem, tall, wide = n * 0.17, n * 0.64, n * 0.56
        left, low = (n - wide) / 2, (n - tall) / 2
        c.rect(left, low, stem, tall, stroke=0, fill=1)
        c.rect(left + wide - stem, low, stem, tall, stroke=0, fill=1)
        c.rect(left, (n - stem) / 2, wide, stem, stroke=0, fill=1)
        c.restoreState()


def patient_reasons(profile: Profile, decision: Decision, w: Words) -> tuple[str, ...]:
    """Why, in the patient's words: "You have..." for yes, "You may have..." for unsure."""
    keys = decision.referral.reasons or tuple(
        redflags.BY_KEY[key].told(profile.red_flags.answer(key).value)
        for key in decision.triggered
        if profile.red_flags.positive(key)
    )
    return tuple(dict.fromkeys(w.say(key) for key in keys))


def _doctor_section(profile, decision, clinic: Clinic, s: Styles, w: Words) -> list:
    """For the receiving doctor, in clinical words: who, what was found, each red-flag question
    answered yes or unsure, why this level, and the questions not yet asked."""
    a = profile.assessment
    why = decision.referral.why
    level = why[0] if why else f"Referred as {decision.disposition}."
    date = w.date(a.date, us=clinic.page_size == "letter")
    lines = [
        f"Patient: {profile.patient.name} ({profile.patient.id})"
        + (f", age {profile.patient.age}" if profile.patient.age is not None else ""),
        f"Assessed {date} by {a.clinician}" + (f", {clinic.name}" if clinic.name else ""),
        f"{level.rstrip('.')}; no exercise program was given.",
        "Findings: buttock and leg pain, painful side "
        f"{_side_name(a.side.value)}; {_radicular_words(profile)}; irritability "
        f"{a.irritability.value}"
        + (f"; pain now {a.pain_now}/10" if a.pain_now is not None else ""),
    ]
    story = [
        para(w.say("redirect.doctor_title"), s.h2),
        para(w.say("redirect.doctor_note"), s.body),
    ]
    story += [para(line, s.small) for line in lines]
    answered = _answered_lines(profile, decision, w, clinic)
    if answered:
        story.append(para("Red-flag questions answered yes or unsure", s.small_strong))
        story += [para(line, s.small, bullet="•") for line in answered]
    if why[1:]:
        story.append(para("Why this level", s.small_strong))
        story += [para(line, s.small, bullet="•") for line in why[1:]]
    if decision.missing:
        story.append(para("Red-flag questions not yet asked", s.small_strong))
        story += [
            para(f"{redflags.BY_KEY[key].question}?", s.small, bullet="•")
            for key in decision.missing
        ]
    return story


def _side_name(side: str) -> str:
    return "both sides" if side == "both" else side


def _radicular_words(profile: Profile) -> str:
    a = profile.assessment
    if a.nerve_side is None:
        return "no radicular signs"
    legs = "both legs" if a.nerve_side.value == "both" else f"{a.nerve_side.value} leg"
    return f"radicular signs at {a.radicular_level.value}, {legs}"


def _answered_lines(profile: Profile, decision: Decision, w: Words, clinic: Clinic) -> list[str]:
    """Each question answered yes or unsure, in its words, with the answer and any clearance."""
    answers = profile.red_flags
    clearances = {entry.flag: entry for entry in profile.medical_clearance}
    lines = []
    for flag in redflags.RED_FLAGS:
        if not answers.positive(flag.key):
            continue
        line = f"{flag.question}: {answers.answer(flag.key).value}"
        entry = clearances.get(flag.key)
        if entry is not None:
            counted = "still counted" if flag.key in decision.triggered else "not counted"
            when = w.date(entry.date, us=clinic.page_size == "letter")
            line += (
                f"; medically cleared by {entry.cleared_by} on {when}"
                + (f" ({entry.note})" if entry.note else "")
                + f"; {counted}"
            )
        lines.append(line)
    return lines
