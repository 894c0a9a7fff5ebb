"""The assessed profile of CONTRACT.md §1: the pydantic models and ``load_profile``."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from enum import Enum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from hepplan.domain import redflags
from hepplan.domain.redflags import Level
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
from hepplan.io.problems import validation_problems

KNOWN_FORMATS = (1,)
#: CONTRACT §1: 1-64 of A-Z a-z 0-9 . _ -, not starting with . or - (a hidden file, an option)
PATIENT_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")
_ID_CHARACTERS = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
#: An address ``email`` can send to: ASCII only (SMTP without SMTPUTF8), no spaces or brackets.
EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
LANGUAGES = ("en",)


def _canonical(enum: type[Enum]):
    """A before-validator that matches a word case-insensitively against an enum's values."""
    lookup = {member.value.lower(): member.value for member in enum}

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            return lookup.get(value.strip().lower(), value)
        return value

    return BeforeValidator(convert)


def _answer(value: Any) -> Any:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return value.strip().lower()
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not an ISO date; write it as YYYY-MM-DD, e.g. 2026-11-20")


def _text(max_length: int):
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") and ch != "\t" for ch in value):
            raise ValueError("must be one line of text (no line breaks or control characters)")
        if not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"is {len(value)} characters long; at most {max_length} are allowed")
        return value

    return BeforeValidator(check)


