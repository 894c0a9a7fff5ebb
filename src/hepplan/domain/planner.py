"""From a screened profile to a phased program (CLINICAL.md §2).

``plan_program`` is a pure function of (profile, library): no files, clock or network. The rules
and their ids, limits and constants all live in ``rules.py``; this module only applies them,
and every choice, drop, substitution and dose change goes into the trace with the rule's id.

The steps, in order: check the clinician's excludes, announce the rules that apply, place the
clinician's includes, choose the aerobic line; then for each phase select (each way of
``rules.ROOM`` is tried as a value, and only the one taken keeps its trace lines), fill, add the
whys that depend on the whole phase, dose, and build the aerobic line.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import NoReturn

from hepplan.domain import redflags, rules
from hepplan.domain.decision import Decision, Phase, Prescription
from hepplan.domain.library import Dose, Exercise, Library
from hepplan.domain.profile import Profile
from hepplan.domain.progress import Progress, decide_progress
from hepplan.domain.redflags import Level
from hepplan.domain.rules import Forbid, Match, Need
from hepplan.domain.screening import Screening, screen
from hepplan.domain.vocab import Category, Laterality, Side
from hepplan.errors import InputError, LibraryError

# --- the planner's words: every trace line, clinician note and error message it writes --------

_SAY = {
    # trace
    "include-added": "{rule}: {ex} added to phase {phases} (clinician's choice)",
    "include-kept-out": "{rule}: {ex} kept out of phase {phase} by {ids}",
    "attempt": "{rule}: phase {phase}: {says}, to stay within {most} exercises",
    "no-room": "{rule}: phase {phase}: no room left; not added",
    "met": "{rule}: phase {phase}: met by {ex}, already chosen",
    "met-too": "{rule}: phase {phase}: met by {ex}, already chosen (it works that muscle too)",
    "chose": "{rule}: phase {phase}: chose {ex}",
    "substituted": "{rule}: phase {phase}: every {wanted} is forbidden ({blockers}); "
    "substituted {ex} ({fallback})",
    "unmet": "{rule}: phase {phase}: {verb}: every option is {reason}",
    "clashing": "{rule}: phase {phase}: only the chain or versions of {ids} meet rule {need}; "
    "one is used",
    "preferred": "{rule}: phase {phase}: {ex} chosen over {other}, {says}",
    "fill": "{rule}: phase {phase}: added {ex} ({wanted}) to bring the phase to {to} exercises",
    "together": "{rule}: phase {phase}: {ex} {says}",
    "dose-cap": "{rule}: phase {phase}: {ex}: {before} → {after} ({because})",
    "aerobic-preferred": "{rule}: {ex} preferred: {because}",
    "aerobic-otherwise": "{rule}: {ex}: {otherwise}; it carries {carries!r}",
    "aerobic-every": "{rule}: {ex} in every phase",
    "aerobic-build": "{rule}: phase {phase}: {ex} {minutes} minutes, {days} days a week "
    "(toward {goal} minutes a week)",
    "prog-advance": "{rule}: the program starts at step {step} today; {done} done",
    "prog-hold": "{rule}: step {step} again from today for its {weeks} weeks, its exercises "
    "planned as before from today's findings",
    "prog-regress": "{rule}: back to step {step} from today, dosed as for high irritability; "
    "re-examine the nerve",
    "prog-maintain": "{rule}: keep-it-up program from today: step 3's exercises {least}-{most} "
    "days a week; {ex} {minutes} minutes, {days} days a week ({weekly} minutes a week)",
    # reasons, in trace lines and notes
    "forbidden": "forbidden by {blockers}",
    "chain": "of the same progression chain as work already chosen ({rule})",
    "none-suitable": "no suitable exercise in the library",
    # clinician notes
    "note-no-room": "{rule}: {wanted} not added in phase {phase} ({when}): the phase already "
    "holds {most} exercises",
    "note-withheld": "{rule}: {wanted} withheld in phase {phase} ({when}): {reason}",
    # errors
    "no-library": "a prescribed screening needs a library to plan from",
    "unknown": "{where}: {ex!r} is not an exercise in the library (see 'hepplan library list')",
    "include-forbidden": "{where}: {ex!r} cannot be prescribed for this patient ({why}); "
    "a clinician's include never outranks a safety rule",
    "too-many": "phase {phase} would hold {count} exercises ({ids}); at most {most} fit",
    "too-many-included": "{source}: plan.include: {message}; include fewer",
    "too-many-library": "{message}: the library needs exercises that meet several of these "
    "rules at once",
    "too-few": "phase {phase}: the library has fewer than {least} exercises this patient may do",
    "excluded-need": "{source}: plan.exclude: excluding {ids} leaves no exercise for rule "
    "{rule} ({when}) in phase {phase}; keep at least one of them",
    "need-impossible": "rule {rule} ({when}): the library has no exercise {wanted} for phase "
    "{phase} that this patient may do",
    "excluded-aerobic": "{source}: plan.exclude: excluding {ids} leaves no aerobic exercise "
    "(rule {rule}: walking or cycling in every phase); keep at least one of them",
    "no-aerobic": "rule {rule}: the library has no walking or cycling exercise this patient "
    "may do in every phase",
}


def _say(key: str, **words: object) -> str:
    return _SAY[key].format(**words)


# --- values ------------------------------------------------------------------------------------


@dataclass
class _Pick:
    exercise: Exercise
    rules: list[str] = field(default_factory=list)
    whys: list[str] = field(default_factory=list)


@dataclass
class _Log:
    trace: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def say(self, key: str, **words: object) -> None:
        self.trace.append(_say(key, **words))

    def note(self, key: str, **words: object) -> None:
        self.notes.append(_say(key, **words))

    def extend(self, other: _Log) -> None:
        self.trace += other.trace
        self.notes += other.notes


@dataclass(frozen=True)
class _Setting:
    """What every step reads: the patient, the library, and the rules that apply to them."""

    profile: Profile
    library: Library
    source: str
    forbids: tuple[Forbid, ...]
    needs: tuple[Need, ...]
    prefers: tuple[rules.Prefer, ...]
    doses: tuple[rules.DoseRule, ...]
    chains: dict[str, set[str]]

    @classmethod
    def of(
        cls, profile: Profile, library: Library, source: str, progress: Progress | None = None
    ) -> _Setting:
        def applying(table):
            return tuple(rule for rule in table if rule.when(profile))

        doses = applying(rules.DOSES)
        if progress is not None and progress.gentle:  # PROG-REGRESS: first, so its column wins
            back = dataclasses.replace(rules.REGRESS_DOSE, phases=frozenset({progress.to_step}))
            doses = (back, *doses)
        return cls(
            profile,
            library,
            source,
            applying(rules.FORBID),
            applying(rules.NEEDS),
            applying(rules.PREFER),
            doses,
            _chains(library),
        )

    def blocking(self, exercise: Exercise, phase: int) -> list[Forbid]:
        """The safety filter every selection passes through."""
        return [rule for rule in self.forbids if rule.blocks(exercise, self.profile, phase)]

    def usable(self, exercise: Exercise, phase: int) -> bool:
        return phase in exercise.phases and not self.blocking(exercise, phase)


@dataclass
class _Selection:
    """One attempt at a phase, as a value: its picks and its own trace lines and notes."""

    phase: int
    attempt: rules.Attempt
    before: tuple[Exercise, ...]  # the previous phase's exercises
    picks: list[_Pick]
    log: _Log = field(default_factory=_Log)

    @property
    def chosen(self) -> list[Exercise]:
        return [p.exercise for p in self.picks]


# --- the program --------------------------------------------------------------------------------


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
        raise ValueError(_say("no-library"))
    screened = screening.as_decision(library.version if library else None)
    if not screening.prescribed:
        return screened
    progress = _progress(profile)
    log = _Log(list(progress.reasons) if progress else [])
    phases = _plan(_Setting.of(profile, library, source, progress), log)
    if progress is not None:
        phases = _from_step(phases, progress, log)
    routine = tuple(
        redflags.BY_KEY[key].question
        for key in screening.triggered
        if screening.levels[key] is Level.ROUTINE
    )
    return screened.model_copy(
        update={
            "phases": phases,
            "trace": screening.trace + tuple(log.trace),
            "see_doctor_about": routine,
            "clinician_notes": tuple(log.notes),
            "progress": progress,
            "start_step": progress.to_step if progress else 1,
        }
    )


def _progress(profile: Profile) -> Progress | None:
    """At a follow-up, where the patient goes next (CLINICAL.md §4). The visit is the day of
    the assessment: weeks and the time since the first outcome visit are counted from it, so a
    rebuild on a later day decides the same."""
    if profile.follow_up is None:
        return None
    return decide_progress(profile.follow_up, profile.outcomes, profile.assessment.date)


def _plan(setting: _Setting, log: _Log) -> tuple[Phase, ...]:
    _check_excludes(setting)
    for rule in setting.forbids:
        for line in rule.announce(setting.profile):
            log.trace.append(f"{rule.id}: {line}")
    includes = _includes(setting, log)
    _announce_program_rules(setting, log)
    weeks = rules.phase_weeks(setting.profile)
    aerobic = _aerobic_choice(setting, includes, log)
    phases: list[Phase] = []
    before: tuple[Exercise, ...] = ()
    minutes = 0
    for shape in rules.PHASES:
        picks = _phase_picks(setting, shape.number, includes.get(shape.number, []), before, log)
        items = tuple(_prescribe(setting, pick, shape.number, log) for pick in picks)
        line, minutes = _aerobic_line(setting, aerobic, shape.number, minutes, log)
        phases.append(_phase(shape, weeks[shape.number], items, line))
        before = tuple(pick.exercise for pick in picks)
    return tuple(phases)


def _announce_program_rules(setting: _Setting, log: _Log) -> None:
    """The shape and dose rules that apply to the whole program, once."""
    for rule in (*rules.WEEKS, *setting.doses):
        if rule.when(setting.profile) and rule.says:
            log.trace.append(f"{rule.id}: {rule.says}")


def _phase(
    shape: rules.PhaseShape,
    weeks: tuple[int, int],
    items: tuple[Prescription, ...],
    line: Prescription,
) -> Phase:
    return Phase(
        number=shape.number,
        name=shape.name,
        goal=shape.goal,
        weeks=weeks,
        minutes_per_day=_minutes_per_day(items) + (line.minutes or 0),
        progress_when=shape.progress_when,
        exercises=items,
        aerobic=line,
    )


# --- a follow-up visit ------------------------------------------------------------------------


def _from_step(phases: tuple[Phase, ...], progress: Progress, log: _Log) -> tuple[Phase, ...]:
    """The program from the step chosen today: earlier steps kept and marked done; the chosen
    step starts at week 0 (today) and the later steps follow it."""
    start = progress.to_step
    offset = phases[start - 1].weeks[0]
    moved = []
    for phase in phases:
        if phase.number < start:
            moved.append(phase.model_copy(update={"done": True}))
            continue
        first, last = phase.weeks
        moved.append(phase.model_copy(update={"weeks": (first - offset, last - offset)}))
    if progress.decision == "maintain":
        moved[-1] = _maintain(moved[-1], log)
    else:
        _say_restart(progress, moved[start - 1], log)
    return tuple(moved)


def _say_restart(progress: Progress, phase: Phase, log: _Log) -> None:
    step = progress.to_step
    if progress.decision == "advance":
        done = ", ".join(f"step {n}" for n in range(1, step))
        log.say("prog-advance", rule=rules.PROG_ADVANCE, step=step, done=done)
    elif progress.decision == "hold":
        weeks = phase.weeks[1] - phase.weeks[0]
        log.say("prog-hold", rule=rules.PROG_HOLD, step=step, weeks=weeks)
    else:
        log.say("prog-regress", rule=rules.PROG_REGRESS, step=step)


def _maintain(phase: Phase, log: _Log) -> Phase:
    """PROG-MAINTAIN: step 3's exercises two or three days a week, and the aerobic line at the
    weekly goal."""
    keep = rules.MAINTAIN
    items = tuple(
        item.model_copy(
            update={"days_per_week": min(max(item.days_per_week, keep.least_days), keep.most_days)}
        )
        for item in phase.exercises
    )
    line = phase.aerobic
    build = rules.AEROBIC_BUILD
    minutes = build.round_to * math.ceil(keep.weekly_minutes / line.days_per_week / build.round_to)
    line = line.model_copy(update={"minutes": minutes})
    log.say(
        "prog-maintain",
        rule=keep.id,
        least=keep.least_days,
        most=keep.most_days,
        ex=line.id,
        minutes=minutes,
        days=line.days_per_week,
        weekly=keep.weekly_minutes,
    )
    return phase.model_copy(
        update={
            "name": keep.name,
            "goal": keep.goal,
            "progress_when": keep.progress_when,
            "exercises": items,
            "aerobic": line,
            "minutes_per_day": _minutes_per_day(items) + minutes,
        }
    )


# --- the clinician's choices ------------------------------------------------------------------


def _check_excludes(setting: _Setting) -> None:
    problems = [
        _say("unknown", where=f"{setting.source}: plan.exclude[{i}]", ex=ex_id)
        for i, ex_id in enumerate(setting.profile.plan.exclude)
        if ex_id not in setting.library
    ]
    if problems:
        raise InputError(problems)


def _includes(setting: _Setting, log: _Log) -> dict[int, list[Exercise]]:
    """Clinician includes, placed in every suitable phase no safety rule forbids."""
    placed: dict[int, list[Exercise]] = {}
    problems = []
    for index, ex_id in enumerate(setting.profile.plan.include):
        where = f"{setting.source}: plan.include[{index}]"
        problem = _place(setting, where, ex_id, placed, log)
        if problem:
            problems.append(problem)
    if problems:
        raise InputError(problems)
    return placed


def _place(
    setting: _Setting, where: str, ex_id: str, placed: dict[int, list[Exercise]], log: _Log
) -> str | None:
    """Place one include; what is wrong with it, if anything."""
    if ex_id not in setting.library:
        return _say("unknown", where=where, ex=ex_id)
    exercise = setting.library[ex_id]
    allowed = [p for p in exercise.phases if not setting.blocking(exercise, p)]
    if not allowed:
        blocked = {
            rule.id: rule.reason for p in exercise.phases for rule in setting.blocking(exercise, p)
        }
        why = "; ".join(f"rule {rid}: {reason}" for rid, reason in sorted(blocked.items()))
        return _say("include-forbidden", where=where, ex=ex_id, why=why)
    for phase in allowed:
        placed.setdefault(phase, []).append(exercise)
    phases = ", ".join(str(p) for p in allowed)
    log.say("include-added", rule=rules.PLAN_INCLUDE, ex=ex_id, phases=phases)
    for phase in exercise.phases:
        if phase not in allowed:
            ids = ", ".join(rule.id for rule in setting.blocking(exercise, phase))
            log.say("include-kept-out", rule=rules.PLAN_INCLUDE, ex=ex_id, phase=phase, ids=ids)
    return None


# --- selecting a phase --------------------------------------------------------------------------


def _phase_picks(
    setting: _Setting,
    phase: int,
    included: list[Exercise],
    before: tuple[Exercise, ...],
    log: _Log,
) -> list[_Pick]:
    """Select, fill, and add the whys that depend on the whole phase."""
    selection = _select(setting, phase, included, before)
    _fill(setting, selection)
    _together(selection)
    log.extend(selection.log)
    return selection.picks


def _select(
    setting: _Setting, phase: int, included: list[Exercise], before: tuple[Exercise, ...]
) -> _Selection:
    """Meet the phase's needs the first way of rules.ROOM that stays within its limit: first
    giving each weak muscle work aimed at it (its main target); only when that overfills the
    phase, letting one exercise meet several needs; then letting some needs wait for room."""
    room = rules.ROOM
    for attempt in room.attempts:
        selection = _attempt(setting, phase, included, before, attempt)
        if len(selection.picks) <= room.most:
            if attempt.says:
                selection.log.say(
                    "attempt", rule=room.id, phase=phase, says=attempt.says, most=room.most
                )
            return selection
    _too_many(setting, selection, included)


def _too_many(setting: _Setting, selection: _Selection, included: list[Exercise]) -> NoReturn:
    ids = ", ".join(p.exercise.id for p in selection.picks)
    count, most = len(selection.picks), rules.ROOM.most
    message = _say("too-many", phase=selection.phase, count=count, ids=ids, most=most)
    if included:
        raise InputError(_say("too-many-included", source=setting.source, message=message))
    raise LibraryError(_say("too-many-library", message=message))


def _attempt(
    setting: _Setting,
    phase: int,
    included: list[Exercise],
    before: tuple[Exercise, ...],
    attempt: rules.Attempt,
) -> _Selection:
    """One try at a phase: required rules, then those that may be withheld, then prefers.
    In a crowded attempt, rules that may be withheld are met only while there is room."""
    picks = [
        _Pick(ex, [rules.PLAN_INCLUDE], [rules.INCLUDE_WHY])
        for ex in included
        if ex.category is not Category.AEROBIC
    ]
    selection = _Selection(phase, attempt, before, picks)
    order = {"required": 0, "withhold": 1 if attempt.crowded else 0, "prefer": 2}
    needs = sorted((n for n in setting.needs if phase in n.phases), key=lambda n: order[n.kind])
    hard = [n for n in needs if n.kind != "prefer"]  # sorted is stable: the table's order
    for need in needs:
        if _no_room(selection, need):
            continue
        open_needs = [
            n for n in hard if n is not need and not _met_by(n, selection.picks, attempt.focused)
        ]
        _meet(setting, selection, need, open_needs)
    return selection


def _no_room(selection: _Selection, need: Need) -> bool:
    """An optional need (a prefer, or one that may be withheld in a crowded attempt) waits
    when the phase is full and nothing chosen meets it; the trace (and notes) say so."""
    optional = need.kind == "prefer" or (selection.attempt.crowded and need.kind == "withhold")
    most = rules.ROOM.most
    if not optional or len(selection.picks) < most:
        return False
    if _met_by(need, selection.picks, selection.attempt.focused):
        return False
    phase = selection.phase
    selection.log.say("no-room", rule=need.id, phase=phase)
    if need.kind == "withhold":
        wanted, when = need.match.describe(), need.when.text
        selection.log.note(
            "note-no-room", rule=need.id, wanted=wanted, phase=phase, when=when, most=most
        )
    return True


def _meets(need: Need, exercise: Exercise, focused: bool) -> bool:
    """Whether an exercise meets a need; when focused, a need for a muscle is met only by work
    whose main (first-listed) target is that muscle."""
    if not need.match(exercise):
        return False
    targets = need.match.targets
    return not (focused and targets) or exercise.targets[0] in targets


def _met_by(need: Need, picks: list[_Pick], focused: bool) -> _Pick | None:
    return next((p for p in picks if _meets(need, p.exercise, focused)), None)


def _meet(setting: _Setting, selection: _Selection, need: Need, open_needs: list[Need]) -> None:
    """Meet one need: by work already chosen, by a new choice, by a second of a chain (a
    required need only), by its fallback; or say why it is left unmet."""
    done = _met_by(need, selection.picks, selection.attempt.focused)
    if done:
        _credit(selection, done, need, "met")
        return
    candidates = _matching(setting, selection, need)
    if not candidates:
        done = next((p for p in selection.picks if need.match(p.exercise)), None)
        if done:  # rather than a second of a chain: chosen work that includes the muscle
            _credit(selection, done, need, "met-too")
            return
        if need.kind == "required":
            candidates = _clashing(setting, selection, need)
    if candidates:
        _choose(setting, selection, need, candidates, open_needs, substitute=False)
    elif need.fallback is None:
        _unmet(setting, selection, need, need.kind)
    else:
        stand_ins = _candidates(setting, need.fallback, selection.phase, selection.chosen)
        if stand_ins:
            _choose(setting, selection, need, stand_ins, open_needs, substitute=True)
        else:
            # a need that has a stand-in is withheld, not an error, when the stand-in is
            # forbidden too (a release needs a ball or a roller the patient may not have)
            _unmet(setting, selection, need, "withhold")


def _credit(selection: _Selection, pick: _Pick, need: Need, how: str) -> None:
    pick.rules.append(need.id)
    pick.whys.append(need.why)
    selection.log.say(how, rule=need.id, phase=selection.phase, ex=pick.exercise.id)


def _matching(setting: _Setting, selection: _Selection, need: Need) -> list[Exercise]:
    """The options for a need: those aimed at its muscle first, else any that include it."""
    options = _candidates(setting, need.match, selection.phase, selection.chosen)
    aimed = [ex for ex in options if _meets(need, ex, selection.attempt.focused)]
    return aimed or options


def _choose(
    setting: _Setting,
    selection: _Selection,
    need: Need,
    candidates: list[Exercise],
    open_needs: list[Need],
    *,
    substitute: bool,
) -> None:
    exercise = _best(setting, selection, candidates, need.match, need, open_needs)
    why = need.fallback_why if substitute and need.fallback_why else need.why
    selection.picks.append(_Pick(exercise, [need.id], [why]))
    phase = selection.phase
    if not substitute:
        selection.log.say("chose", rule=need.id, phase=phase, ex=exercise.id)
        return
    selection.log.say(
        "substituted",
        rule=need.id,
        phase=phase,
        wanted=need.match.describe(),
        blockers=_blockers(setting, need.match, phase),
        ex=exercise.id,
        fallback=need.fallback.describe(),
    )


def _unmet(setting: _Setting, selection: _Selection, need: Need, kind: str) -> None:
    phase = selection.phase
    blockers = _blockers(setting, need.match, phase)
    if need.fallback is not None and kind == "withhold":
        also = _blockers(setting, need.fallback, phase)
        blockers = ", ".join(sorted({*blockers.split(", "), *also.split(", ")} - {""}))
    if kind == "required":
        _check_exclusion_leaves_one(setting, need, phase)
        if not blockers:
            raise LibraryError(
                _say(
                    "need-impossible",
                    rule=need.id,
                    when=need.when.text,
                    wanted=need.match.describe(),
                    phase=phase,
                )
            )
        # two rules meet: the one that forbids outranks the one that asks (safety first);
        # the need is withheld, and the clinician record says what forbade it
        kind = "withhold"
    verb = "withheld" if kind == "withhold" else "not added"
    reason = (
        _say("forbidden", blockers=blockers)
        if blockers
        else _no_option_reason(setting, need, phase)
    )
    selection.log.say("unmet", rule=need.id, phase=phase, verb=verb, reason=reason)
    if kind == "withhold":
        wanted, when = need.match.describe(), need.when.text
        selection.log.note(
            "note-withheld", rule=need.id, wanted=wanted, phase=phase, when=when, reason=reason
        )


def _check_exclusion_leaves_one(setting: _Setting, need: Need, phase: int) -> None:
    """A required need left without options by the clinician's own exclusions is theirs to fix."""
    excluded = [
        ex.id
        for ex in setting.library
        if need.match(ex)
        and phase in ex.phases
        and [r.id for r in setting.blocking(ex, phase)] == [rules.PLAN_EXCLUDE]
    ]
    if excluded:
        raise InputError(
            _say(
                "excluded-need",
                source=setting.source,
                ids=", ".join(excluded),
                rule=need.id,
                when=need.when.text,
                phase=phase,
            )
        )


