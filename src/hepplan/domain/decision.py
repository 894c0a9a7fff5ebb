"""The decision: what screening and planning concluded, as an immutable value.

``Decision.to_json()`` is the output of CONTRACT.md §4. The exercise data each prescription was
made from travels with it (excluded from JSON), so a renderer never needs to look anything up.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, SkipValidation, computed_field

from hepplan.domain.library import Exercise, fill_side
from hepplan.domain.progress import Progress
from hepplan.domain.redflags import Level
from hepplan.domain.rules import EXERCISE_WHY
from hepplan.errors import Status

#: A disposition: compared as a Level, written as its word (none, routine, urgent, emergency).
Disposition = Annotated[Level, PlainSerializer(lambda level: level.word, return_type=str)]

#: A follow-up's progress decision (CONTRACT.md §5), written as its ``to_dict()``; null otherwise.
ProgressField = Annotated[
    Progress | None,
    SkipValidation,
    PlainSerializer(lambda progress: progress and progress.to_dict(), return_type=dict | None),
]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Prescription(_Model):
    id: str
    name: str
    category: str
    sets: int | None
    reps: int | None
    hold_s: int | None
    minutes: int | None = None
    times_per_day: int
    days_per_week: int
    side: str | None  # left | right | both | None (both legs together, or the trunk)
    why: tuple[str, ...]  # message keys: each rule's reason, in the patient's words
    rules: tuple[str, ...] = ()
    exercise: Exercise = Field(exclude=True, repr=False)


class Phase(_Model):
    number: int
    name: str  # message key
    goal: str  # message key
    weeks: tuple[int, int]
    minutes_per_day: int
    progress_when: str  # message key of a list
    exercises: tuple[Prescription, ...]
    aerobic: Prescription
    #: At a follow-up, a step the patient has already done (before ``Decision.start_step``):
    #: kept so the program at a glance can show it as done.
    done: bool = False


class Referral(_Model):
    """What the redirect says about the screening, decided once by screening (CLINICAL.md §1):
    the reasons as message keys of the patient's words, and the decision trace in a doctor's
    words."""

    reasons: tuple[str, ...] = ()  # message keys: "You have..." for yes, "You may have..."
    why: tuple[str, ...] = ()  # each rule that set the level, in clinical words


class Decision(_Model):
    status: Status
    disposition: Disposition
    triggered: tuple[str, ...]
    missing: tuple[str, ...]
    library_version: str | None  # None only for a refusal made while the library was unusable
    phases: tuple[Phase, ...]
    trace: tuple[str, ...]
    cleared: tuple[str, ...] = ()
    see_doctor_about: tuple[str, ...] = ()  # routine concerns to book a check for
    clinician_notes: tuple[str, ...] = ()  # e.g. a directional exercise withheld, and why
    referral: Referral = Field(Referral(), exclude=True, repr=False)
    #: At a follow-up visit (CLINICAL.md §4): where the patient goes next, why, and the outcomes.
    progress: ProgressField = None
    #: The step the patient does from today (1 unless a follow-up moved it).
    start_step: int = 1

    @property
    def prescribed(self) -> bool:
        return self.status is Status.PRESCRIBED

    @property
    def refused(self) -> bool:
        return self.status is Status.REFUSED

    @property
    def exercises(self) -> tuple[Prescription, ...]:
        """Every prescription of every phase, aerobic work included, in order."""
        return tuple(item for phase in self.phases for item in (*phase.exercises, phase.aerobic))

    @property
    def content_version(self) -> str:
        """A digest of the library content this program is made of: the exercises it uses,
        nothing else. Printed on the handout, so a change to an exercise this program does not
        use leaves the handout's bytes alone (and ``hepplan batch`` need not rebuild it)."""
        used = {item.id: item.exercise.digest for item in self.exercises}
        blob = json.dumps(sorted(used.items()), separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_digest(self) -> str | None:
        """``content_version`` in the JSON of CONTRACT.md §4; null without a program."""
        return self.content_version if self.phases else None

    def to_dict(self, words: Words | None = None) -> dict[str, Any]:
        """The decision as JSON data; with ``words``, the patient's words stand in for their
        message keys (the exercises' whys, the steps' names, goals and move-on lists)."""
        data = self.model_dump(mode="json")
        if words is not None:
            for phase, shown in zip(self.phases, data["phases"], strict=True):
                _word_phase(phase, shown, words)
        return data

    def to_json(self, words: Words | None = None) -> str:
        return json.dumps(self.to_dict(words), indent=2, ensure_ascii=False)


class Words(Protocol):
    """What the JSON needs of a catalog of words (``hepplan.words.catalog.Words``)."""

    def say(self, key: str, **context: Any) -> str: ...

    def lines(self, key: str, **context: Any) -> tuple[str, ...]: ...


def why_words(item: Prescription, words: Words) -> str:
    """A prescription's why, in words: each rule's reason, or the exercise's own."""
    own = fill_side(item.exercise.why, item.side)
    said = (own if key == EXERCISE_WHY else words.say(key) for key in item.why)
    return " ".join(dict.fromkeys(said))


def _word_phase(phase: Phase, shown: dict, words: Words) -> None:
    shown["name"] = words.say(phase.name)
    shown["goal"] = words.say(phase.goal)
    shown["progress_when"] = list(words.lines(phase.progress_when))
    for item, data in zip(
        (*phase.exercises, phase.aerobic), (*shown["exercises"], shown["aerobic"]), strict=True
    ):
        data["why"] = why_words(item, words)
