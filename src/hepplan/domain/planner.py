"""From a screened profile to a phased program (CLINICAL.md §2).

``plan_program`` is a pure function of (profile, library): no files, clock or network. Every
choice, drop, substitution and dose change goes into the trace with the id of the rule in
``rules.py`` that made it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hepplan.domain import redflags, rules
from hepplan.domain.decision import Decision, Phase, Prescription
from hepplan.domain.library import Dose, Exercise, Library
from hepplan.domain.profile import Profile
from hepplan.domain.redflags import Level
from hepplan.domain.rules import Forbid, Match, Need
from hepplan.domain.screening import Screening, screen
from hepplan.domain.vocab import (
    ASSUMED_EQUIPMENT,
    Category,
    Condition,
    Irritability,
    Laterality,
    Side,
    Tag,
)
from hepplan.errors import InputError, LibraryError

INCLUDE_WHY = "Your clinician chose this one for you."


@dataclass
class _Pick:
    exercise: Exercise
    rules: list[str] = field(default_factory=list)
    whys: list[str] = field(default_factory=list)


def plan_program(
    profile: Profile,
    library: Library | None,
    screening: Screening | None = None,
    *,
    source: str = "profile",
) -> Decision:
    """Screen (if not done yet), then plan. A refused or incomplete screening has no phases
    and needs no library (``None``: its decision has no library version)."""
    screening = screening or screen(profile)
    if screening.prescribed and library is None:
        raise ValueError("a prescribed screening needs a library to plan from")
    common = dict(
        status=screening.status,
        disposition=screening.disposition,
        triggered=screening.triggered,
        missing=screening.missing,
        library_version=library.version if library else None,
        cleared=screening.cleared,
        referral=screening.referral,
    )
    if not screening.prescribed:
        return Decision(**common, phases=(), trace=screening.trace)
    planner = _Planner(profile, library, source)
    phases = planner.plan()
    routine = tuple(
        redflags.BY_KEY[key].question
        for key in screening.triggered
        if screening.levels[key] is Level.ROUTINE
    )
    return Decision(
        **common,
        phases=phases,
        trace=screening.trace + tuple(planner.trace),
        see_doctor_about=routine,
        clinician_notes=tuple(planner.notes),
    )


class _Planner:
    def __init__(self, profile: Profile, library: Library, source: str):
        self.profile = profile
        self.library = library
        self.source = source
        self.trace: list[str] = []
        self.notes: list[str] = []
        self.forbids = [rule for rule in rules.FORBID if rule.when(profile)]
        self.needs = [need for need in rules.NEEDS if need.when(profile)]
        self.irritability = profile.assessment.irritability
        self.gentler = Condition.HIP_OSTEOARTHRITIS in profile.assessment.conditions
        self.chosen: dict[int, list[Exercise]] = {}  # phase → its exercises, once selected
        self.focused = True
        conditions = profile.assessment.conditions
        self.pregnant = Condition.PREGNANCY in conditions
        self.kit = set(profile.assessment.equipment) - ASSUMED_EQUIPMENT
        self.chains = _chains(library)

    # --- the safety filter every selection passes through ------------------------------------

    def blocking(self, exercise: Exercise, phase: int) -> list[Forbid]:
        return [rule for rule in self.forbids if rule.blocks(exercise, self.profile, phase)]

    def usable(self, exercise: Exercise, phase: int) -> bool:
        return phase in exercise.phases and not self.blocking(exercise, phase)

    # --- planning -----------------------------------------------------------------------------

    def plan(self) -> tuple[Phase, ...]:
        self._trace_active_rules()
        self._check_excludes()
        includes = self._includes()
        weeks = rules.phase_weeks(self.profile)
        if self.irritability is Irritability.HIGH:
            self.trace.append("PHASE-WEEKS: irritability high → phase 1 lasts 3 weeks, not 2")
        if self.irritability is Irritability.HIGH:
            self.trace.append(
                "DOSE-SETTLED: phases 2-3 use the moderate dose: moving on requires symptoms "
                "to have settled"
            )
        aerobic = self._aerobic_choice(includes)
        phases = []
        previous_minutes = 0
        for shape in rules.PHASES:
            picks = self._select(shape.number, includes.get(shape.number, []))
            prescriptions = tuple(self._prescribe(pick, shape.number) for pick in picks)
            line, previous_minutes = self._aerobic_line(aerobic, shape.number, previous_minutes)
            phases.append(
                Phase(
                    number=shape.number,
                    name=shape.name,
                    goal=shape.goal,
                    weeks=weeks[shape.number],
                    minutes_per_day=_minutes_per_day(prescriptions) + (line.minutes or 0),
                    progress_when=shape.progress_when,
                    exercises=prescriptions,
                    aerobic=line,
                )
            )
        return tuple(phases)

    def _trace_active_rules(self) -> None:
        for rule in self.forbids:
            if rule.id in ("EQUIPMENT", "PLAN-EXCLUDE"):
                continue
            what = ", ".join(sorted(t.value for t in rule.tags)) or rule.reason
            where = (
                ""
                if rule.phases == rules.ALL_PHASES
                else (" in phase " + ", ".join(str(p) for p in sorted(rule.phases)))
            )
            self.trace.append(f"{rule.id}: {rule.when.text} → never {what}{where}")
        have = sorted(
            {e.value for e in self.profile.assessment.equipment} | {"chair", "wall", "mat"}
        )
        self.trace.append(f"EQUIPMENT: only exercises that need {', '.join(have)} or nothing")

    def _check_excludes(self) -> None:
        problems = [
            f"{self.source}: plan.exclude[{i}]: {ex_id!r} is not an exercise in the library "
            "(see 'hepplan library list')"
            for i, ex_id in enumerate(self.profile.plan.exclude)
            if ex_id not in self.library
        ]
        if problems:
            raise InputError(problems)
        for ex_id in self.profile.plan.exclude:
            self.trace.append(f"PLAN-EXCLUDE: {ex_id} is never used (clinician's choice)")

    def _includes(self) -> dict[int, list[Exercise]]:
        """Clinician includes, placed in every suitable phase no safety rule forbids."""
        placed: dict[int, list[Exercise]] = {}
        problems = []
        for index, ex_id in enumerate(self.profile.plan.include):
            where = f"{self.source}: plan.include[{index}]"
            if ex_id not in self.library:
                problems.append(
                    f"{where}: {ex_id!r} is not an exercise in the library "
                    "(see 'hepplan library list')"
                )
                continue
            exercise = self.library[ex_id]
            allowed = [p for p in exercise.phases if not self.blocking(exercise, p)]
            blocked = {
                rule.id: rule.reason for p in exercise.phases for rule in self.blocking(exercise, p)
            }
            if not allowed:
                why = "; ".join(f"rule {rid}: {reason}" for rid, reason in sorted(blocked.items()))
                problems.append(
                    f"{where}: {ex_id!r} cannot be prescribed for this patient ({why}); "
                    "a clinician's include never outranks a safety rule"
                )
                continue
            for phase in allowed:
                placed.setdefault(phase, []).append(exercise)
            text = ", ".join(str(p) for p in allowed)
            self.trace.append(f"PLAN-INCLUDE: {ex_id} added to phase {text} (clinician's choice)")
            for phase in exercise.phases:
                if phase not in allowed:
                    ids = ", ".join(rule.id for rule in self.blocking(exercise, phase))
                    self.trace.append(f"PLAN-INCLUDE: {ex_id} kept out of phase {phase} by {ids}")
        if problems:
            raise InputError(problems)
        return placed

    def _select(self, phase: int, included: list[Exercise]) -> list[_Pick]:
        """Meet the phase's needs, first giving each weak muscle work aimed at it (its main
        target); only when that overfills the phase, let one exercise meet several needs."""
        mark = len(self.trace), len(self.notes)
        picks = self._attempt(phase, included, focused=True)
        if len(picks) > rules.MAX_PER_PHASE:
            del self.trace[mark[0] :], self.notes[mark[1] :]
            picks = self._attempt(phase, included, focused=False)
            self.trace.append(
                f"MAX-PER-PHASE: phase {phase}: one exercise meets several rules, to stay within "
                f"{rules.MAX_PER_PHASE} exercises"
            )
        if len(picks) > rules.MAX_PER_PHASE:  # rules that may be withheld wait for room
            del self.trace[mark[0] :], self.notes[mark[1] :]
            picks = self._attempt(phase, included, focused=False, crowded=True)
            self.trace.append(
                f"MAX-PER-PHASE: phase {phase}: rules that may be withheld are added only while "
                f"there is room, to stay within {rules.MAX_PER_PHASE} exercises"
            )
        if len(picks) > rules.MAX_PER_PHASE:
            names = ", ".join(p.exercise.id for p in picks)
            message = (
                f"phase {phase} would hold {len(picks)} exercises ({names}); at most "
                f"{rules.MAX_PER_PHASE} fit"
            )
            if included:
                raise InputError(f"{self.source}: plan.include: {message}; include fewer")
            raise LibraryError(
                f"{message}: the library needs exercises that meet several of these rules at once"
            )
        self._fill(phase, picks)
        self._program_whys(phase, picks)
        self.chosen[phase] = [p.exercise for p in picks]
        return picks

    def _program_whys(self, phase: int, picks: list[_Pick]) -> None:
        """Whys that depend on the rest of the phase: a release done before a stretch says so."""
        stretching = any(Tag.PIRIFORMIS_STRETCH in p.exercise.tags for p in picks)
        for pick in picks:
            if stretching and pick.exercise.category is Category.SOFT_TISSUE:
                pick.whys.append(rules.RELEASE_BEFORE_STRETCH)
                self.trace.append(
                    f"RELEASE-BEFORE-STRETCH: phase {phase}: {pick.exercise.id} is done just "
                    "before the stretch"
                )

    def _attempt(
        self, phase: int, included: list[Exercise], focused: bool, crowded: bool = False
    ) -> list[_Pick]:
        """One try at a phase: required rules, then those that may be withheld, then prefers.
        In a crowded phase, rules that may be withheld are met only while there is room."""
        self.focused = focused
        picks = [
            _Pick(ex, ["PLAN-INCLUDE"], [INCLUDE_WHY])
            for ex in included
            if ex.category is not Category.AEROBIC
        ]
        needs = [n for n in self.needs if phase in n.phases]
        order = {"required": 0, "withhold": 1 if crowded else 0, "prefer": 2}
        needs.sort(key=lambda n: order[n.kind])  # stable: the table's order within a kind
        hard = [n for n in needs if n.kind != "prefer"]
        for need in needs:
            optional = need.kind == "prefer" or (crowded and need.kind == "withhold")
            if optional and len(picks) >= rules.MAX_PER_PHASE and not self._met_by(need, picks):
                self.trace.append(f"{need.id}: phase {phase}: no room left; not added")
                if need.kind == "withhold":
                    self.notes.append(
                        f"{need.id}: {need.match.describe()} not added in phase {phase} "
                        f"({need.when.text}): the phase already holds {rules.MAX_PER_PHASE} "
                        "exercises"
                    )
                continue
            open_needs = [n for n in hard if n is not need and not self._met_by(n, picks)]
            self._meet(need, phase, picks, open_needs)
        return picks

    def _meets(self, need: Need, exercise: Exercise) -> bool:
        """Whether an exercise meets a need; in focused mode, a need for a muscle is met only by
        work whose main (first-listed) target is that muscle."""
        if not need.match(exercise):
            return False
        targets = need.match.targets
        return not (self.focused and targets) or exercise.targets[0] in targets

    def _met_by(self, need: Need, picks: list[_Pick]) -> _Pick | None:
        return next((p for p in picks if self._meets(need, p.exercise)), None)

    def _meet(self, need: Need, phase: int, picks: list[_Pick], open_needs: list[Need]) -> None:
        done = self._met_by(need, picks)
        if done:
            done.rules.append(need.id)
            done.whys.append(need.why)
            self.trace.append(
                f"{need.id}: phase {phase}: met by {done.exercise.id}, already chosen"
            )
            return
        chosen = [p.exercise for p in picks]
        candidates = [
            ex for ex in self._candidates(need.match, phase, chosen) if self._meets(need, ex)
        ]
        if not candidates:  # nothing aimed at the muscle: accept work that includes it
            candidates = self._candidates(need.match, phase, chosen)
        if not candidates:  # rather than a second of a chain: chosen work that includes it
            done = next((p for p in picks if need.match(p.exercise)), None)
            if done:
                done.rules.append(need.id)
                done.whys.append(need.why)
                self.trace.append(
                    f"{need.id}: phase {phase}: met by {done.exercise.id}, already chosen "
                    "(it works that muscle too)"
                )
                return
        if not candidates and need.kind == "required":
            candidates = self._clashing(need, phase, chosen)
        substitute = False
        if not candidates and need.fallback is not None:
            candidates = self._candidates(need.fallback, phase, chosen)
            substitute = True
        if not candidates:
            # a need that has a stand-in is withheld, not an error, when the stand-in is
            # forbidden too (a release needs a ball or a roller the patient may not have)
            self._unmet(need, phase, "withhold" if substitute else need.kind)
            return
        exercise = self._best(candidates, phase, need.match, need, open_needs)
        why = need.fallback_why if substitute and need.fallback_why else need.why
        picks.append(_Pick(exercise, [need.id], [why]))
        if substitute:
            blockers = self._blockers(need.match, phase)
            self.trace.append(
                f"{need.id}: phase {phase}: every {need.match.describe()} is forbidden "
                f"({blockers}); substituted {exercise.id} ({need.fallback.describe()})"
            )
        else:
            self.trace.append(f"{need.id}: phase {phase}: chose {exercise.id}")

    def _unmet(self, need: Need, phase: int, kind: str) -> None:
        blockers = self._blockers(need.match, phase)
        if need.fallback is not None and kind == "withhold":
            also = self._blockers(need.fallback, phase)
            blockers = ", ".join(sorted({*blockers.split(", "), *also.split(", ")} - {""}))
        if kind == "required":
            excluded = [
                ex.id
                for ex in self.library
                if need.match(ex)
                and phase in ex.phases
                and [r.id for r in self.blocking(ex, phase)] == ["PLAN-EXCLUDE"]
            ]
            if excluded:
                raise InputError(
                    f"{self.source}: plan.exclude: excluding {', '.join(excluded)} leaves no "
                    f"exercise for rule {need.id} ({need.when.text}) in phase {phase}; "
                    "keep at least one of them"
                )
        if kind == "required" and blockers:
            # two rules meet: the one that forbids outranks the one that asks (safety first);
            # the need is withheld, and the clinician record says what forbade it
            kind = "withhold"
        if kind == "required":
            raise LibraryError(
                f"rule {need.id} ({need.when.text}): the library has no exercise "
                f"{need.match.describe()} for phase {phase} that this patient may do"
                + (f" (forbidden by {blockers})" if blockers else "")
            )
        verb = "withheld" if kind == "withhold" else "not added"
        reason = f"forbidden by {blockers}" if blockers else self._no_option_reason(need, phase)
        self.trace.append(f"{need.id}: phase {phase}: {verb}: every option is {reason}")
        if kind == "withhold":
            self.notes.append(
                f"{need.id}: {need.match.describe()} withheld in phase {phase} "
                f"({need.when.text}): {reason}"
            )

    def _no_option_reason(self, need: Need, phase: int) -> str:
        if any(need.match(ex) and self.usable(ex, phase) for ex in self.library):
            return "of the same progression chain as work already chosen (ONE-PER-CHAIN)"
        return "no suitable exercise in the library"

    def _candidates(self, wanted: Match, phase: int, chosen: list[Exercise]) -> list[Exercise]:
        """Usable exercises that match, and are neither chosen nor a second exercise of a chosen
        one's progression chain, nor another version of it (rule ONE-PER-CHAIN)."""
        return [
            ex
            for ex in self.library
            if wanted(ex)
            and ex.category is not Category.AEROBIC
            and not any(self._same_work(ex, other) for other in chosen)
            and self.usable(ex, phase)
        ]

    def _clashing(self, need: Need, phase: int, chosen: list[Exercise]) -> list[Exercise]:
        """A required rule outranks ONE-PER-CHAIN: when only a second exercise of a chosen one's
        chain (or another version of it) meets the rule, it is taken, and the trace says so.
        Only a clinician's include can bring this about in the shipped library."""
        options = [
            ex
            for ex in self.library
            if need.match(ex)
            and ex.category is not Category.AEROBIC
            and ex not in chosen
            and self.usable(ex, phase)
        ]
        if options:
            self.trace.append(
                f"ONE-PER-CHAIN: phase {phase}: only the chain or versions of "
                f"{', '.join(ex.id for ex in chosen)} meet rule {need.id}; one is used"
            )
        return options

    def _same_work(self, one: Exercise, other: Exercise) -> bool:
        """The same exercise, one of its progression chain, or another version of it (the same
        category for the same muscles: lying and seated bracing)."""
        if one.id == other.id or other.id in self.chains[one.id] or one.id in self.chains[other.id]:
            return True
        return one.category is other.category and set(one.targets) == set(other.targets)

    def _blockers(self, wanted: Match, phase: int) -> str:
        ids = sorted(
            {
                rule.id
                for ex in self.library
                if wanted(ex) and phase in ex.phases
                for rule in self.blocking(ex, phase)
            }
        )
        return ", ".join(ids)

    def _best(
        self,
        candidates: list[Exercise],
        phase: int,
        wanted: Match,
        need: Need | None,
        others: list[Need],
    ) -> Exercise:
        """Rank: meets more open needs; continues last phase's work (its progression, then the
        same exercise); nearest the phase's level (the gentlest for weak muscles in phase 1);
        with hip osteoarthritis the gentler of equals; then by id, so the choice is stable."""
        before = [ex for ex in self.chosen.get(phase - 1, []) if wanted(ex)]
        progressions = {ex.progression for ex in before}
        same = {ex.id for ex in before}
        gentlest = need is not None and phase in need.gentlest_in

        def rank(ex: Exercise, gentler: bool) -> tuple:
            covers = sum(1 for other in others if self._meets(other, ex))
            continuity = 0 if ex.id in progressions else 1 if ex.id in same else 2
            level = ex.level if gentlest else abs(ex.level - rules.TARGET_LEVEL[phase])
            kit = 0 if set(ex.equipment) & self.kit else 1  # use what the patient has
            return (
                -covers,
                self._posture(ex),
                continuity,
                level,
                kit,
                ex.level if gentler else 0,
                ex.id,
            )

        best = min(candidates, key=lambda ex: rank(ex, self.gentler))
        if self.gentler:
            plain = min(candidates, key=lambda ex: rank(ex, False))
            if plain.id != best.id:
                self.trace.append(
                    f"HIP-OA-GENTLER: phase {phase}: {best.id} chosen over {plain.id}, "
                    "the gentler of two equal options"
                )
        return best

    def _posture(self, ex: Exercise) -> int:
        """Rule PREGNANCY-SEATED: in pregnancy a seated stretch before a one-leg one."""
        if not self.pregnant or ex.category is not Category.STRETCH:
            return 0
        return 0 if Tag.SEATED in ex.tags else 2 if Tag.SINGLE_LEG in ex.tags else 1

    def _fill(self, phase: int, picks: list[_Pick]) -> None:
        """Bring a short phase up to FILL_TO (rule FILL): first the kinds of work the phase
        lacks, then work that adds a category or main muscle the phase has none of, then more
        of the same."""
        for mode in ("lacking", "fresh", "any"):
            for wanted in rules.FILL[phase]:
                if len(picks) >= rules.FILL_TO:
                    return
                if mode == "lacking" and any(_aimed(wanted, p.exercise) for p in picks):
                    continue
                candidates = self._candidates(wanted, phase, [p.exercise for p in picks])
                fresh = [ex for ex in candidates if _adds(ex, picks)]
                options = candidates if mode == "any" else fresh or candidates
                if mode == "fresh":
                    options = fresh
                if not options:
                    continue
                exercise = self._best(options, phase, wanted, None, [])
                picks.append(_Pick(exercise, ["FILL"], [exercise.why]))
                self.trace.append(
                    f"FILL: phase {phase}: added {exercise.id} ({wanted.describe()}) "
                    f"to bring the phase to {rules.FILL_TO} exercises"
                )
        if len(picks) < rules.MIN_PER_PHASE:
            raise LibraryError(
                f"phase {phase}: the library has fewer than {rules.MIN_PER_PHASE} exercises "
                "this patient may do"
            )

    # --- dosing -------------------------------------------------------------------------------

    def _dose(self, exercise: Exercise, phase: int) -> Dose:
        irritability = self.irritability
        if phase >= 2 and irritability is Irritability.HIGH:
            irritability = Irritability.MODERATE
        dose = exercise.dosing.for_irritability(irritability)
        if phase == 1 and self.irritability is Irritability.HIGH:
            changes = {}
            if dose.sets > rules.HIGH_IRRITABILITY_MAX_SETS:
                changes["sets"] = rules.HIGH_IRRITABILITY_MAX_SETS
            if dose.hold_s and dose.hold_s > rules.HIGH_IRRITABILITY_MAX_HOLD_S:
                changes["hold_s"] = rules.HIGH_IRRITABILITY_MAX_HOLD_S
            if changes:
                before = ", ".join(f"{k} {getattr(dose, k)}" for k in changes)
                after = ", ".join(f"{k} {v}" for k, v in changes.items())
                self.trace.append(
                    f"DOSE-HIGH-CAP: phase 1: {exercise.id}: {before} → {after} (high irritability)"
                )
                dose = dose.model_copy(update=changes)
        return dose

    def _side(self, exercise: Exercise) -> str | None:
        if exercise.laterality is Laterality.PAINFUL_SIDE:
            return self.profile.assessment.side.value
        if exercise.laterality is Laterality.EACH_SIDE:
            return Side.BOTH.value
        return None

    def _prescribe(self, pick: _Pick, phase: int) -> Prescription:
        exercise = pick.exercise
        dose = self._dose(exercise, phase)
        return Prescription(
            id=exercise.id,
            name=exercise.name,
            category=exercise.category.value,
            sets=dose.sets,
            reps=dose.reps,
            hold_s=dose.hold_s,
            times_per_day=dose.times_per_day,
            days_per_week=dose.days_per_week,
            side=self._side(exercise),
            why=" ".join(dict.fromkeys(pick.whys)),
            rules=tuple(pick.rules),
            exercise=exercise,
        )

    # --- aerobic ------------------------------------------------------------------------------

    def _aerobic_choice(self, includes: dict[int, list[Exercise]]) -> Exercise:
        chosen = [
            ex
            for phase_list in includes.values()
            for ex in phase_list
            if ex.category is Category.AEROBIC
        ]
        if chosen:
            return chosen[0]
        options = [
            ex
            for ex in self.library
            if ex.category is Category.AEROBIC and all(self.usable(ex, p) for p in (1, 2, 3))
        ]
        if not options:
            excluded = [
                ex.id
                for ex in self.library
                if ex.category is Category.AEROBIC
                and all(
                    [r.id for r in self.blocking(ex, p)] in ([], ["PLAN-EXCLUDE"])
                    for p in (1, 2, 3)
                )
                and any(self.blocking(ex, p) for p in (1, 2, 3))
            ]
            if excluded:  # the clinician's own exclusions took away every option
                raise InputError(
                    f"{self.source}: plan.exclude: excluding {', '.join(excluded)} leaves no "
                    "aerobic exercise (rule AEROBIC-EVERY-PHASE: walking or cycling in every "
                    "phase); keep at least one of them"
                )
            raise LibraryError(
                "rule AEROBIC-EVERY-PHASE: the library has no walking or cycling exercise "
                "this patient may do in every phase"
            )
        stenosis = Condition.LUMBAR_STENOSIS in self.profile.assessment.conditions

        def rank(ex: Exercise) -> tuple:
            standing = Tag.STANDING in ex.tags
            return (standing if stenosis else not standing, ex.level, ex.id)

        best = min(options, key=rank)
        if stenosis and Tag.STANDING not in best.tags:
            self.trace.append(
                f"AEROBIC-STENOSIS: {best.id} preferred: sitting (as on a bike) bends the spine "
                "forward, which eases stenosis"
            )
        elif stenosis:
            self.trace.append(
                f"AEROBIC-STENOSIS: {best.id}: no exercise bike listed; it carries "
                f"{rules.STENOSIS_WALKING!r}"
            )
        self.trace.append(f"AEROBIC-EVERY-PHASE: {best.id} in every phase")
        return best

    def _aerobic_why(self, exercise: Exercise) -> str:
        why = "Walking or cycling every week keeps your back and legs healthy and eases pain."
        stenosis = Condition.LUMBAR_STENOSIS in self.profile.assessment.conditions
        if stenosis and Tag.STANDING in exercise.tags:
            why += " " + rules.STENOSIS_WALKING
        return why

    def _aerobic_line(
        self, exercise: Exercise, phase: int, previous: int
    ) -> tuple[Prescription, int]:
        dose = exercise.dosing.for_irritability(self.irritability)
        minutes = dose.minutes or 10
        days = dose.days_per_week
        if phase in rules.AEROBIC_WEEKLY_MINUTES:
            weekly = rules.AEROBIC_WEEKLY_MINUTES[phase]
            minutes = max(previous, 5 * math.ceil(weekly / days / 5))
            self.trace.append(
                f"AEROBIC-BUILD: phase {phase}: {exercise.id} {minutes} minutes, {days} days a "
                f"week (toward 150 minutes a week)"
            )
        line = Prescription(
            id=exercise.id,
            name=exercise.name,
            category=exercise.category.value,
            sets=None,
            reps=None,
            hold_s=None,
            minutes=minutes,
            times_per_day=1,
            days_per_week=days,
            side=None,
            why=self._aerobic_why(exercise),
            rules=("AEROBIC-EVERY-PHASE",),
            exercise=exercise,
        )
        return line, minutes