def _no_option_reason(setting: _Setting, need: Need, phase: int) -> str:
    if any(need.match(ex) and setting.usable(ex, phase) for ex in setting.library):
        return _say("chain", rule=rules.ONE_PER_CHAIN)
    return _say("none-suitable")


def _candidates(
    setting: _Setting, wanted: Match, phase: int, chosen: list[Exercise]
) -> list[Exercise]:
    """Usable exercises that match, and are neither chosen nor a second exercise of a chosen
    one's progression chain, nor another version of it (rule ONE-PER-CHAIN)."""
    return [
        ex
        for ex in setting.library
        if wanted(ex)
        and ex.category is not Category.AEROBIC
        and not any(_same_work(setting.chains, ex, other) for other in chosen)
        and setting.usable(ex, phase)
    ]


def _clashing(setting: _Setting, selection: _Selection, need: Need) -> list[Exercise]:
    """A required rule outranks ONE-PER-CHAIN: when only a second exercise of a chosen one's
    chain (or another version of it) meets the rule, it is taken, and the trace says so.
    Only a clinician's include can bring this about in the shipped library."""
    chosen, phase = selection.chosen, selection.phase
    options = [
        ex
        for ex in setting.library
        if need.match(ex)
        and ex.category is not Category.AEROBIC
        and ex not in chosen
        and setting.usable(ex, phase)
    ]
    if options:
        ids = ", ".join(ex.id for ex in chosen)
        selection.log.say("clashing", rule=rules.ONE_PER_CHAIN, phase=phase, ids=ids, need=need.id)
    return options


