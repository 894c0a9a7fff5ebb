"""The selection rules of CLINICAL.md §2, as tables a clinician can read.

Every rule, its id (which appears in the trace and on the clinician page) and every clinical
constant live here; the planner only applies these tables. Adding a rule is one row (plus, for
a new position or load, a tag in ``vocab.py`` and on the exercises that carry it).

- ``FORBID``: hard limits. An exercise carrying one of the listed tags (or failing the check)
  is never used in the listed phases. Every selection — defaults, progressions, fills and the
  clinician's own ``plan.include`` — passes through these, so a clinician choice never outranks
  safety.
- ``NEEDS``: what a phase must hold for a finding. ``required`` needs must be met (the library is
  broken if it cannot); ``withhold`` needs are dropped, with the reason, when a safety rule forbids
  every option; ``prefer`` needs are met when there is room.
- ``PHASES``/``WEEKS``: the three phases and the findings that change how long they last.
- ``DOSES``: the dose column a finding calls for, and caps on sets and holds.
- ``PREFER``: how equal options are ranked (seated stretches in pregnancy, the gentler option
  with hip osteoarthritis, the patient's own equipment).
- ``AEROBIC_PREFER``/``AEROBIC_BUILD``: the walking or cycling line of every phase.
- ``TOGETHER``: whys that depend on the rest of the phase (a release before a stretch).
- ``ROOM``/``FILL``/``ONE_PER_CHAIN``/``PLAN_INCLUDE``/``PLAN_EXCLUDE``: the shape every phase
  keeps, and the clinician's own choices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hepplan.domain.library import Exercise
from hepplan.domain.profile import Profile
from hepplan.domain.vocab import (
    ASSUMED_EQUIPMENT,
    Category,
    Condition,
    DirectionalPreference,
    Equipment,
    Irritability,
    Laterality,
    LyingSide,
    Piriformis,
    RadicularLevel,
    Side,
    Tag,
    Target,
)

ALL_PHASES = frozenset({1, 2, 3})


@dataclass(frozen=True)
class When:
    """A finding in the profile, with the words the clinician page prints for it."""

    text: str
    test: Callable[[Profile], bool] = field(compare=False)

    def __call__(self, profile: Profile) -> bool:
        return self.test(profile)


def always() -> When:
    return When("every profile", lambda p: True)


def piriformis(finding: Piriformis) -> When:
    return When(f"piriformis {finding.value}", lambda p: p.assessment.piriformis is finding)


def condition(name: Condition) -> When:
    return When(name.value.replace("_", " "), lambda p: name in p.assessment.conditions)


def radicular(*levels: RadicularLevel) -> When:
    names = " or ".join(level.value for level in levels)
    return When(f"radicular {names}", lambda p: p.assessment.radicular_level in levels)


def irritability(level: Irritability) -> When:
    return When(f"irritability {level.value}", lambda p: p.assessment.irritability is level)


def irritability_not(level: Irritability) -> When:
    return When(f"irritability not {level.value}", lambda p: p.assessment.irritability is not level)


def preference(direction: DirectionalPreference) -> When:
    return When(
        f"directional preference {direction.value}",
        lambda p: p.assessment.directional_preference is direction,
    )


def either(first: When, second: When) -> When:
    return When(f"{first.text} or {second.text}", lambda p: first(p) or second(p))


def both(first: When, second: When) -> When:
    return When(f"{first.text} with {second.text}", lambda p: first(p) and second(p))


def age_at_least(years: int) -> When:
    def test(p: Profile) -> bool:
        return p.patient.age is not None and p.patient.age >= years

    return When(f"age {years} or over", test)


#: CLINICAL.md §2's older adult: balance and sit-to-stand work, and on the handout how to get
#: down to the floor and up.
OLDER_ADULT = age_at_least(65)


def has_equipment(*kinds: Equipment) -> When:
    names = " or ".join(k.value.replace("_", " ") for k in kinds)
    return When(f"has a {names}", lambda p: bool(set(kinds) & set(p.assessment.equipment)))


ANY_RADICULAR = (RadicularLevel.L4, RadicularLevel.L5, RadicularLevel.S1)


def grade(muscle: str, low: float | None, high: float) -> When:
    """A manual muscle test grade of ``muscle`` in (low, high]; an absent grade never matches."""
    label = f"gluteus {muscle} grade"
    text = f"{label} ≤ {high:g}" if low is None else f"{label} above {low:g}, up to {high:g}"

    def test(p: Profile) -> bool:
        value = getattr(p.assessment.glute_strength, muscle)
        return value is not None and (low is None or value > low) and value <= high

    return When(text, test)


# --- FORBID -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forbid:
    id: str
    when: When
    reason: str  # for the clinician page and error messages
    tags: frozenset[Tag] = frozenset()
    phases: frozenset[int] = ALL_PHASES
    check: Callable[[Exercise, Profile], bool] | None = field(default=None, compare=False)
    #: Its trace lines at the start of a program; by default "finding → never these tags".
    says: Callable[[Profile], tuple[str, ...]] | None = field(default=None, compare=False)

    def announce(self, profile: Profile) -> tuple[str, ...]:
        if self.says is not None:
            return self.says(profile)
        what = ", ".join(sorted(t.value for t in self.tags)) or self.reason
        where = "" if self.phases == ALL_PHASES else " in phase " + _listed(self.phases)
        return (f"{self.when.text} → never {what}{where}",)

    def blocks(self, exercise: Exercise, profile: Profile, phase: int) -> bool:
        if phase not in self.phases or not self.when(profile):
            return False
        if self.tags & set(exercise.tags):
            return True
        return self.check is not None and self.check(exercise, profile)


def _lies_on_painful_side(exercise: Exercise, profile: Profile) -> bool:
    """Whether doing this side-lying exercise means lying on a painful side."""
    if Tag.SIDE_LYING not in exercise.tags:
        return False
    if profile.assessment.side is Side.BOTH:
        return True  # whichever side the patient lies on is a painful one
    if exercise.laterality is Laterality.PAINFUL_SIDE:
        return exercise.lying_side is LyingSide.WORKING
    return True  # done on each side in turn (or unspecified): one turn lies on the painful side


def _missing_equipment(exercise: Exercise, profile: Profile) -> bool:
    have = ASSUMED_EQUIPMENT | set(profile.assessment.equipment)
    return not set(exercise.equipment) <= have


def _excluded(exercise: Exercise, profile: Profile) -> bool:
    return exercise.id in profile.plan.exclude


def _listed(phases: frozenset[int]) -> str:
    return ", ".join(str(p) for p in sorted(phases))


def _equipment_says(profile: Profile) -> tuple[str, ...]:
    have = sorted(e.value for e in ASSUMED_EQUIPMENT | set(profile.assessment.equipment))
    return (f"only exercises that need {', '.join(have)} or nothing",)


def _exclude_says(profile: Profile) -> tuple[str, ...]:
    return tuple(f"{ex_id} is never used (clinician's choice)" for ex_id in profile.plan.exclude)


def _moving_abductor_work(exercise: Exercise, profile: Profile) -> bool:
    """Strength work aimed at gluteus medius (its main target) that is not an isometric hold."""
    return (
        exercise.category is Category.STRENGTH
        and exercise.targets[0] is Target.GLUTEUS_MEDIUS
        and Tag.ISOMETRIC not in exercise.tags
    )


#: The clinician's ``plan.exclude``: its exercises are never used.
PLAN_EXCLUDE = "PLAN-EXCLUDE"

FORBID: tuple[Forbid, ...] = (
    Forbid(
        "PIR-OVER-NO-STRETCH",
        piriformis(Piriformis.OVERSTRETCHED),
        "an overstretched piriformis is strengthened, never stretched",
        tags=frozenset({Tag.PIRIFORMIS_STRETCH}),
    ),
    Forbid(
        "STENOSIS-NO-EXTENSION",
        condition(Condition.LUMBAR_STENOSIS),
        "lumbar extension narrows the spinal canal in stenosis",
        tags=frozenset({Tag.LUMBAR_EXTENSION}),
    ),
    Forbid(
        "SPONDY-NO-EXTENSION",
        condition(Condition.SPONDYLOLISTHESIS),
        "lumbar extension loads the slipped segment in spondylolisthesis",
        tags=frozenset({Tag.LUMBAR_EXTENSION}),
    ),
    Forbid(
        "GTPS-NO-ADDUCTION",
        condition(Condition.GTPS),
        "end-range hip adduction compresses the gluteal tendons in GTPS",
        tags=frozenset({Tag.HIP_ADDUCTION_END_RANGE}),
    ),
    Forbid(
        "GTPS-NOT-ON-PAINFUL-SIDE",
        condition(Condition.GTPS),
        "lying on the painful side compresses the gluteal tendons in GTPS",
        check=_lies_on_painful_side,
    ),
    Forbid(
        "FAI-NO-DEEP-FLEXION-ADDUCTION",
        condition(Condition.HIP_LABRAL_FAI),
        "deep hip flexion with adduction pinches the labrum in FAI",
        tags=frozenset({Tag.DEEP_HIP_FLEXION_ADDUCTION}),
    ),
    Forbid(
        "GTPS-ISOMETRIC-FIRST",
        condition(Condition.GTPS),
        "in GTPS, phase 1 abductor work is an isometric hold, before any side-lying or banded work",
        phases=frozenset({1}),
        check=_moving_abductor_work,
    ),
    Forbid(
        "FAI-NO-DEEP-FLEXION",
        condition(Condition.HIP_LABRAL_FAI),
        "hip flexion past 90° pinches the labrum in FAI",
        tags=frozenset({Tag.DEEP_HIP_FLEXION}),
    ),
    Forbid(
        "PREGNANCY-NO-PRONE-SUPINE",
        condition(Condition.PREGNANCY),
        "no lying face down or on the back in pregnancy (the week is not recorded)",
        tags=frozenset({Tag.PRONE, Tag.SUPINE}),
    ),
    Forbid(
        "OSTEOPOROSIS-NO-FLEXION-IMPACT",
        condition(Condition.OSTEOPOROSIS),
        "loaded spinal flexion and impact risk vertebral fracture in osteoporosis",
        tags=frozenset({Tag.LOADED_SPINAL_FLEXION, Tag.HIGH_IMPACT}),
    ),
    Forbid(
        "OSTEOPOROSIS-NO-END-RANGE-FLEXION",
        condition(Condition.OSTEOPOROSIS),
        "curling the spine to its end (knees to chest) risks vertebral fracture in osteoporosis",
        tags=frozenset({Tag.SPINAL_FLEXION_END_RANGE}),
    ),
    Forbid(
        "HIP-OA-NO-IMPACT",
        condition(Condition.HIP_OSTEOARTHRITIS),
        "high-impact work is avoided with hip osteoarthritis",
        tags=frozenset({Tag.HIGH_IMPACT}),
    ),
    Forbid(
        "IRRITABILITY-HIGH-PHASE-1",
        irritability(Irritability.HIGH),
        "no high load, single-leg work or nerve tensioners while symptoms are highly irritable",
        tags=frozenset({Tag.HIGH_LOAD, Tag.SINGLE_LEG, Tag.NERVE_TENSIONER}),
        phases=frozenset({1}),
    ),
    Forbid(
        "RAD-HIGH-NO-PIR-STRETCH",
        both(radicular(*ANY_RADICULAR), irritability(Irritability.HIGH)),
        "hip flexion with adduction loads an irritable nerve root: no piriformis stretch yet",
        tags=frozenset({Tag.PIRIFORMIS_STRETCH}),
        phases=frozenset({1}),
    ),
    Forbid(
        "TENSIONER-LOW-IRRITABILITY-ONLY",
        irritability_not(Irritability.LOW),
        "nerve tensioners only when irritability is low",
        tags=frozenset({Tag.NERVE_TENSIONER}),
    ),
    Forbid(
        "TENSIONER-NOT-PHASE-1",
        always(),
        "nerve tensioners never in phase 1",
        tags=frozenset({Tag.NERVE_TENSIONER}),
        phases=frozenset({1}),
    ),
    Forbid(
        "EQUIPMENT",
        always(),
        "never equipment the patient lacks (a chair, wall and mat are assumed)",
        check=_missing_equipment,
        says=_equipment_says,
    ),
    Forbid(
        PLAN_EXCLUDE,
        always(),
        "the clinician excluded it (plan.exclude)",
        check=_excluded,
        says=_exclude_says,
    ),
)


# --- NEED ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Which exercises meet a need: a category, any of some targets, all of some tags."""

    categories: frozenset[Category] = frozenset()
    targets: frozenset[Target] = frozenset()
    tags: frozenset[Tag] = frozenset()
    any_tags: frozenset[Tag] = frozenset()

    def __call__(self, exercise: Exercise) -> bool:
        return (
            (not self.categories or exercise.category in self.categories)
            and (not self.targets or bool(self.targets & set(exercise.targets)))
            and self.tags <= set(exercise.tags)
            and (not self.any_tags or bool(self.any_tags & set(exercise.tags)))
        )

    def describe(self) -> str:
        parts = []
        if self.categories:
            parts.append("/".join(sorted(c.value for c in self.categories)))
        if self.tags:
            parts.append("tagged " + "+".join(sorted(t.value for t in self.tags)))
        if self.any_tags:
            parts.append("tagged " + " or ".join(sorted(t.value for t in self.any_tags)))
        if self.targets:
            parts.append("for " + " or ".join(sorted(t.value for t in self.targets)))
        return " ".join(parts) or "any exercise"


