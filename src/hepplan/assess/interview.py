"""Profiles without hand-written YAML: the interview of ``hepplan assess``.

The interview asks for every field of CONTRACT.md §1 in order. Each answer is checked at once
by the profile model's own validators, so the clinician sees hepplan's usual one-line message and
is asked again; nothing is written until every question is answered and the whole profile has
passed ``parse_profile``. All input and output goes through a small ``Console``, so the same
interview runs in a terminal, from a pipe, or from a test.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
import shlex
import sys
from collections.abc import Callable, Collection, Iterable
from enum import Enum
from pathlib import Path
from typing import Any, Protocol, TypeVar

import click
import yaml
from pydantic import BaseModel, ValidationError

from hepplan.domain import redflags
from hepplan.domain.profile import (
    KNOWN_FORMATS,
    Assessment,
    Clearance,
    FollowUp,
    GluteStrength,
    OutcomeVisit,
    Patient,
    PlanChoices,
    Profile,
    parse_profile,
)
from hepplan.domain.progress import decide_progress
from hepplan.domain.redflags import Level
from hepplan.domain.screening import Screening, screen
from hepplan.domain.vocab import (
    Answer,
    Condition,
    DirectionalPreference,
    Equipment,
    Irritability,
    NextMorning,
    Piriformis,
    RadicularLevel,
    Side,
)
from hepplan.errors import InputError
from hepplan.io import clock
from hepplan.io.library import load_library
from hepplan.io.loading import StrictLoader, decode_document
from hepplan.io.output import check_output_path, write_atomic
from hepplan.io.profiles import load_profile
from hepplan.words.text import what_to_do

T = TypeVar("T")

EOF_MESSAGE = "input ended before every question was answered; nothing was written"

#: The red flags a doctor may clear (CLINICAL.md §1): never an emergency-level sign.


class Console(Protocol):
    """Where the interview's questions go and its answers come from."""

    def ask(self, prompt: str) -> str:
        """Show ``prompt`` and return the line typed, without its line break.

        Raises ``EOFError`` when the input has ended.
        """

    def say(self, text: str) -> None:
        """Show one line of the dialogue."""

    def warn(self, text: str) -> None:
        """Say why an answer was not taken (it is asked again)."""


class TerminalConsole:
    """Prompts on stdout, answers from stdin, complaints on stderr.

    Reads stdin line by line itself rather than through ``click.prompt``, which turns both the
    end of input and Ctrl-C into the same ``Abort``; here they must differ (exit 2 and 130).
    When the answers come from a pipe, each is echoed after its prompt so the transcript on
    stdout reads like the terminal session it replaces.
    """

    def ask(self, prompt: str) -> str:
        click.echo(prompt, nl=False)
        try:
            line = sys.stdin.readline()
        except KeyboardInterrupt:
            click.echo()  # the "interrupted" message then starts on a line of its own
            raise
        except UnicodeDecodeError:
            raise InputError(
                "an answer could not be read as text (UTF-8); nothing was written"
            ) from None
        if not line:
            click.echo()
            raise EOFError
        answer = line.rstrip("\r\n")
        if any("\ud800" <= ch <= "\udfff" for ch in answer):
            # stdin decoded with surrogateescape (a POSIX locale): the bytes were not UTF-8
            raise InputError("an answer could not be read as text (UTF-8); nothing was written")
        if not sys.stdin.isatty():
            click.echo(answer)
        return answer

    def say(self, text: str) -> None:
        click.echo(text)

    def warn(self, text: str) -> None:
        click.echo(text, err=True)


# --- checking one answer with the profile model ----------------------------------------------


#: Answers that identify the patient or hold free text: a message about one never repeats it,
#: as hepplan's file errors do not (stderr ends up in logs and tickets).
PRIVATE_FIELDS = {
    (Patient, "name"),
    (Patient, "email"),
    (Clearance, "note"),
    (PlanChoices, "notes"),
}