def _same_work(chains: dict[str, set[str]], one: Exercise, other: Exercise) -> bool:
    """The same exercise, one of its progression chain, or another version of it (the same
    category for the same muscles: lying and seated bracing)."""
    if one.id == other.id or other.id in chains[one.id] or one.id in chains[other.id]:
        return True
    return one.category is other.category and set(one.targets) == set(other.targets)


def _blockers(setting: _Setting, wanted: Match, phase: int) -> str:
    ids = {
        rule.id
        for ex in setting.library
        if wanted(ex) and phase in ex.phases
        for rule in setting.blocking(ex, phase)
    }
    return ", ".join(sorted(ids))


# --- ranking the options ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rank:
    """Rank: meets more open needs; the strong preferences of rules.PREFER; continues last
    phase's work (its progression, then the same exercise); nearest the phase's level (the
    gentlest for weak muscles in phase 1); the other preferences; then by id, so the choice is
    stable."""

    setting: _Setting
    phase: int
    focused: bool
    gentlest: bool
    others: tuple[Need, ...]
    progressions: frozenset[str | None]
    same: frozenset[str]

    def __call__(self, ex: Exercise, skip: rules.Prefer | None = None) -> tuple:
        covers = sum(1 for other in self.others if _meets(other, ex, self.focused))
        continuity = 0 if ex.id in self.progressions else 1 if ex.id in self.same else 2
        level = ex.level if self.gentlest else abs(ex.level - rules.TARGET_LEVEL[self.phase])
        prefers = [p for p in self.setting.prefers if p is not skip]
        profile = self.setting.profile
        strong = tuple(p.key(ex, profile) for p in prefers if p.strong)
        ties = tuple(p.key(ex, profile) for p in prefers if not p.strong)
        return (-covers, *strong, continuity, level, *ties, ex.id)