def match(category: Category | None = None, *, targets=(), tags=(), any_tags=()) -> Match:
    return Match(
        frozenset({category}) if category else frozenset(),
        frozenset(targets),
        frozenset(tags),
        frozenset(any_tags),
    )


@dataclass(frozen=True)
class Need:
    id: str
    when: When
    phases: frozenset[int]
    match: Match
    why: str  # message key: why this exercise is in the program, in the patient's words
    kind: str = "required"  # required | withhold | prefer
    gentlest_in: frozenset[int] = frozenset()  # phases where the lowest level is chosen
    fallback: Match | None = None  # used, with a trace line, when every match is forbidden
    fallback_why: str = ""  # message key, when the fallback stands in


GLUTES = (Target.GLUTEUS_MEDIUS, Target.GLUTEUS_MAXIMUS)
P1, P2, P3 = frozenset({1}), frozenset({2}), frozenset({3})
P12, P23 = frozenset({1, 2}), frozenset({2, 3})

NEEDS: tuple[Need, ...] = (
    Need(
        "OSTEOPOROSIS-BALANCE",
        condition(Condition.OSTEOPOROSIS),
        P23,
        match(tags=[Tag.BALANCE]),
        "rules.osteoporosis_balance",
        kind="withhold",
    ),
    Need(
        "AGE-BALANCE",
        OLDER_ADULT,
        P23,
        match(tags=[Tag.BALANCE]),
        "rules.age_balance",
        kind="withhold",
    ),
    Need(
        "AGE-SIT-TO-STAND",
        OLDER_ADULT,
        P23,
        match(Category.STRENGTH, tags=[Tag.SEATED, Tag.STANDING]),
        "rules.age_sit_to_stand",
        kind="withhold",
    ),
    Need(
        "PIR-TIGHT-STRETCH",
        piriformis(Piriformis.TIGHT),
        P1,
        match(tags=[Tag.PIRIFORMIS_STRETCH]),
        "rules.pir_tight_stretch",
        fallback=match(Category.SOFT_TISSUE, targets=[Target.PIRIFORMIS]),
        fallback_why="rules.pir_tight_stretch_fallback",
    ),
    Need(
        "PIR-OVER-GLUTE-MED",
        piriformis(Piriformis.OVERSTRETCHED),
        P1,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
        "rules.pir_over_glute_med",
        gentlest_in=P1,
    ),
    Need(
        "PIR-OVER-GLUTE-MAX",
        piriformis(Piriformis.OVERSTRETCHED),
        P1,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
        "rules.pir_over_glute_max",
        gentlest_in=P1,
    ),
    Need(
        "PIR-OVER-CONTROL",
        piriformis(Piriformis.OVERSTRETCHED),
        P1,
        match(Category.MOTOR_CONTROL),
        "rules.pir_over_control",
    ),
    Need(
        "PIR-OVER-LOAD",
        piriformis(Piriformis.OVERSTRETCHED),
        P2,
        match(Category.STRENGTH, targets=GLUTES),
        "rules.pir_over_load",
    ),
    Need(
        "PIR-OVER-STANDING",
        piriformis(Piriformis.OVERSTRETCHED),
        P3,
        match(Category.STRENGTH, targets=GLUTES, any_tags=[Tag.STANDING, Tag.SINGLE_LEG]),
        "rules.pir_over_standing",
    ),
    Need(
        "GLUTE-MED-WEAK",
        grade("medius", None, 3),
        ALL_PHASES,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
        "rules.glute_med_weak",
        gentlest_in=P1,
    ),
    Need(
        "GLUTE-MED-FAIR",
        grade("medius", 3, 4.5),
        P23,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
        "rules.glute_med_fair",
    ),
    Need(
        "GLUTE-MAX-WEAK",
        grade("maximus", None, 3),
        ALL_PHASES,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
        "rules.glute_max_weak",
        gentlest_in=P1,
    ),
    Need(
        "GLUTE-MAX-FAIR",
        grade("maximus", 3, 4.5),
        P23,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
        "rules.glute_max_fair",
    ),
    Need(
        "RAD-SCIATIC-SLIDER",
        radicular(RadicularLevel.L5, RadicularLevel.S1),
        P12,
        match(Category.NERVE_GLIDE, targets=[Target.SCIATIC_NERVE], tags=[Tag.NERVE_SLIDER]),
        "rules.rad_sciatic_slider",
    ),
    Need(
        "RAD-L5-ABDUCTORS",
        radicular(RadicularLevel.L5),
        P23,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
        "rules.rad_l5_abductors",
    ),
    Need(
        "RAD-L5-DORSIFLEXORS",
        radicular(RadicularLevel.L5),
        P23,
        match(Category.STRENGTH, targets=[Target.ANKLE_DORSIFLEXORS]),
        "rules.rad_l5_dorsiflexors",
    ),
    Need(
        "RAD-S1-GLUTE-MAX",
        radicular(RadicularLevel.S1),
        P23,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
        "rules.rad_s1_glute_max",
    ),
    Need(
        "RAD-S1-CALF",
        radicular(RadicularLevel.S1),
        P23,
        match(Category.STRENGTH, targets=[Target.CALF]),
        "rules.rad_s1_calf",
    ),
    Need(
        "RAD-FEMORAL-SLIDER",
        radicular(RadicularLevel.L4),
        P12,
        match(Category.NERVE_GLIDE, targets=[Target.FEMORAL_NERVE], tags=[Tag.NERVE_SLIDER]),
        "rules.rad_femoral_slider",
    ),
    Need(
        "RAD-L4-QUADRICEPS",
        radicular(RadicularLevel.L4),
        P23,
        match(Category.STRENGTH, targets=[Target.QUADRICEPS]),
        "rules.rad_l4_quadriceps",
    ),
    Need(
        "DIR-EXTENSION",
        preference(DirectionalPreference.EXTENSION),
        P1,
        match(tags=[Tag.LUMBAR_EXTENSION]),
        "rules.dir_extension",
        kind="withhold",
    ),
    Need(
        "DIR-FLEXION",
        either(preference(DirectionalPreference.FLEXION), condition(Condition.LUMBAR_STENOSIS)),
        P1,
        match(tags=[Tag.LUMBAR_FLEXION]),
        "rules.dir_flexion",
        kind="withhold",  # e.g. pregnancy with FAI forbids every one: the record says so
    ),
    Need(
        "SPONDY-CONTROL",
        condition(Condition.SPONDYLOLISTHESIS),
        ALL_PHASES,
        match(Category.MOTOR_CONTROL),
        "rules.spondy_control",
    ),
    Need(
        "GTPS-ISOMETRIC-ABDUCTORS",
        condition(Condition.GTPS),
        P1,
        match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS], tags=[Tag.ISOMETRIC]),
        "rules.gtps_isometric_abductors",
        kind="withhold",
    ),
    Need(
        "PHASE3-SINGLE-LEG",
        always(),
        P3,
        match(Category.STRENGTH, targets=GLUTES, tags=[Tag.SINGLE_LEG]),
        "rules.phase3_single_leg",
        kind="withhold",
        fallback=match(Category.STRENGTH, tags=[Tag.SINGLE_LEG]),  # any one-leg strength work
        fallback_why="rules.phase3_single_leg_fallback",
    ),
    Need(
        "PIR-TIGHT-KEEP-STRETCH",
        piriformis(Piriformis.TIGHT),
        P23,
        match(tags=[Tag.PIRIFORMIS_STRETCH]),
        "rules.pir_tight_keep_stretch",
        kind="prefer",
    ),
    Need(
        "PIR-TIGHT-USE-EQUIPMENT",
        both(
            piriformis(Piriformis.TIGHT),
            has_equipment(Equipment.FOAM_ROLLER, Equipment.MASSAGE_BALL),
        ),
        P1,
        match(Category.SOFT_TISSUE, targets=[Target.PIRIFORMIS]),
        "rules.pir_tight_use_equipment",
        kind="prefer",
    ),
    Need(
        "RAD-SCIATIC-TENSIONER",
        both(radicular(RadicularLevel.L5, RadicularLevel.S1), irritability(Irritability.LOW)),
        P3,
        match(Category.NERVE_GLIDE, targets=[Target.SCIATIC_NERVE], tags=[Tag.NERVE_TENSIONER]),
        "rules.rad_sciatic_tensioner",
        kind="prefer",
    ),
    Need(
        "RAD-FEMORAL-TENSIONER",
        both(radicular(RadicularLevel.L4), irritability(Irritability.LOW)),
        P3,
        match(Category.NERVE_GLIDE, targets=[Target.FEMORAL_NERVE], tags=[Tag.NERVE_TENSIONER]),
        "rules.rad_femoral_tensioner",
        kind="prefer",
    ),
)