def _chains(library: Library) -> dict[str, set[str]]:
    """Each exercise's progression chain: every exercise its progression or regression links
    reach, in either direction."""
    chains = {}
    for ex in library:
        reach: set[str] = set()
        for link in ("progression", "regression"):
            current = getattr(ex, link)
            while current is not None and current in library and current not in reach:
                reach.add(current)
                current = getattr(library[current], link)
        chains[ex.id] = reach
    return chains


def _aimed(wanted: Match, exercise: Exercise) -> bool:
    """Whether an exercise is the work a fill asks for, aimed at its muscle (main target)."""
    return wanted(exercise) and (not wanted.targets or exercise.targets[0] in wanted.targets)


def _adds(exercise: Exercise, picks: list[_Pick]) -> bool:
    """Whether an exercise brings a category or a main muscle the phase has none of."""
    categories = {p.exercise.category for p in picks}
    muscles = {t for p in picks for t in p.exercise.targets}
    return exercise.category not in categories or exercise.targets[0] not in muscles


def _minutes_per_day(prescriptions: tuple[Prescription, ...]) -> int:
    """A generous estimate: about 3 s a repetition (or the hold), 30 s rest between sets."""
    seconds = 0
    for item in prescriptions:
        per_rep = item.hold_s or 3
        sides = 2 if item.side == "both" else 1
        session = (item.sets or 1) * (item.reps or 1) * per_rep + ((item.sets or 1) - 1) * 30 + 30
        seconds += session * sides * item.times_per_day
    return max(5, 5 * math.ceil(seconds / 60 / 5))