def _best(
    setting: _Setting,
    selection: _Selection,
    candidates: list[Exercise],
    wanted: Match,
    need: Need | None,
    others: list[Need],
) -> Exercise:
    """The best option; a preference that changed the choice says so in the trace."""
    phase = selection.phase
    before = [ex for ex in selection.before if wanted(ex)]
    rank = _Rank(
        setting,
        phase,
        selection.attempt.focused,
        need is not None and phase in need.gentlest_in,
        tuple(others),
        frozenset(ex.progression for ex in before),
        frozenset(ex.id for ex in before),
    )
    best = min(candidates, key=rank)
    for prefer in setting.prefers:
        if not prefer.says:
            continue
        plain = min(candidates, key=lambda ex, p=prefer: rank(ex, p))
        if plain.id != best.id:
            selection.log.say(
                "preferred",
                rule=prefer.id,
                phase=phase,
                ex=best.id,
                other=plain.id,
                says=prefer.says,
            )
    return best


# --- filling and finishing a phase ----------------------------------------------------------------


def _fill(setting: _Setting, selection: _Selection) -> None:
    """Bring a short phase up to rules.FILL.to: first the kinds of work the phase lacks, then
    work that adds a category or main muscle the phase has none of, then more of the same."""
    fill = rules.FILL
    for mode in ("lacking", "fresh", "any"):
        for wanted in fill.order[selection.phase]:
            if len(selection.picks) >= fill.to:
                return
            if mode == "lacking" and any(_aimed(wanted, p.exercise) for p in selection.picks):
                continue
            options = _fill_options(setting, selection, wanted, mode)
            if options:
                exercise = _best(setting, selection, options, wanted, None, [])
                selection.picks.append(_Pick(exercise, [fill.id], [rules.EXERCISE_WHY]))
                selection.log.say(
                    "fill",
                    rule=fill.id,
                    phase=selection.phase,
                    ex=exercise.id,
                    wanted=wanted.describe(),
                    to=fill.to,
                )
    if len(selection.picks) < rules.ROOM.least:
        raise LibraryError(_say("too-few", phase=selection.phase, least=rules.ROOM.least))