# --- PHASES AND WEEKS ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseShape:
    number: int
    name: str
    goal: str
    progress_when: str  # message key of a list: one criterion a line
    ends: int  # the week the phase ends, unless a WEEKS rule moves it


@dataclass(frozen=True)
class Weeks:
    """A finding that moves the end of a phase (and so the start of the next one)."""

    id: str
    when: When
    phase: int
    ends: int
    says: str  # the trace line


MOVE_ON = "rules.move_on"

PHASES: tuple[PhaseShape, ...] = (
    PhaseShape(1, "rules.phase_1_name", "rules.phase_1_goal", MOVE_ON, ends=2),
    PhaseShape(
        2,
        "rules.phase_2_name",
        "rules.phase_2_goal",
        MOVE_ON,
        ends=8,
    ),
    PhaseShape(
        3,
        "rules.phase_3_name",
        "rules.phase_3_goal",
        "rules.phase_3_when",
        ends=12,
    ),
)

WEEKS: tuple[Weeks, ...] = (
    Weeks(
        "PHASE-WEEKS",
        irritability(Irritability.HIGH),
        phase=1,
        ends=3,
        says="irritability high → phase 1 lasts 3 weeks, not 2",
    ),
)


def phase_weeks(profile: Profile) -> dict[int, tuple[int, int]]:
    """Each phase's (first, last) week: the shapes' ends, moved by the WEEKS rules that apply."""
    ends = {shape.number: shape.ends for shape in PHASES}
    for rule in WEEKS:
        if rule.when(profile):
            ends[rule.phase] = rule.ends
    starts = {number: ends.get(number - 1, 0) for number in ends}
    return {number: (starts[number], ends[number]) for number in ends}


