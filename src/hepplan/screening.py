"""Red-flag screening (CLINICAL.md §1). Runs first, always; pure: no files, clock or network.

Rule ids (they appear in the trace and on the clinician page):

- ``RF-LEVEL``      each positive answer counts at its table level (``unsure`` counts as yes)
- ``RF-CLEARED``    a medical clearance removes an urgent- or routine-level key from the count
- ``RF-COMBO-1``    cancer history with any sign of nerve involvement → emergency
- ``RF-COMBO-2``    infection risk with fever or feeling very unwell → emergency
- ``RF-COMBO-3``    new sexual dysfunction with any other cauda equina sign → emergency
- ``RF-COMBO-4``    two or more contextual keys, or one with age over 50 → at least urgent
- ``RF-MISSING``    an unanswered question makes the screening incomplete
"""

from __future__ import annotations

from dataclasses import dataclass

from . import redflags
from .profile import Profile
from .redflags import Level
from .vocab import RadicularLevel

PRESCRIBE = frozenset({Level.NONE, Level.ROUTINE})


@dataclass(frozen=True)
class Screening:
    status: str  # prescribed | refused | incomplete
    disposition: Level
    triggered: tuple[str, ...]  # keys that counted, most serious first
    levels: dict[str, Level]  # each triggered key's level after combination rules
    missing: tuple[str, ...]
    cleared: tuple[str, ...]
    trace: tuple[str, ...]

    @property
    def refused(self) -> bool:
        return self.status == "refused"

    @property
    def prescribed(self) -> bool:
        return self.status == "prescribed"


def screen(profile: Profile) -> Screening:
    """Decide the disposition from the red-flag answers, clearances and combination rules."""
    answers = profile.red_flags
    trace: list[str] = []
    cleared = sorted(profile.cleared, key=redflags.ORDER.__getitem__)
    levels: dict[str, Level] = {}
    for flag in redflags.RED_FLAGS:
        if not answers.positive(flag.key):
            continue
        if flag.key in profile.cleared:
            trace.append(
                f"RF-CLEARED: {flag.key} answered {answers.answer(flag.key).value} but medically "
                f"cleared; not counted"
            )
            continue
        levels[flag.key] = flag.level
        trace.append(
            f"RF-LEVEL: {flag.key} answered {answers.answer(flag.key).value} → {flag.level.word}"
        )

    emergency_keys = [k for k, lv in levels.items() if redflags.BY_KEY[k].level is Level.EMERGENCY]
    radicular = profile.assessment.radicular_level is not RadicularLevel.NONE

    if "cancer_history" in levels and (radicular or emergency_keys):
        signs = []
        if radicular:
            signs.append(f"radicular level {profile.assessment.radicular_level.value}")
        signs.extend(emergency_keys)
        levels["cancer_history"] = Level.EMERGENCY
        trace.append(
            "RF-COMBO-1: cancer history with signs of nerve involvement "
            f"({', '.join(signs)}) → emergency"
        )
    if "infection_risk" in levels and "fever_or_systemically_unwell" in levels:
        levels["infection_risk"] = Level.EMERGENCY
        trace.append("RF-COMBO-2: infection risk with fever or feeling very unwell → emergency")
    if "sexual_dysfunction" in levels:
        others = [
            k for k in levels if redflags.BY_KEY[k].cauda_equina and k != "sexual_dysfunction"
        ]
        if others:
            levels["sexual_dysfunction"] = Level.EMERGENCY
            trace.append(
                "RF-COMBO-3: new sexual dysfunction with other cauda equina signs "
                f"({', '.join(others)}) → emergency"
            )
    contextual = [k for k in levels if redflags.BY_KEY[k].contextual]
    age = profile.patient.age
    if len(contextual) >= 2 or (contextual and age is not None and age > 50):
        why = (
            f"{len(contextual)} contextual flags ({', '.join(contextual)})"
            if len(contextual) >= 2
            else f"{contextual[0]} at age {age} (over 50)"
        )
        raised = [k for k in contextual if levels[k] < Level.URGENT]
        for key in raised:
            levels[key] = Level.URGENT
        trace.append(f"RF-COMBO-4: {why} → at least urgent")

    disposition = max(levels.values(), default=Level.NONE)
    triggered = tuple(sorted(levels, key=lambda k: (-levels[k], redflags.ORDER[k])))
    missing = profile.missing
    if missing:
        # CLINICAL.md §1: a missing answer makes the screening incomplete, whatever else was
        # answered. The answers already given keep their disposition, so the clinician is
        # told at once when they alone need medical care.
        status = "incomplete"
        trace.append(f"RF-MISSING: unanswered questions: {', '.join(missing)}")
        if disposition not in PRESCRIBE:
            trace.append(
                f"RF-MISSING: the answers given already need {disposition.word} care "
                f"({', '.join(triggered)}); do not wait for the rest to act on them"
            )
    elif disposition not in PRESCRIBE:
        status = "refused"
    else:
        status = "prescribed"
    trace.append(f"RF-DISPOSITION: {disposition.word} → {status}")
    return Screening(
        status=status,
        disposition=disposition,
        triggered=triggered,
        levels=levels,
        missing=missing,
        cleared=tuple(cleared),
        trace=tuple(trace),
    )