def _fill_options(
    setting: _Setting, selection: _Selection, wanted: Match, mode: str
) -> list[Exercise]:
    candidates = _candidates(setting, wanted, selection.phase, selection.chosen)
    fresh = [ex for ex in candidates if _adds(ex, selection.picks)]
    if mode == "fresh":
        return fresh
    if mode == "any":
        return candidates
    return fresh or candidates


def _together(selection: _Selection) -> None:
    """Whys that depend on the rest of the phase (rules.TOGETHER): a release done before a
    stretch says so."""
    for rule in rules.TOGETHER:
        if not any(rule.with_(p.exercise) for p in selection.picks):
            continue
        for pick in selection.picks:
            if rule.item(pick.exercise):
                pick.whys.append(rule.why)
                selection.log.say(
                    "together",
                    rule=rule.id,
                    phase=selection.phase,
                    ex=pick.exercise.id,
                    says=rule.says,
                )


# --- dosing -------------------------------------------------------------------------------------


def _dose(setting: _Setting, exercise: Exercise, phase: int, log: _Log) -> Dose:
    """The exercise's dose for the patient's irritability, or for the column a DOSES rule
    names, capped by the DOSES rules that apply in this phase."""
    here = [rule for rule in setting.doses if phase in rule.phases]
    column = next(
        (rule.column for rule in here if rule.column is not None),
        setting.profile.assessment.irritability,
    )
    dose = exercise.dosing.for_irritability(column)
    for rule in here:
        dose = _cap(rule, exercise, dose, phase, log)
    return dose