# --- DOSES --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DoseRule:
    """How a finding changes the dose of every exercise (not the aerobic line) in some phases:
    the dose column used instead of the patient's irritability, or caps on sets and holds."""

    id: str
    when: When
    phases: frozenset[int]
    column: Irritability | None = None
    max_sets: int | None = None
    max_hold_s: int | None = None
    says: str = ""  # a trace line once per program, when it applies
    because: str = ""  # ends the trace line of each capped exercise


DOSES: tuple[DoseRule, ...] = (
    DoseRule(
        "DOSE-SETTLED",
        irritability(Irritability.HIGH),
        P23,
        column=Irritability.MODERATE,
        says="phases 2-3 use the moderate dose: moving on requires symptoms to have settled",
    ),
    DoseRule(
        "DOSE-HIGH-CAP",
        irritability(Irritability.HIGH),
        P1,
        max_sets=2,
        max_hold_s=20,
        because="high irritability",
    ),
)


# --- PREFERENCES: how equal options are ranked --------------------------------------------------


def _seated_stretch_first(exercise: Exercise, profile: Profile) -> int:
    if exercise.category is not Category.STRETCH:
        return 0
    return 0 if Tag.SEATED in exercise.tags else 2 if Tag.SINGLE_LEG in exercise.tags else 1


