"""Red-flag screening (CLINICAL.md §1). Runs first, always; pure: no files, clock or network,
and no exercise library.

Rule ids (they appear in the trace and on the clinician page):

- ``RF-LEVEL``      each positive answer counts at its table level (``unsure`` counts as yes)
- ``RF-CLEARED``    a medical clearance removes an urgent- or routine-level key from the count
- ``RF-COMBO-1``    cancer history with any sign of nerve involvement → emergency, cleared or not
- ``RF-COMBO-2``    infection risk with fever or feeling very unwell → emergency
- ``RF-COMBO-3``    new sexual dysfunction with any other cauda equina sign or a radicular
                    level → emergency
- ``RF-COMBO-4``    two or more contextual keys, or one with age over 50 → at least urgent
- ``RF-COMBO-5``    radicular signs in both legs count as bilateral leg symptoms → emergency
- ``RF-MISSING``    an unanswered question: incomplete when the answers given would allow a
                    program, refused at once when they already need urgent or emergency care

Each rule that fires is written three ways: a trace line (rule id, keys), a sentence for the
receiving doctor in clinical words, and, for the rules that add a reason, a sentence for the
patient.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hepplan.domain import redflags
from hepplan.domain.decision import Decision, Referral
from hepplan.domain.profile import Profile
from hepplan.domain.redflags import Level
from hepplan.domain.vocab import RadicularLevel, Side
from hepplan.errors import Status

PRESCRIBE = frozenset({Level.NONE, Level.ROUTINE})

#: The message key of what the patient is told when a rule, not an answer, made a key count
#: (CLINICAL.md §1); the words are in the catalog (``signs``).
RULE_REASONS = {
    rule: "signs." + rule.lower().replace("-", "_")
    for rule in ("RF-COMBO-1", "RF-COMBO-2", "RF-COMBO-3", "RF-COMBO-5")
}

#: Where each level sends the patient, in the receiving doctor's words.
REFERRAL_WORDS = {
    Level.EMERGENCY: "emergency: same-day assessment in the emergency department",
    Level.URGENT: "urgent: medical assessment within 24 hours",
}


@dataclass(frozen=True)
class Screening:
    status: Status
    disposition: Level
    triggered: tuple[str, ...]  # keys that counted, most serious first
    levels: dict[str, Level]  # each triggered key's level after combination rules
    missing: tuple[str, ...]
    cleared: tuple[str, ...]
    trace: tuple[str, ...]
    fired: tuple[str, ...] = ()  # the combination rules that fired, e.g. ("RF-COMBO-1",)
    referral: Referral = field(default_factory=Referral)  # the redirect's words

    @property
    def refused(self) -> bool:
        return self.status is Status.REFUSED

    @property
    def prescribed(self) -> bool:
        return self.status is Status.PRESCRIBED

    def as_decision(self, library_version: str | None = None) -> Decision:
        """The decision this screening makes before any planning: no phases."""
        return Decision(
            status=self.status,
            disposition=self.disposition,
            triggered=self.triggered,
            missing=self.missing,
            library_version=library_version,
            phases=(),
            trace=self.trace,
            cleared=self.cleared,
            referral=self.referral,
        )


@dataclass
class _Count:
    """The screening as it is worked out, rule by rule."""

    profile: Profile
    levels: dict[str, Level] = field(default_factory=dict)
    trace: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)

    def raise_to(self, rule: str, key: str, level: Level, trace: str, why: str) -> None:
        self.levels[key] = max(level, self.levels.get(key, Level.NONE))
        self.fired.append(rule)
        self.trace.append(f"{rule}: {trace}")
        self.why.append(why)

    def emergency_keys(self) -> list[str]:
        return [k for k, lv in self.levels.items() if redflags.BY_KEY[k].level is Level.EMERGENCY]


def screen(profile: Profile) -> Screening:
    """Decide the disposition from the red-flag answers, clearances and combination rules."""
    count = _Count(profile)
    _count_answers(count)
    _both_legs(count)  # rule 5 first: its sign of nerve involvement feeds rules 1 and 3
    _cleared(count)
    _cancer_with_nerve_signs(count)
    _infection_with_fever(count)
    _sexual_dysfunction(count)
    _contextual(count)

    levels = count.levels
    disposition = max(levels.values(), default=Level.NONE)
    triggered = tuple(sorted(levels, key=lambda k: (-levels[k], redflags.ORDER[k])))
    missing = profile.missing
    status = Status.PRESCRIBED if disposition in PRESCRIBE else Status.REFUSED
    if missing:
        count.trace.append(f"RF-MISSING: unanswered questions: {', '.join(missing)}")
        if status is Status.PRESCRIBED:
            status = Status.INCOMPLETE
        else:
            count.trace.append(
                f"RF-MISSING: the answers given already need {disposition.word} care "
                f"({', '.join(triggered)}); refused now, without waiting for the rest"
            )
            count.why.append(
                "Not every red-flag question was asked (listed below). The answers given "
                f"already need {disposition.word} care, so the patient was referred without "
                "waiting for the rest."
            )
    count.trace.append(f"RF-DISPOSITION: {disposition.word} → {status}")
    level = REFERRAL_WORDS.get(disposition)
    why = ((f"Referred as {level}.",) if level else ()) + tuple(count.why)
    return Screening(
        status=status,
        disposition=disposition,
        triggered=triggered,
        levels=levels,
        missing=missing,
        cleared=tuple(sorted(profile.cleared, key=redflags.ORDER.__getitem__)),
        trace=tuple(count.trace),
        fired=tuple(count.fired),
        referral=Referral(reasons=_reasons(profile, triggered, count.fired), why=why),
    )


def _reasons(profile: Profile, triggered: tuple[str, ...], fired: list[str]) -> tuple[str, ...]:
    """The message keys of the patient's reasons, most serious first: "You have..." for yes,
    "You may have..." for unsure, and a sentence for each rule that made a key count."""
    answers = profile.red_flags
    reasons: list[str] = []
    for key in triggered:
        if answers.positive(key):
            reasons.append(redflags.BY_KEY[key].told(answers.answer(key).value))
        reasons += [RULE_REASONS[rule] for rule in _rules_for(key, fired)]
    return tuple(dict.fromkeys(reasons))


def _rules_for(key: str, fired: list[str]) -> list[str]:
    raised_by = {
        "cancer_history": "RF-COMBO-1",
        "infection_risk": "RF-COMBO-2",
        "sexual_dysfunction": "RF-COMBO-3",
        "bilateral_leg_symptoms": "RF-COMBO-5",
    }
    rule = raised_by.get(key)
    return [rule] if rule in fired else []


# --- the rules, in the order they apply ---------------------------------------------------------


def _count_answers(count: _Count) -> None:
    answers = count.profile.red_flags
    for flag in redflags.RED_FLAGS:
        if answers.positive(flag.key) and flag.key not in count.profile.cleared:
            count.levels[flag.key] = flag.level
            count.trace.append(
                f"RF-LEVEL: {flag.key} answered {answers.answer(flag.key).value} → "
                f"{flag.level.word}"
            )


def _both_legs(count: _Count) -> None:
    found = count.profile.assessment
    if found.nerve_side is not Side.BOTH:
        return
    level = found.radicular_level.value
    count.raise_to(
        "RF-COMBO-5",
        "bilateral_leg_symptoms",
        Level.EMERGENCY,
        f"radicular signs ({level}) in both legs count as bilateral_leg_symptoms → emergency",
        f"Radicular signs ({level}) in both legs: counted as bilateral leg symptoms, "
        "emergency (possible cauda equina compression).",
    )


def _nerve_signs(count: _Count) -> list[str]:
    """Signs of nerve involvement (rule 1): a radicular level, or any emergency-level key."""
    level = count.profile.assessment.radicular_level
    signs = [f"radicular level {level.value}"] if level is not RadicularLevel.NONE else []
    return signs + count.emergency_keys()


def _cleared(count: _Count) -> None:
    """A clearance takes its key out of the count, except where rule 1 ignores it."""
    profile = count.profile
    nerve_signs = bool(_nerve_signs(count))
    for key in sorted(profile.cleared, key=redflags.ORDER.__getitem__):
        answer = profile.red_flags.answer(key).value
        if key == "cancer_history" and nerve_signs:
            count.trace.append(
                f"RF-CLEARED: {key} answered {answer} and medically cleared; the clearance "
                "does not switch off RF-COMBO-1"
            )
        else:
            count.trace.append(
                f"RF-CLEARED: {key} answered {answer} but medically cleared; not counted"
            )


def _cancer_with_nerve_signs(count: _Count) -> None:
    profile = count.profile
    signs = _nerve_signs(count)
    if not (profile.red_flags.positive("cancer_history") and signs):
        return
    cleared = "cancer_history" in profile.cleared
    named = [_label(sign) for sign in signs]
    why = (
        f"History of cancer with signs of nerve involvement ({'; '.join(named)}): suspected "
        "metastatic spinal cord compression (NICE NG234), emergency."
    )
    if cleared:
        why += (
            " The earlier medical clearance of the cancer history cannot rule out new spread "
            "causing these new signs."
        )
    count.raise_to(
        "RF-COMBO-1",
        "cancer_history",
        Level.EMERGENCY,
        f"cancer history with signs of nerve involvement ({', '.join(signs)}) → emergency"
        + (", whether or not medically cleared" if cleared else ""),
        why,
    )


def _infection_with_fever(count: _Count) -> None:
    if "infection_risk" in count.levels and "fever_or_systemically_unwell" in count.levels:
        count.raise_to(
            "RF-COMBO-2",
            "infection_risk",
            Level.EMERGENCY,
            "infection risk with fever or feeling very unwell → emergency",
            "Risk factors for spinal infection with fever or systemic illness: suspected "
            "spinal infection, emergency.",
        )


def _sexual_dysfunction(count: _Count) -> None:
    if "sexual_dysfunction" not in count.levels:
        return
    others = [
        k for k in count.levels if redflags.BY_KEY[k].cauda_equina and k != "sexual_dysfunction"
    ]
    level = count.profile.assessment.radicular_level
    if level is not RadicularLevel.NONE:
        others.append(f"radicular level {level.value}")
    signs = others
    if not signs:
        return
    count.raise_to(
        "RF-COMBO-3",
        "sexual_dysfunction",
        Level.EMERGENCY,
        f"new sexual dysfunction with other cauda equina or root signs ({', '.join(signs)}) "
        "→ emergency",
        f"New sexual dysfunction with {'; '.join(_label(s) for s in signs)}: suspected cauda "
        "equina syndrome (GIRFT 2023), emergency.",
    )


def _contextual(count: _Count) -> None:
    contextual = [k for k in count.levels if redflags.BY_KEY[k].contextual]
    age = count.profile.patient.age
    if not (len(contextual) >= 2 or (contextual and age is not None and age > 50)):
        return
    if len(contextual) >= 2:
        trace = f"{len(contextual)} contextual flags ({', '.join(contextual)})"
        why = f"{len(contextual)} contextual red flags ({'; '.join(map(_label, contextual))})"
    else:
        trace = f"{contextual[0]} at age {age} (over 50)"
        why = f"{_label(contextual[0]).capitalize()} at age {age} (over 50)"
    raised = [key for key in contextual if count.levels[key] < Level.URGENT]
    for key in raised:
        count.levels[key] = Level.URGENT
    count.fired.append("RF-COMBO-4")
    count.trace.append(f"RF-COMBO-4: {trace} → at least urgent")
    if raised:  # the doctor reads only what changed the level
        count.why.append(f"{why}: at least urgent.")


def _label(sign: str) -> str:
    """A key or a sign in a doctor's words."""
    flag = redflags.BY_KEY.get(sign)
    return flag.label if flag else sign