def _cap(rule: rules.DoseRule, exercise: Exercise, dose: Dose, phase: int, log: _Log) -> Dose:
    changes = {}
    if rule.max_sets is not None and dose.sets > rule.max_sets:
        changes["sets"] = rule.max_sets
    if rule.max_hold_s is not None and dose.hold_s and dose.hold_s > rule.max_hold_s:
        changes["hold_s"] = rule.max_hold_s
    if not changes:
        return dose
    log.say(
        "dose-cap",
        rule=rule.id,
        phase=phase,
        ex=exercise.id,
        before=", ".join(f"{k} {getattr(dose, k)}" for k in changes),
        after=", ".join(f"{k} {v}" for k, v in changes.items()),
        because=rule.because,
    )
    return dose.model_copy(update=changes)


def _side(profile: Profile, exercise: Exercise) -> str | None:
    if exercise.laterality is Laterality.PAINFUL_SIDE:
        return profile.assessment.side.value
    if exercise.laterality is Laterality.EACH_SIDE:
        return Side.BOTH.value
    return None


def _prescribe(setting: _Setting, pick: _Pick, phase: int, log: _Log) -> Prescription:
    exercise = pick.exercise
    dose = _dose(setting, exercise, phase, log)
    return Prescription(
        id=exercise.id,
        name=exercise.name,
        category=exercise.category.value,
        sets=dose.sets,
        reps=dose.reps,
        hold_s=dose.hold_s,
        times_per_day=dose.times_per_day,
        days_per_week=dose.days_per_week,
        side=_side(setting.profile, exercise),
        why=tuple(dict.fromkeys(pick.whys)),
        rules=tuple(pick.rules),
        exercise=exercise,
    )