def _uses_own_kit(exercise: Exercise, profile: Profile) -> int:
    kit = set(profile.assessment.equipment) - ASSUMED_EQUIPMENT
    return 0 if set(exercise.equipment) & kit else 1


def _gentler(exercise: Exercise, profile: Profile) -> int:
    return exercise.level


@dataclass(frozen=True)
class Prefer:
    """A ranking among the options that meet a need (lower first). A ``strong`` preference
    outranks continuing last phase's work and the phase's level; otherwise it only breaks ties
    between options equal on both. ``says`` goes in the trace when it changed the choice."""

    id: str
    when: When
    key: Callable[[Exercise, Profile], int] = field(compare=False)
    strong: bool = False
    says: str = ""


PREFER: tuple[Prefer, ...] = (
    Prefer("PREGNANCY-SEATED", condition(Condition.PREGNANCY), _seated_stretch_first, strong=True),
    Prefer("EQUIPMENT-USE", always(), _uses_own_kit),
    Prefer(
        "HIP-OA-GENTLER",
        condition(Condition.HIP_OSTEOARTHRITIS),
        _gentler,
        says="the gentler of two equal options",
    ),
)


# --- AEROBIC ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AerobicPrefer:
    """A finding that turns the aerobic choice away from a tag (walking is ``standing``)."""

    id: str
    when: When
    avoid: Tag
    preferred_because: str  # trace, when an option without the tag is chosen
    otherwise: str  # trace, when every option has it
    carries: str  # message key: added to the why of an option with the tag