def _grade(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a muscle grade; allowed: 0 to 5, in steps of 0.5")
    if not 0 <= value <= 5 or (value * 2) != int(value * 2):
        raise ValueError(f"{value!r} is not a muscle grade; allowed: 0 to 5, in steps of 0.5")
    return float(value)


def _whole(low: int, high: int, what: str):
    def check(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{value!r} is not {what}; allowed: whole numbers {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"{value!r} is out of range; allowed: whole numbers {low} to {high}")
        return value

    return BeforeValidator(check)


def _word_list(value: Any) -> Any:
    if value is None:
        return []
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
RedFlagAnswer = Annotated[Answer | None, BeforeValidator(_answer)]
Grade = Annotated[float | None, BeforeValidator(lambda v: None if v is None else _grade(v))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Patient(_Model):
    """Who the program is for."""

    id: Annotated[
        str,
        Field(
            description=(
                "The patient's id: 1-64 characters of A-Z a-z 0-9 . _ -, not starting with . "
                "or -. "
                "Output files "
                "are named after it, e.g. <id>.pdf."
            )
        ),
    ]
    name: Annotated[str, _text(200)] = Field(
        description=(
            "The patient's name as printed on the handout: one line, any script, at most 200 "
            "characters."
        )
    )
    email: str | None = Field(
        None,
        description=(
            "Optional. The address `hepplan email` sends the program to, like name@example.org."
        ),
    )
    age: Annotated[int | None, _whole(0, 120, "an age in whole years")] = Field(
        None,
        description=(
            "Optional. Age in whole years, 0-120. Over 50, a single contextual red flag counts as "
            "urgent."
        ),
    )
    language: str = Field(
        "en", description=("Optional. The handout's language; default en, the only one available.")
    )

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        shown = repr(value) if isinstance(value, str) and len(value) <= 80 else "the value"
        if not isinstance(value, str) or not _ID_CHARACTERS.fullmatch(value):
            raise ValueError(f"{shown} is not a valid id; use 1-64 characters of A-Z a-z 0-9 . _ -")
        if not PATIENT_ID.fullmatch(value):
            raise ValueError(
                f"{shown} is not a valid id; it must not start with . or - (documents are "
                "named after it)"
            )
        return value

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or not EMAIL.fullmatch(value.strip()):
            raise ValueError(f"{value!r} is not an e-mail address like name@example.org")
        return value.strip()

    @field_validator("language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> Any:
        if not isinstance(value, str) or value.strip().lower() not in LANGUAGES:
            raise ValueError(f"{value!r} is not available; allowed: {', '.join(LANGUAGES)}")
        return value.strip().lower()


class GluteStrength(_Model):
    """Manual muscle test grades; a muscle left out was not graded."""

    medius: Grade = Field(
        None,
        description=(
            "Optional. Gluteus medius grade 0-5 on the manual muscle test; halves like 3.5 allowed."
        ),
    )
    maximus: Grade = Field(
        None,
        description=(
            "Optional. Gluteus maximus grade 0-5 on the manual muscle test; halves like 3.5 "
            "allowed."
        ),
    )


class Assessment(_Model):
    """The clinician's findings at this visit."""

    date: Date = Field(
        description=("The day of the assessment as an ISO date, YYYY-MM-DD; not in the future.")
    )
    clinician: Annotated[str, _text(200)] = Field(
        description=(
            "Who assessed the patient, as printed on the clinician page: one line, at most 200 "
            "characters."
        )
    )
    side: Annotated[Side, _canonical(Side)] = Field(description="The painful side.")
    piriformis: Annotated[Piriformis, _canonical(Piriformis)] = Field(
        description=(
            "The piriformis finding: a tight one is stretched, an overstretched one is never "
            "stretched."
        )
    )
    glute_strength: GluteStrength = Field(
        GluteStrength(),
        description=(
            "Optional. Gluteal strength by manual muscle test; a grade of 3 or less gets strength "
            "work in every phase."
        ),
    )
    radicular_level: Annotated[RadicularLevel, _canonical(RadicularLevel)] = Field(
        description=(
            "The nerve root involved, if any: L4 gets a femoral nerve slider, L5 and S1 a sciatic "
            "one."
        )
    )
    radicular_side: Annotated[Side | None, _canonical(Side)] = Field(
        None,
        description=(
            "Optional. The leg or legs with the nerve root signs: left, right or both; defaults "
            "to the painful side and must lie within it. Required when the painful side is both "
            "and a radicular level is given. Both legs count as bilateral leg symptoms: emergency."
        ),
    )
    irritability: Annotated[Irritability, _canonical(Irritability)] = Field(
        description=("How irritable the symptoms are; high makes phase 1 longer and gentler.")
    )
    pain_now: Annotated[int | None, _whole(0, 10, "a pain score")] = Field(
        None, description=("Optional. Pain now on a 0-10 scale, whole numbers.")
    )
    directional_preference: Annotated[DirectionalPreference, _canonical(DirectionalPreference)] = (
        Field(
            DirectionalPreference.NONE,
            description=("Optional, default none. A movement direction that eases the symptoms."),
        )
    )
    conditions: Annotated[
        tuple[Annotated[Condition, _canonical(Condition)], ...], BeforeValidator(_word_list)
    ] = Field((), description=("Optional. Other conditions that limit which exercises are safe."))
    equipment: Annotated[
        tuple[Annotated[Equipment, _canonical(Equipment)], ...], BeforeValidator(_word_list)
    ] = Field(
        (),
        description=(
            "Optional. Equipment the patient has at home; a chair, a wall and floor space are "
            "assumed."
        ),
    )

    @field_validator("conditions", "equipment", mode="after")
    @classmethod
    def _no_repeats(cls, value: tuple) -> tuple:
        return tuple(sorted(set(value), key=lambda member: member.value))

    @property
    def nerve_side(self) -> Side | None:
        """The leg or legs with radicular signs (``radicular_side``, else the painful side);
        None without a radicular level."""
        if self.radicular_level is RadicularLevel.NONE:
            return None
        return self.radicular_side or self.side


def _asked(key: str) -> str:
    """A red-flag field's description: the question from CLINICAL.md §1 and its level."""
    flag = redflags.BY_KEY[key]
    return (
        f"Asked: {flag.question}? Level: {flag.level.word}. Answer yes, no or unsure; "
        "unsure counts as yes."
    )


class RedFlags(_Model):
    """Every key must be answered; ``None`` means the question was not answered."""

    bladder_dysfunction: RedFlagAnswer = Field(None, description=_asked("bladder_dysfunction"))
    bowel_bladder_incontinence: RedFlagAnswer = Field(
        None, description=_asked("bowel_bladder_incontinence")
    )
    saddle_anesthesia: RedFlagAnswer = Field(None, description=_asked("saddle_anesthesia"))
    bilateral_leg_symptoms: RedFlagAnswer = Field(
        None, description=_asked("bilateral_leg_symptoms")
    )
    progressive_weakness: RedFlagAnswer = Field(None, description=_asked("progressive_weakness"))
    fever_or_systemically_unwell: RedFlagAnswer = Field(
        None, description=_asked("fever_or_systemically_unwell")
    )
    major_trauma: RedFlagAnswer = Field(None, description=_asked("major_trauma"))
    sexual_dysfunction: RedFlagAnswer = Field(None, description=_asked("sexual_dysfunction"))
    cancer_history: RedFlagAnswer = Field(None, description=_asked("cancer_history"))
    unexplained_weight_loss: RedFlagAnswer = Field(
        None, description=_asked("unexplained_weight_loss")
    )
    infection_risk: RedFlagAnswer = Field(None, description=_asked("infection_risk"))
    fracture_risk: RedFlagAnswer = Field(None, description=_asked("fracture_risk"))
    unrelenting_night_pain: RedFlagAnswer = Field(
        None, description=_asked("unrelenting_night_pain")
    )

    def answer(self, key: str) -> Answer | None:
        return getattr(self, key)

    def positive(self, key: str) -> bool:
        """``yes`` and ``unsure`` both count as yes."""
        return self.answer(key) in (Answer.YES, Answer.UNSURE)


def _flag_key(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in redflags.BY_KEY:
        return value.strip().lower()
    raise ValueError(f"{value!r} is not a red-flag key; allowed: {', '.join(redflags.KEYS)}")


class Clearance(_Model):
    """A doctor's clearance of one red flag answered yes or unsure."""

    flag: Annotated[str, BeforeValidator(_flag_key)] = Field(
        description=(
            "The red-flag key cleared. Only urgent- or routine-level flags can be cleared, "
            "and only "
            "when answered yes or unsure."
        )
    )
    cleared_by: Annotated[str, _text(200)] = Field(
        description=("The doctor who cleared it: one line, at most 200 characters.")
    )
    date: Date = Field(
        description=(
            "The day of the clearance as an ISO date, YYYY-MM-DD; on or before the assessment date."
        )
    )
    note: Annotated[str, _text(1000)] | None = Field(
        None, description=("Optional. What the doctor found: one line, at most 1000 characters.")
    )


class PlanChoices(_Model):
    """The clinician's own choices; they never outrank a safety rule."""

    include: Annotated[tuple[str, ...], BeforeValidator(_word_list)] = Field(
        (),
        description=(
            "Optional. Exercise ids to add to the program, each once; still subject to every "
            "safety rule."
        ),
    )
    exclude: Annotated[tuple[str, ...], BeforeValidator(_word_list)] = Field(
        (),
        description=(
            "Optional. Exercise ids never to use for this patient, each once and not also included."
        ),
    )
    notes: Annotated[str, _text(2000)] | None = Field(
        None,
        description=(
            "Optional. The clinician's note printed on the handout: one line, at most 2000 "
            "characters."
        ),
    )
    next_visit: Date | None = Field(
        None,
        description=(
            "Optional. The next visit as an ISO date, YYYY-MM-DD, printed on the handout's "
            "first page; not before the assessment."
        ),
    )


class FollowUp(_Model):
    """How the last step went, at a follow-up visit (CONTRACT.md §5)."""

    step_reached: Annotated[int, _whole(1, 3, "a step")] = Field(
        description="The step the patient has been doing: 1, 2 or 3."
    )
    weeks_on_step: Annotated[int, _whole(0, 52, "a number of weeks")] = Field(
        description="Whole weeks on that step, 0-52."
    )
    days_done_percent: Annotated[int, _whole(0, 100, "a percentage")] = Field(
        description="The share of prescribed days done, from the log: 0-100."
    )
    pain_during: Annotated[int, _whole(0, 10, "a pain score")] = Field(
        description="The worst pain during the exercises this week, 0-10."
    )
    next_morning: Annotated[NextMorning, _canonical(NextMorning)] = Field(
        description="Were the symptoms back to usual by the next morning? usual or worse."
    )
    new_nerve_signs: Annotated[Answer, BeforeValidator(_answer)] = Field(
        description=(
            "New or spreading numbness, tingling or weakness since the last visit: yes, no or "
            "unsure; unsure counts as yes."
        )
    )


def _activity_scores(value: Any) -> Any:
    """PSFS: 1-5 activities by name, each scored 0-10 in whole numbers."""
    if not isinstance(value, dict):
        return value
    if not 1 <= len(value) <= 5:
        raise ValueError(f"lists {len(value)} activities; allowed: 1 to 5")
    scores = {}
    for number, (name, score) in enumerate(value.items(), start=1):
        # Activities are the patient's own words: an error names their number, not the words.
        label = name.strip() if isinstance(name, str) else name
        if not isinstance(label, str) or not label or len(label) > 100:
            raise ValueError(f"activity {number}: name it in at most 100 characters")
        if any(ord(ch) < 32 for ch in label):
            raise ValueError(f"activity {number}: its name must be one line")
        if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
            raise ValueError(
                f"activity {number}: {score!r} is not a score; allowed: whole numbers 0 to 10"
            )
        scores[label] = score
    return scores


class OutcomeVisit(_Model):
    """The outcome measures taken at one visit; each is optional."""

    date: Date = Field(description="The day of the visit, YYYY-MM-DD; not after the assessment.")
    nprs: Annotated[int | None, _whole(0, 10, "a pain score")] = Field(
        None, description="Optional. Pain now on the 0-10 numeric rating scale (NPRS)."
    )
    psfs: Annotated[dict[str, int] | None, BeforeValidator(_activity_scores)] = Field(
        None,
        description=(
            "Optional. Patient-Specific Functional Scale: 1-5 activities by name, each 0-10 "
            "(10 = able to do it as before)."
        ),
    )
    odi: Annotated[int | None, _whole(0, 100, "an Oswestry score")] = Field(
        None, description="Optional. Oswestry Disability Index, 0-100 (higher is worse)."
    )


class Profile(_Model):
    """One patient's assessed profile (CONTRACT.md §1)."""

    format: int = Field(description="The profile format; 1 is the only known format.")
    patient: Patient = Field(
        description=("Who the program is for: id and name, optionally e-mail and age.")
    )
    assessment: Assessment = Field(
        description=("What the clinician found at this visit, in the controlled vocabularies.")
    )
    red_flags: RedFlags = Field(
        description=(
            "The answers to every red-flag question; they are screened before anything else."
        )
    )
    medical_clearance: Annotated[tuple[Clearance, ...], BeforeValidator(_word_list)] = Field(
        (),
        description=(
            "Optional. Doctors' clearances, at most one per red flag; a cleared flag is not "
            "counted."
        ),
    )
    plan: PlanChoices = Field(
        PlanChoices(),
        description=(
            "Optional. The clinician's own choices of exercises and a note for the handout."
        ),
    )

    follow_up: FollowUp | None = Field(
        None,
        description="Optional. At a follow-up visit: how the last step went (CONTRACT §5).",
    )
    outcomes: Annotated[tuple[OutcomeVisit, ...], BeforeValidator(_word_list)] = Field(
        (),
        description="Optional. Outcome measures at each visit, oldest first (CONTRACT §5).",
    )

    @field_validator("format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        if type(value) is not int or value not in KNOWN_FORMATS:  # not 1.0, not true
            known = ", ".join(str(f) for f in KNOWN_FORMATS)
            raise ValueError(f"format {value!r} is not known; known formats: {known}")
        return value

    @property
    def cleared(self) -> frozenset[str]:
        return frozenset(entry.flag for entry in self.medical_clearance)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(key for key in redflags.KEYS if self.red_flags.answer(key) is None)


def _semantic_problems(profile: Profile, source: str, today: dt.date) -> list[str]:
    """Checks that span several keys, as one line per problem with its key path."""
    problems = []
    if profile.assessment.date > today:
        problems.append(
            f"{source}: assessment.date: {profile.assessment.date.isoformat()} is in the future; "
            f"the assessment must have happened by today ({today.isoformat()})"
        )
    problems += _radicular_side_problems(profile.assessment, source)
    seen: set[str] = set()
    for index, entry in enumerate(profile.medical_clearance):
        where = f"{source}: medical_clearance[{index}]"
        flag = redflags.BY_KEY[entry.flag]
        if flag.level is Level.EMERGENCY:
            problems.append(
                f"{where}.flag: {entry.flag} is an emergency-level sign and cannot be cleared; "
                "it needs emergency care now, whatever the history. Only urgent- or "
                "routine-level flags can be cleared"
            )
        answer = profile.red_flags.answer(entry.flag)
        if answer not in (Answer.YES, Answer.UNSURE):
            given = "not answered" if answer is None else f"answered {answer.value}"
            problems.append(
                f"{where}.flag: {entry.flag} is {given}; only a flag answered yes or unsure "
                "can be cleared"
            )
        if entry.date > profile.assessment.date:
            problems.append(
                f"{where}.date: {entry.date.isoformat()} is after the assessment "
                f"({profile.assessment.date.isoformat()}); a clearance must come before it"
            )
        if entry.flag in seen:
            problems.append(f"{where}.flag: {entry.flag} is cleared twice; clear it once")
        seen.add(entry.flag)
    for field in ("include", "exclude"):
        ids = getattr(profile.plan, field)
        for index, item in enumerate(ids):
            if item in ids[:index]:
                problems.append(f"{source}: plan.{field}[{index}]: {item!r} is listed twice")
    problems += _outcome_problems(profile, source)
    next_visit = profile.plan.next_visit
    if next_visit is not None and next_visit < profile.assessment.date:
        problems.append(
            f"{source}: plan.next_visit: {next_visit.isoformat()} is before the assessment "
            f"({profile.assessment.date.isoformat()}); the next visit comes after it"
        )
    both = set(profile.plan.include) & set(profile.plan.exclude)
    for item in sorted(both):
        problems.append(f"{source}: plan: {item!r} is in both include and exclude; choose one")
    return problems


def _outcome_problems(profile: Profile, source: str) -> list[str]:
    """Visits are oldest first, one per day, and none after this assessment."""
    problems = []
    assessed = profile.assessment.date
    for index, visit in enumerate(profile.outcomes):
        where = f"{source}: outcomes[{index}].date"
        if visit.date > assessed:
            problems.append(
                f"{where}: {visit.date.isoformat()} is after the assessment "
                f"({assessed.isoformat()}); outcomes are from this visit or earlier ones"
            )
        if index and visit.date <= profile.outcomes[index - 1].date:
            problems.append(
                f"{where}: {visit.date.isoformat()} is not after the visit before it "
                f"({profile.outcomes[index - 1].date.isoformat()}); list visits oldest first, "
                "one per day"
            )
    return problems


def _radicular_side_problems(found: Assessment, source: str) -> list[str]:
    """CLINICAL.md §1 rule 5: which legs have the nerve signs must be known, and lie within
    the painful side; a side without a level is a finding that would otherwise be dropped."""
    where = f"{source}: assessment.radicular_side"
    level, side, given = found.radicular_level, found.side, found.radicular_side
    if level is RadicularLevel.NONE:
        if given is not None:
            return [
                f"{where}: {given.value} is given but radicular_level is none; give the "
                "nerve root level (L4, L5 or S1), or remove radicular_side"
            ]
        return []
    if given is None:
        if side is Side.BOTH:
            return [
                f"{where}: is required when side is both and radicular_level is "
                f"{level.value}; say which leg has the nerve signs: left, right or both "
                "(both legs need emergency care)"
            ]
        return []
    if side is not Side.BOTH and given is not side:
        return [
            f"{where}: {given.value} is not within the painful side ({side.value}); "
            f"allowed: {side.value}, or change side to both"
        ]
    return []


#: What a top level that is not a mapping is, in words.
_KINDS = {str: "text", int: "a number", float: "a number", bool: "true or false", list: "a list"}


def parse_profile(data: Any, source: str, *, today: dt.date | None = None) -> Profile:
    """Validate plain data as a profile; every problem becomes one line of an InputError."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else _KINDS.get(type(data), f"a {type(data).__name__}")
        raise InputError(f"{source}: the profile must be a mapping of keys to values; it is {kind}")
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise InputError(validation_problems(source, exc, Profile)) from None
    problems = _semantic_problems(profile, source, today or clock.today())
    if problems:
        raise InputError(problems)
    return profile