# --- aerobic --------------------------------------------------------------------------------------


def _aerobic_choice(setting: _Setting, includes: dict[int, list[Exercise]], log: _Log) -> Exercise:
    """The clinician's aerobic include, or the first option usable in every phase: walking
    before cycling unless an AEROBIC_PREFER rule turns the choice away from it."""
    chosen = [ex for items in includes.values() for ex in items if ex.category is Category.AEROBIC]
    if chosen:
        return chosen[0]
    every = [shape.number for shape in rules.PHASES]
    options = [
        ex
        for ex in setting.library
        if ex.category is Category.AEROBIC and all(setting.usable(ex, p) for p in every)
    ]
    if not options:
        _no_aerobic(setting, every)
    prefers = [rule for rule in rules.AEROBIC_PREFER if rule.when(setting.profile)]

    def rank(ex: Exercise) -> tuple:
        avoided = tuple(rule.avoid in ex.tags for rule in prefers)
        return (*avoided, rules.AEROBIC_FIRST not in ex.tags, ex.level, ex.id)

    best = min(options, key=rank)
    for rule in prefers:
        if rule.avoid not in best.tags:
            log.say("aerobic-preferred", rule=rule.id, ex=best.id, because=rule.preferred_because)
        else:
            log.say(
                "aerobic-otherwise",
                rule=rule.id,
                ex=best.id,
                otherwise=rule.otherwise,
                carries=rule.carries,
            )
    log.say("aerobic-every", rule=rules.AEROBIC_EVERY_PHASE, ex=best.id)
    return best