@dataclass(frozen=True)
class AerobicBuild:
    """Rule AEROBIC-BUILD: walking or cycling every phase, building to 150 minutes a week
    (WHO 2020). Phase 1 takes the exercise's dose for the irritability; later phases these
    weekly totals, spread over the dose's days, rounded up to ``round_to`` minutes."""

    id: str
    weekly_minutes: dict[int, int]
    goal: int
    round_to: int
    default_minutes: int  # when the exercise's dose gives none


#: Rule AEROBIC-EVERY-PHASE: one walking or cycling exercise, the same in every phase.
AEROBIC_EVERY_PHASE = "AEROBIC-EVERY-PHASE"
#: Without an AEROBIC_PREFER rule, options with this tag come first (walking before cycling).
AEROBIC_FIRST = Tag.STANDING

AEROBIC_PREFER: tuple[AerobicPrefer, ...] = (
    AerobicPrefer(
        "AEROBIC-STENOSIS",
        condition(Condition.LUMBAR_STENOSIS),
        avoid=Tag.STANDING,
        preferred_because="sitting (as on a bike) bends the spine forward, which eases stenosis",
        otherwise="no exercise bike listed",
        carries="rules.aerobic_stenosis",
    ),
)

AEROBIC_BUILD = AerobicBuild(
    "AEROBIC-BUILD", weekly_minutes={2: 100, 3: 150}, goal=150, round_to=5, default_minutes=10
)