def model_problem(model: type[BaseModel], field: str, value: Any) -> str | None:
    """The model's own message for ``value`` as ``field`` of ``model``, or None if it is valid.

    The other fields of the model are left out and their "missing" errors ignored, so one
    answer is checked exactly as ``load_profile`` would check it, with the same words.
    """
    try:
        model.model_validate({field: value})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if tuple(error["loc"])[:1] == (field,):
                message = str(error["msg"]).removeprefix("Value error, ")
                if (model, field) in PRIVATE_FIELDS and isinstance(value, str) and value:
                    message = message.replace(repr(value), "the answer").replace(value, "…")
                if message.startswith(("is ", "must ")):  # in a file, the key path is the subject
                    message = f"the answer {message}"
                return message
    return None


def _checked(model: type[BaseModel], field: str, value: Any) -> Any:
    problem = model_problem(model, field, value)
    if problem is not None:
        raise ValueError(problem)
    return value


def _number(text: str) -> Any:
    """``"3"`` → 3 and ``"3.5"`` → 3.5; anything else stays text, for the model to refuse."""
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)", text):
        return float(text)
    return text


def _shown_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- the interview ---------------------------------------------------------------------------


class Interview:
    """The questions of ``hepplan assess``, in the order of CONTRACT.md §1.

    ``previous`` (a follow-up visit) gives every answer a default that Enter keeps, except the
    assessment date (today), the red flags and the medical clearances, which are asked afresh
    each visit: a red flag carried over unasked, or a clearance given for an earlier episode,
    is exactly the mistake screening exists to prevent.
    """

    def __init__(
        self,
        console: Console,
        *,
        today: dt.date,
        previous: Profile | None = None,
        exercise_ids: Collection[str] = (),
    ):
        self.console = console
        self.today = today
        self.previous = previous
        self.exercise_ids = sorted(exercise_ids)

    # the question kinds

    def ask(
        self,
        label: str,
        parse: Callable[[str], T],
        *,
        default: str | None = None,
        optional: bool = False,
        on_help: Callable[[], None] | None = None,
    ) -> T | None:
        """Ask until ``parse`` takes the answer. Enter keeps ``default``; for an optional
        question, Enter without a default, or ``-``, means none."""
        prompt = f"{label} [{default}]: " if default is not None else f"{label}: "
        while True:
            raw = self.console.ask(prompt).strip()
            if raw == "?" and on_help is not None:
                on_help()
                continue
            if optional and (raw == "-" or (raw == "" and default is None)):
                return None
            if raw == "":
                if default is None:
                    self.console.warn("an answer is needed here")
                    continue
                raw = default
            try:
                return parse(raw)
            except ValueError as exc:
                self.console.warn(str(exc))

    def choose(self, label: str, words: Iterable[str], *, default: str | None = None) -> str:
        """A numbered menu of words: the number or the word (any letter case) picks one."""
        words = list(words)
        menu = ", ".join(f"{number} {word}" for number, word in enumerate(words, 1))
        return self.ask(f"{label} ({menu})", lambda raw: _pick(raw, words), default=default)

    def choose_many(
        self, heading: str, words: Iterable[str], *, default: Iterable[str] = ()
    ) -> tuple[str, ...]:
        """A numbered list; any number of its words, by number or word, comma-separated."""
        words = list(words)
        items = [f"{number} {word}" for number, word in enumerate(words, 1)]
        for line in _wrapped(f"{heading}:", items):
            self.console.say(line)

        def parse(raw: str) -> tuple[str, ...]:
            picked = {_pick(part, words) for part in _parts(raw)}
            return tuple(word for word in words if word in picked)

        shown = ", ".join(default) or None
        label = "  Choose any, comma-separated" + (" (Enter for none)" if shown is None else "")
        return self.ask(label, parse, default=shown, optional=True) or ()

    def text(
        self,
        label: str,
        model: type[BaseModel],
        field: str,
        *,
        default: str | None = None,
        optional: bool = False,
    ) -> str | None:
        return self.ask(
            label, lambda raw: _checked(model, field, raw), default=default, optional=optional
        )

    def date(
        self,
        label: str,
        model: type[BaseModel],
        *,
        default: dt.date | None,
        latest: dt.date,
        why_latest: Callable[[dt.date], str],
    ) -> dt.date:
        def parse(raw: str) -> dt.date:
            day = dt.date.fromisoformat(_checked(model, "date", raw))
            if day > latest:
                raise ValueError(why_latest(day))
            return day

        return self.ask(label, parse, default=default.isoformat() if default else None)

    # the sections

    def run(self) -> dict[str, Any]:
        """Every answer, as plain profile data in the contract's key order."""
        data: dict[str, Any] = {"format": KNOWN_FORMATS[-1]}
        self.console.say("Patient")
        data["patient"] = self.patient()
        self.console.say("Assessment")
        data["assessment"] = self.assessment()
        data["red_flags"] = self.red_flags()
        clearances = self.clearances(data["red_flags"], data["assessment"]["date"])
        if clearances:
            data["medical_clearance"] = clearances
        plan = self.plan()
        if plan:
            data["plan"] = plan
        if self.previous is not None:  # a follow-up visit (CONTRACT.md §5)
            assessed = data["assessment"]["date"]
            data["follow_up"] = self.follow_up(assessed)
            outcomes = self.outcomes(assessed, data["assessment"].get("pain_now"))
            if outcomes:
                data["outcomes"] = outcomes
        return data

    def patient(self) -> dict[str, Any]:
        before = self.previous.patient if self.previous else None
        answers = {
            "id": self.text("Patient id", Patient, "id", default=before and before.id),
            "name": self.text("Name", Patient, "name", default=before and before.name),
            "email": self.text(
                "E-mail (optional)",
                Patient,
                "email",
                optional=True,
                default=before and before.email,
            ),
            "age": self.ask(
                "Age in years (optional)",
                lambda raw: _checked(Patient, "age", _number(raw)),
                optional=True,
                default=_text_of(before and before.age),
            ),
        }
        return _present(answers)

    def assessment(self) -> dict[str, Any]:
        before = self.previous.assessment if self.previous else None

        def previous(name: str) -> str | None:
            value = getattr(before, name) if before else None
            return value.value if isinstance(value, Enum) else value

        answers: dict[str, Any] = {
            "date": self.date(
                "Assessment date (YYYY-MM-DD)",
                Assessment,
                default=self.today,
                latest=self.today,
                why_latest=lambda day: (
                    f"{day.isoformat()} is in the future; the assessment must have happened "
                    f"by today ({self.today.isoformat()})"
                ),
            ),
            "clinician": self.text(
                "Clinician", Assessment, "clinician", default=previous("clinician")
            ),
            "side": self.choose("Painful side", _words(Side), default=previous("side")),
            "piriformis": self.choose(
                "Piriformis", _words(Piriformis), default=previous("piriformis")
            ),
            "glute_strength": self.glute_strength(before),
        }
        answers["radicular_level"] = self.choose(
            "Radicular level", _words(RadicularLevel), default=previous("radicular_level")
        )
        answers["radicular_side"] = self.radicular_side(answers, previous("radicular_side"))
        answers["irritability"] = self.choose(
            "Irritability", _words(Irritability), default=previous("irritability")
        )
        answers.update(self.symptoms_and_home(before, previous))
        return _present(answers)

    def glute_strength(self, before) -> dict[str, Any]:
        grades = {}
        for muscle in ("medius", "maximus"):
            before_grade = getattr(before.glute_strength, muscle) if before else None
            grades[muscle] = self.ask(
                f"Gluteus {muscle} grade, 0-5 (optional)",
                lambda raw, muscle=muscle: _checked(GluteStrength, muscle, _number(raw)),
                optional=True,
                default=_text_of(before_grade),
            )
        return _present(grades)

    def symptoms_and_home(self, before, previous) -> dict[str, Any]:
        """Pain now, directional preference, conditions and equipment at home."""
        return {
            "pain_now": self.ask(
                "Pain now, 0-10 (optional)",
                lambda raw: _checked(Assessment, "pain_now", _number(raw)),
                optional=True,
                default=_text_of(before and before.pain_now),
            ),
            "directional_preference": self.choose(
                "Directional preference",
                _words(DirectionalPreference),
                default=previous("directional_preference") or DirectionalPreference.NONE.value,
            ),
            "conditions": list(
                self.choose_many(
                    "Conditions",
                    _words(Condition),
                    default=[c.value for c in before.conditions] if before else (),
                )
            ),
            "equipment": list(
                self.choose_many(
                    "Equipment (a chair, a wall and floor space are assumed)",
                    _words(Equipment),
                    default=[e.value for e in before.equipment] if before else (),
                )
            ),
        }

    def radicular_side(self, answers: dict[str, Any], before: str | None) -> str | None:
        """Which legs have the nerve signs: asked only when the painful side is both and a
        level was found (CLINICAL.md §1 rule 5); otherwise it is the painful side."""
        if answers["side"] != Side.BOTH.value or answers["radicular_level"] == "none":
            return None
        return self.choose(
            "Leg(s) with the nerve root signs; both legs means emergency care",
            _words(Side),
            default=before,
        )

    def red_flags(self) -> dict[str, str]:
        self.console.say(
            f"Red flags: ask all {len(redflags.RED_FLAGS)} questions; none can be skipped, "
            "and unsure counts as yes."
        )
        answers = {}
        for number, flag in enumerate(redflags.RED_FLAGS, 1):
            self.console.say(f"[{number}/{len(redflags.RED_FLAGS)}] {flag.question}?")
            answers[flag.key] = self.choose("  Answer", _words(Answer))
        return answers

    def clearances(self, answers: dict[str, str], assessed: dt.date) -> list[dict[str, Any]]:
        """Ask about a doctor's clearance for each clearable flag answered yes or unsure."""
        positive = [key for key in redflags.CLEARABLE if answers[key] != Answer.NO.value]
        if not positive:
            return []
        self.console.say("Medical clearance at this visit: a flag a doctor has cleared is not")
        self.console.say("counted, except a cancer history with nerve signs. Enter if none.")
        entries = []
        for key in positive:  # asked afresh: an earlier visit's clearance is never carried over
            flag = redflags.BY_KEY[key]
            self.console.say(
                f"{key} ({flag.level.word}) was answered {answers[key]}: {flag.question}."
            )
            cleared_by = self.text(
                "  Cleared by (optional)", Clearance, "cleared_by", optional=True
            )
            if cleared_by is None:
                continue
            entry = {"flag": key, "cleared_by": cleared_by}
            entry["date"] = self.date(
                "  Date cleared (YYYY-MM-DD)",
                Clearance,
                default=None,
                latest=assessed,
                why_latest=lambda day: (
                    f"{day.isoformat()} is after the assessment ({assessed.isoformat()}); "
                    "a clearance must come before it"
                ),
            )
            entry["note"] = self.text("  Note (optional)", Clearance, "note", optional=True)
            entries.append(_present(entry))
        return entries

    def plan(self) -> dict[str, Any]:
        before = self.previous.plan if self.previous else None
        self.console.say("Plan (optional): exercise ids from the library; ? lists them.")
        include = (
            self.ask(
                "Exercises to include (optional)",
                lambda raw: self._exercises(raw, ()),
                optional=True,
                on_help=self._list_exercises,
                default=", ".join(before.include) if before and before.include else None,
            )
            or ()
        )
        exclude = (
            self.ask(
                "Exercises to exclude (optional)",
                lambda raw: self._exercises(raw, include),
                optional=True,
                on_help=self._list_exercises,
                default=", ".join(before.exclude) if before and before.exclude else None,
            )
            or ()
        )
        notes = self.text(
            "Note for the handout (optional)",
            PlanChoices,
            "notes",
            optional=True,
            default=before and before.notes,
        )
        return _present({"include": list(include), "exclude": list(exclude), "notes": notes})

    def follow_up(self, assessed: dt.date) -> dict[str, Any]:
        """How the last step went. The step and the weeks since the earlier visit are offered;
        the log, the pain and the nerve signs are asked afresh."""
        self.console.say("Follow-up: how the last step went")
        previous = self.previous
        weeks = min(52, max(0, (assessed - previous.assessment.date).days // 7))

        def number(field: str) -> Callable[[str], int]:
            return lambda raw: _checked(FollowUp, field, _number(raw))

        return {
            "step_reached": self.ask(
                "Step the patient has been doing, 1-3",
                number("step_reached"),
                default=str(_step_now(previous)),
            ),
            "weeks_on_step": self.ask(
                "Whole weeks on that step, 0-52", number("weeks_on_step"), default=str(weeks)
            ),
            "days_done_percent": self.ask(
                "Share of the prescribed days done, from the log, 0-100 (%)",
                number("days_done_percent"),
            ),
            "pain_during": self.ask(
                "Worst pain during the exercises this week, 0-10", number("pain_during")
            ),
            "next_morning": self.choose(
                "Symptoms back to usual by the next morning?", _words(NextMorning)
            ),
            "new_nerve_signs": self.choose(
                "New or spreading numbness, tingling or weakness? Unsure counts as yes",
                _words(Answer),
            ),
        }

    def outcomes(self, assessed: dt.date, pain_now: int | None) -> list[dict[str, Any]]:
        """The earlier visits' measures, kept, and today's: pain now (offered from the
        assessment's), the PSFS activities by name, and the Oswestry index."""
        kept = [_outcome_document(v) for v in self.previous.outcomes if v.date < assessed]
        self.console.say(
            f"Outcome measures today ({len(kept)} earlier visits kept); Enter skips one."
        )

        def number(field: str) -> Callable[[str], int]:
            return lambda raw: _checked(OutcomeVisit, field, _number(raw))

        today = {
            "date": assessed.isoformat(),
            "nprs": self.ask(
                "Pain now, NPRS 0-10 (optional)",
                number("nprs"),
                optional=True,
                default=_text_of(pain_now),
            ),
            "psfs": self.psfs(_activities(self.previous.outcomes)),
            "odi": self.ask(
                "Oswestry Disability Index, 0-100 (optional)", number("odi"), optional=True
            ),
        }
        entry = _present(today)
        return kept + ([entry] if len(entry) > 1 else [])

    def psfs(self, earlier: list[str]) -> dict[str, int]:
        """The Patient-Specific Functional Scale: today's score for each earlier activity, by
        name, then any new ones, up to 5 in all."""
        self.console.say(
            "Patient-Specific Functional Scale: each activity 0-10 (10 = able to do it as "
            "before); Enter skips one."
        )

        def score(raw: str) -> int:
            try:
                return _checked(OutcomeVisit, "psfs", {"activity": _number(raw)})["activity"]
            except ValueError as exc:
                raise ValueError(str(exc).removeprefix("activity 1: ")) from None

        scores: dict[str, int] = {}
        for name in earlier:
            value = self.ask(f"  {name}, 0-10", score, optional=True)
            if value is not None:
                scores[name] = value
        while len(scores) < MOST_ACTIVITIES:
            name = self.ask(
                "  Another activity (optional)", lambda raw: _activity(raw, scores), optional=True
            )
            if name is None:
                break
            scores[name] = self.ask(f"  {name}, 0-10", score)
        return scores

    def _exercises(self, raw: str, included: Collection[str]) -> tuple[str, ...]:
        chosen: list[str] = []
        for part in _parts(raw):
            if part not in self.exercise_ids:
                close = difflib.get_close_matches(part, self.exercise_ids, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else "; ? lists them"
                raise ValueError(f"{part!r} is not an exercise in the library{hint}")
            if part in included:
                raise ValueError(
                    f"{part} is already included; an exercise cannot be both included and excluded"
                )
            if part not in chosen:
                chosen.append(part)
        return tuple(chosen)

    def _list_exercises(self) -> None:
        for line in _wrapped(" ", self.exercise_ids):
            self.console.say(line)


#: The Patient-Specific Functional Scale scores at most this many activities at a visit.
MOST_ACTIVITIES = 5


def _activities(visits) -> list[str]:
    """The earlier PSFS activities, by name: the latest visit's first, then older ones, at
    most ``MOST_ACTIVITIES``."""
    names: list[str] = []
    for visit in reversed(visits):
        names += [name for name in (visit.psfs or {}) if name not in names]
    return names[:MOST_ACTIVITIES]


def _activity(raw: str, scored: Collection[str]) -> str:
    """A new activity's name, in the patient's words: one line of at most 100 characters."""
    problem = model_problem(OutcomeVisit, "psfs", {raw: 0})
    if problem is not None:
        raise ValueError(problem.removeprefix("activity 1: "))
    name = raw.strip()
    if name in scored:
        raise ValueError("that activity is already scored today; name another, or Enter")
    return name


def _step_now(previous: Profile) -> int:
    """The step the earlier visit started the patient on (1 unless it was a follow-up whose
    screening allowed a program)."""
    if previous.follow_up is None:
        return 1
    if not screen(previous).prescribed:
        return previous.follow_up.step_reached
    return decide_progress(previous.follow_up, previous.outcomes, previous.assessment.date).to_step


def _wrapped(first: str, items: list[str], width: int = 78) -> list[str]:
    """``first`` and then the items, comma-separated, in lines of at most ``width`` characters;
    an item is never split, and later lines are indented two spaces."""
    lines, line = [], first
    for index, item in enumerate(items):
        piece = item + ("," if index < len(items) - 1 else "")
        if len(line) + 1 + len(piece) > width and line.strip():
            lines.append(line)
            line = " "
        line += " " + piece
    lines.append(line)
    return lines


def _words(enum: type[Enum]) -> list[str]:
    return [member.value for member in enum]


def _parts(raw: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", raw) if part]


def _pick(raw: str, words: list[str]) -> str:
    """A menu answer: its number, or the word in any letter case."""
    if raw.isdigit() and 1 <= int(raw) <= len(words):
        return words[int(raw) - 1]
    for word in words:
        if raw.lower() == word.lower():
            return word
    raise ValueError(
        f"{raw!r} is not one of the choices; type a number 1-{len(words)} or a "
        f"word: {', '.join(words)}"
    )


def _text_of(value: float | None) -> str | None:
    return None if value is None else _shown_number(value)


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """The answers that were given: no None, no empty list or section."""
    return {key: value for key, value in values.items() if value not in (None, [], (), {})}


# --- writing the profile ---------------------------------------------------------------------


class _ProfileDumper(yaml.SafeDumper):
    """Quotes a value exactly when hepplan's own loader would otherwise read it as something
    else, so ``no`` and ``2026-11-20`` are written plainly, as in the contract's example."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # "  - flag: ..." under its key, as in §1


_ProfileDumper.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in StrictLoader.yaml_implicit_resolvers.items()
}


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    """Lists of words in flow style, ``equipment: [resistance_band, step]``."""
    flow = all(isinstance(item, (str, int, float)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_ProfileDumper.add_representer(list, _represent_list)


def profile_document(profile: Profile) -> dict[str, Any]:
    """A profile as plain data in the key order of CONTRACT.md §1, dates as ISO text, enum
    words in their canonical case, and no key for anything not given."""
    patient = profile.patient
    return _present(
        {
            "format": profile.format,
            "patient": _present(
                {
                    "id": patient.id,
                    "name": patient.name,
                    "email": patient.email,
                    "age": patient.age,
                    "language": patient.language
                    if "language" in patient.model_fields_set
                    else None,
                }
            ),
            "assessment": _assessment_document(profile.assessment),
            "red_flags": {
                key: answer.value
                for key in redflags.KEYS
                if (answer := profile.red_flags.answer(key)) is not None
            },
            "medical_clearance": [_clearance_document(e) for e in profile.medical_clearance],
            "plan": _present(
                {
                    "include": list(profile.plan.include),
                    "exclude": list(profile.plan.exclude),
                    "notes": profile.plan.notes,
                    "next_visit": _iso(profile.plan.next_visit),
                }
            ),
            "follow_up": _follow_up_document(profile),
            "outcomes": [_outcome_document(visit) for visit in profile.outcomes],
        }
    )


def _assessment_document(found) -> dict[str, Any]:
    grades = {
        muscle: _number(_shown_number(grade))
        for muscle in ("medius", "maximus")
        if (grade := getattr(found.glute_strength, muscle)) is not None
    }
    return _present(
        {
            "date": found.date.isoformat(),
            "clinician": found.clinician,
            "side": found.side.value,
            "piriformis": found.piriformis.value,
            "glute_strength": grades,
            "radicular_level": found.radicular_level.value,
            "radicular_side": found.radicular_side and found.radicular_side.value,
            "irritability": found.irritability.value,
            "pain_now": found.pain_now,
            "directional_preference": found.directional_preference.value,
            "conditions": [condition.value for condition in found.conditions],
            "equipment": [item.value for item in found.equipment],
        }
    )


def _clearance_document(entry) -> dict[str, Any]:
    return _present(
        {
            "flag": entry.flag,
            "cleared_by": entry.cleared_by,
            "date": entry.date.isoformat(),
            "note": entry.note,
        }
    )


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _follow_up_document(profile: Profile) -> dict[str, Any] | None:
    if profile.follow_up is None:
        return None
    return {
        key: getattr(value, "value", value) for key, value in profile.follow_up.model_dump().items()
    }


def _outcome_document(visit) -> dict[str, Any]:
    return _present(
        {
            "date": visit.date.isoformat(),
            "nprs": visit.nprs,
            "psfs": dict(visit.psfs) if visit.psfs else None,
            "odi": visit.odi,
        }
    )


def encode_profile(profile: Profile, *, as_json: bool = False) -> bytes:
    """The profile file's bytes: JSON for a ``.json`` file (the loader reads those as JSON
    only), YAML otherwise."""
    document = profile_document(profile)
    if as_json:
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    text = yaml.dump(
        document,
        Dumper=_ProfileDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text.encode("utf-8")


# --- the command -----------------------------------------------------------------------------


def screening_lines(result: Screening) -> list[str]:
    """What the screening means, in one line (and one more for clearances)."""
    word = result.disposition.word.upper()
    keys = ", ".join(result.triggered)
    if result.refused:
        lines = [f"Screening: {word} — do not prescribe: {keys}"]
    elif result.disposition is Level.ROUTINE:
        lines = [
            (
                f"Screening: {word} — a program may be prescribed; book a routine "
                f"doctor's check: {keys}"
            )
        ]
    else:
        lines = [f"Screening: {word} — a program may be prescribed"]
    if result.cleared:
        lines.append(f"  medically cleared: {', '.join(result.cleared)}")
    return lines


def next_step(result: Screening, path: Path) -> str:
    command = f"hepplan plan {shlex.quote(str(path))}"
    if not result.refused:
        return f"Next: {command} writes the handout."
    action = what_to_do(result.disposition)
    return (
        f"Do not prescribe a program: the patient must {action}. Run {command} now; it "
        "writes the redirect document to give them."
    )


def refuse_existing(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise InputError(f"{path}: already exists; use --force to replace it")


def assess(
    output: Path,
    console: Console,
    *,
    previous_path: Path | None = None,
    force: bool = False,
    today: dt.date | None = None,
    exercise_ids: Collection[str] | None = None,
) -> Profile:
    """Interview the clinician, show the screening and write the profile to ``output``.

    Every check that could refuse the command runs before the first question, so no answers
    are typed in vain. Nothing is written unless every question was answered.
    """
    today = today or clock.today()
    check_output_path(output)
    refuse_existing(output, force)
    previous = load_profile(previous_path, today=today) if previous_path else None
    if exercise_ids is None:
        exercise_ids = load_library().exercises
    if previous_path:
        console.say(
            f"Answers from {previous_path} are shown in [brackets]: Enter keeps one, "
            "- removes an optional one. The red flags and medical clearances are asked afresh."
        )
    else:
        console.say("Enter skips an optional question. Ctrl-C stops without writing anything.")
    interview = Interview(console, today=today, previous=previous, exercise_ids=exercise_ids)
    try:
        data = interview.run()
    except EOFError:
        raise InputError(EOF_MESSAGE) from None
    profile = parse_profile(data, str(output), today=today)
    result = screen(profile)
    for line in screening_lines(result):
        console.say(line)
    as_json = output.suffix.lower() == ".json"
    raw = encode_profile(profile, as_json=as_json)
    if (
        parse_profile(
            decode_document(raw, str(output), json_only=as_json), str(output), today=today
        )
        != profile
    ):
        raise RuntimeError(f"{output}: the written profile would not read back the same")
    refuse_existing(output, force)  # created by someone else during the interview
    write_atomic(output, raw)
    console.say(f"Wrote {output}.")
    console.say(next_step(result, output))
    return profile