def _no_aerobic(setting: _Setting, every: list[int]) -> NoReturn:
    excluded = [
        ex.id
        for ex in setting.library
        if ex.category is Category.AEROBIC
        and all(
            [r.id for r in setting.blocking(ex, p)] in ([], [rules.PLAN_EXCLUDE]) for p in every
        )
        and any(setting.blocking(ex, p) for p in every)
    ]
    if excluded:  # the clinician's own exclusions took away every option
        raise InputError(
            _say(
                "excluded-aerobic",
                source=setting.source,
                ids=", ".join(excluded),
                rule=rules.AEROBIC_EVERY_PHASE,
            )
        )
    raise LibraryError(_say("no-aerobic", rule=rules.AEROBIC_EVERY_PHASE))


def _aerobic_why(profile: Profile, exercise: Exercise) -> tuple[str, ...]:
    why = [rules.AEROBIC_WHY]
    for rule in rules.AEROBIC_PREFER:
        if rule.when(profile) and rule.avoid in exercise.tags:
            why.append(rule.carries)
    return tuple(why)


def _aerobic_line(
    setting: _Setting, exercise: Exercise, phase: int, previous: int, log: _Log
) -> tuple[Prescription, int]:
    """Rule AEROBIC-BUILD: the weekly total of the phase, never fewer minutes than before."""
    build = rules.AEROBIC_BUILD
    dose = exercise.dosing.for_irritability(setting.profile.assessment.irritability)
    minutes = dose.minutes or build.default_minutes
    days = dose.days_per_week
    if phase in build.weekly_minutes:
        weekly = build.weekly_minutes[phase]
        minutes = max(previous, build.round_to * math.ceil(weekly / days / build.round_to))
        log.say(
            "aerobic-build",
            rule=build.id,
            phase=phase,
            ex=exercise.id,
            minutes=minutes,
            days=days,
            goal=build.goal,
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
        why=_aerobic_why(setting.profile, exercise),
        rules=(rules.AEROBIC_EVERY_PHASE,),
        exercise=exercise,
    )
    return line, minutes


# --- helpers --------------------------------------------------------------------------------------


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
    """rules.MINUTES_PER_DAY: each rep (or hold), the rests between sets, getting ready."""
    rule = rules.MINUTES_PER_DAY
    seconds = 0
    for item in prescriptions:
        per_rep = item.hold_s or rule.seconds_per_rep
        sides = 2 if item.side == "both" else 1
        sets = item.sets or 1
        session = (
            sets * (item.reps or 1) * per_rep
            + (sets - 1) * rule.rest_between_sets_s
            + rule.per_exercise_s
        )
        seconds += session * sides * item.times_per_day
    return max(rule.least, rule.round_to * math.ceil(seconds / 60 / rule.round_to))