# --- TOGETHER: whys that depend on the rest of the phase ----------------------------------------


@dataclass(frozen=True)
class Together:
    """When a phase holds work matching ``with_``, each exercise matching ``item`` gets ``why``
    (patient-facing) and a trace line."""

    id: str
    with_: Match
    item: Match
    why: str
    says: str  # after "phase N: <exercise id> "


TOGETHER: tuple[Together, ...] = (
    Together(
        "RELEASE-BEFORE-STRETCH",
        with_=match(tags=[Tag.PIRIFORMIS_STRETCH]),
        item=match(Category.SOFT_TISSUE),
        why="rules.release_before_stretch",
        says="is done just before the stretch",
    ),
)


# --- ROOM, FILL, CHAINS, INCLUDES: the shape every phase keeps ----------------------------------


@dataclass(frozen=True)
class Attempt:
    """One way to select a phase. ``focused``: a need for a muscle is met only by work whose
    main target is that muscle; ``crowded``: needs that may be withheld wait for room."""

    focused: bool
    crowded: bool
    says: str  # trace when this attempt is the one taken ("" for none), then the room it keeps


@dataclass(frozen=True)
class Room:
    id: str
    most: int
    least: int
    #: Tried in order; the first that keeps the phase within ``most`` exercises is taken.
    attempts: tuple[Attempt, ...]


ROOM = Room(
    "MAX-PER-PHASE",
    most=5,
    least=2,
    attempts=(
        Attempt(focused=True, crowded=False, says=""),
        Attempt(
            focused=False,
            crowded=False,
            says="one exercise meets several rules",
        ),
        Attempt(
            focused=False,
            crowded=True,
            says="rules that may be withheld are added only while there is room",
        ),
    ),
)


@dataclass(frozen=True)
class Fill:
    """When the needs leave a phase short, it is filled up to ``to`` exercises from ``order``:
    the gluteal and trunk work that suits every buttock-pain program."""

    id: str
    to: int
    order: dict[int, tuple[Match, ...]]


FILL = Fill(
    "FILL",
    to=3,
    order={
        1: (
            match(Category.MOTOR_CONTROL),
            match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
            match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
        ),
        2: (
            match(Category.STRENGTH, targets=[Target.GLUTEUS_MAXIMUS]),
            match(Category.STRENGTH, targets=[Target.GLUTEUS_MEDIUS]),
            match(Category.MOTOR_CONTROL),
        ),
        3: (
            match(Category.STRENGTH, targets=GLUTES, any_tags=[Tag.STANDING, Tag.SINGLE_LEG]),
            match(Category.STRENGTH, targets=GLUTES),
            match(Category.MOTOR_CONTROL),
        ),
    },
)

#: The level each phase aims for (1 = gentlest); options nearer to it are preferred.
TARGET_LEVEL = {1: 1, 2: 2, 3: 3}

#: Never two exercises of one progression chain, nor two versions of one exercise, in a phase.
ONE_PER_CHAIN = "ONE-PER-CHAIN"
#: The clinician's ``plan.include``: added where no FORBID rule stops it.
PLAN_INCLUDE = "PLAN-INCLUDE"


@dataclass(frozen=True)
class Estimate:
    """The minutes-per-day figure of a phase: a generous estimate, rounded up."""

    seconds_per_rep: int  # when the exercise has no hold
    rest_between_sets_s: int
    per_exercise_s: int  # getting into position, once a session
    round_to: int  # minutes
    least: int  # minutes


MINUTES_PER_DAY = Estimate(
    seconds_per_rep=3, rest_between_sets_s=30, per_exercise_s=30, round_to=5, least=5
)

#: Message keys: the why of a clinician's include, of the aerobic line, and of a fill (the
#: exercise's own why, from the library).
INCLUDE_WHY = "rules.include"
EXERCISE_WHY = "exercise.why"
AEROBIC_WHY = "rules.aerobic"


# --- FOLLOW-UP VISITS (CLINICAL.md §4) ----------------------------------------------------------

#: Where the patient goes next: one rule id per decision, in the trace and the record.
PROG_ADVANCE = "PROG-ADVANCE"
PROG_HOLD = "PROG-HOLD"
PROG_REGRESS = "PROG-REGRESS"
PROG_MAINTAIN = "PROG-MAINTAIN"

#: The "move on when" thresholds.
PAIN_TO_ADVANCE = 3  # pain during the exercises at or under this
PAIN_TO_REGRESS = 5  # above this: a step back
DAYS_DONE_TO_ADVANCE = 70  # percent of prescribed days
WEEKS_TO_ADVANCE = 1
WEEKS_WITHOUT_CHANGE = 6  # no meaningful change after this long: review the plan (NICE NG59)


@dataclass(frozen=True)
class Measure:
    """An outcome measure and its minimal clinically important difference."""

    key: str
    name: str
    mcid: float
    lower_is_better: bool


MEASURES = (
    Measure("nprs", "Pain now (NPRS, 0-10)", 2, lower_is_better=True),  # Childs et al. 2005
    Measure(  # Stratford et al. 1995; Abbott & Schmitt 2014
        "psfs", "Patient-Specific Functional Scale, mean (0-10)", 2, lower_is_better=False
    ),
    Measure("odi", "Oswestry Disability Index (0-100)", 10, lower_is_better=True),  # Ostelo 2008
)

#: PROG-REGRESS: the step the patient goes back to is dosed as for high irritability (the
#: DOSE-HIGH-CAP limits too); later steps keep the patient's own dose.
REGRESS_DOSE = DoseRule(
    PROG_REGRESS,
    always(),
    ALL_PHASES,  # narrowed to the step gone back to when it is applied
    column=Irritability.HIGH,
    max_sets=2,
    max_hold_s=20,
    because="a step back is dosed as for high irritability",
)


@dataclass(frozen=True)
class Maintain:
    """PROG-MAINTAIN: a keep-it-up program made of step 3's exercises, fewer days a week, with
    the aerobic line at the WHO goal."""

    id: str
    name: str
    goal: str
    progress_when: str  # message key of a list: one criterion a line
    least_days: int
    most_days: int
    weekly_minutes: int


MAINTAIN = Maintain(
    PROG_MAINTAIN,
    name="rules.maintain_name",
    goal="rules.maintain_goal",
    progress_when="rules.maintain_when",
    least_days=2,
    most_days=3,
    weekly_minutes=150,
)
