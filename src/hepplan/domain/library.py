"""The exercise library: one YAML file per exercise, validated once, with a content digest.

``library_version`` is a digest of the validated content (not of the files' bytes), so
re-indenting a file or reordering keys does not change it, while any change a patient could
see does.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from hepplan.domain.pose import Pose
from hepplan.domain.vocab import (
    Category,
    Equipment,
    Irritability,
    Laterality,
    LyingSide,
    Tag,
    Target,
)
from hepplan.errors import LibraryError
from hepplan.io.problems import validation_problems

EXERCISE_ID = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
#: The only things exercise text may fill in: the patient's side and the other one.
PLACEHOLDER = re.compile(r"\{\{\s*(side|other_side)\s*\}\}")
#: Anything that would open a template construct once the placeholders are taken out.
_CONSTRUCT = re.compile(r"\{[{%#]|[}%#]\}")


OTHER_SIDE = {"left": "right", "right": "left"}


def side_words(side: str | None) -> dict[str, str]:
    """``{{ side }}`` and ``{{ other_side }}`` for a prescription's side; "both" starts left."""
    first = side if side in OTHER_SIDE else "left"
    return {"side": first, "other_side": OTHER_SIDE[first]}


def fill_side(source: str, side: str | None) -> str:
    """One piece of exercise text with the patient's side filled in; nothing is evaluated."""
    return fill_placeholders(source, side_words(side)).strip()


def fill_placeholders(source: str, words: dict[str, str]) -> str:
    """``{{ side }}`` and ``{{ other_side }}`` replaced by ``words``; nothing else is evaluated.
    Text with any other construct never gets here: the library refuses it when it is read."""
    return PLACEHOLDER.sub(lambda match: words[match.group(1)], source)


ONLY = "{{ side }} and {{ other_side }}"
ANY_CONSTRUCT = "{{ }}, {% %} or {# #}"


def placeholder_problems(source: str, allowed: bool = True) -> list[str]:
    """What in a text is not plain words or (when ``allowed``) one of the two placeholders."""
    rest = PLACEHOLDER.sub("", source) if allowed else source
    found = _CONSTRUCT.search(rest)
    if found is None:
        return []
    if not allowed:
        return [f"is printed as written: no {ANY_CONSTRUCT}; found {_excerpt(rest, found)}"]
    name = _UNKNOWN.match(rest, found.start())
    if name:
        return [f"{{{{ {name.group(1)} }}}} is not filled in; only {ONLY} are"]
    return [
        f"only {ONLY} may be filled in, nothing else is evaluated; found {_excerpt(rest, found)}"
    ]


_UNKNOWN = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,30})\s*\}\}")


def _excerpt(text: str, found: re.Match[str]) -> str:
    return repr(text[found.start() : found.start() + 40])


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=600)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dose(_Model):
    sets: Annotated[int, Field(ge=1, le=5)] = 1
    reps: Annotated[int | None, Field(ge=1, le=30)] = None
    hold_s: Annotated[int | None, Field(ge=1, le=60)] = None
    minutes: Annotated[int | None, Field(ge=1, le=60)] = None
    times_per_day: Annotated[int, Field(ge=1, le=12)] = 1
    days_per_week: Annotated[int, Field(ge=1, le=7)] = 7


class Dosing(_Model):
    high: Dose
    moderate: Dose
    low: Dose

    def for_irritability(self, irritability: Irritability) -> Dose:
        return getattr(self, irritability.value)


class Exercise(_Model):
    id: str
    name: Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=60)]
    category: Category
    targets: Annotated[tuple[Target, ...], Field(min_length=1)]
    tags: tuple[Tag, ...] = ()
    equipment: tuple[Equipment, ...] = ()
    phases: Annotated[tuple[Annotated[int, Field(ge=1, le=3)], ...], Field(min_length=1)]
    level: Annotated[int, Field(ge=1, le=5, description="1 = gentlest, 5 = hardest")]
    laterality: Laterality
    #: What one count is, for an exercise done side to side: "each_side" (bird dog: the count
    #: is for each arm and leg in turn) or "each_way" (side steps: out and back). ``None``: one
    #: count is one repeat.
    count: Literal["each_side", "each_way"] | None = None
    lying_side: LyingSide | None = None
    dosing: Dosing
    steps: Annotated[tuple[Text, ...], Field(min_length=3, max_length=6)]
    feel: Text
    stop_if: Text
    why: Text
    progression: str | None = None
    regression: str | None = None
    references: Annotated[tuple[Text, ...], Field(min_length=1)]
    pose: Pose

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        problems = []
        if not EXERCISE_ID.fullmatch(self.id):
            problems.append(f"id {self.id!r} must be 2-48 of a-z 0-9 _, starting with a letter")
        if (Tag.SIDE_LYING in self.tags) != (self.lying_side is not None):
            problems.append("lying_side is required for side_lying exercises, and only for them")
        if len(set(self.phases)) != len(self.phases) or list(self.phases) != sorted(self.phases):
            problems.append("phases must be listed once each, in order")
        for name in ("high", "moderate", "low"):
            problems.extend(
                f"dosing.{name}: {p}"
                for p in _dose_problems(self.category, getattr(self.dosing, name))
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def template_problems(self) -> list[str]:
        """Exercise text is plain words and at most the two side placeholders: never a template
        (a shared library must not be able to run code or stall a render)."""
        fields: list[tuple[str, str | None, bool]] = [
            (f"steps[{i}]", step, True) for i, step in enumerate(self.steps)
        ]
        fields += [("feel", self.feel, True), ("stop_if", self.stop_if, True)]
        fields += [("name", self.name, False), ("why", self.why, False)]
        fields += [(f"references[{i}]", ref, False) for i, ref in enumerate(self.references)]
        return [
            f"{name}: {problem}"
            for name, value, allowed in fields
            for problem in placeholder_problems(value or "", allowed)
        ]

    @property
    def digest(self) -> str:
        return _digest(self.model_dump(mode="json"))


def _dose_problems(category: Category, dose: Dose) -> list[str]:
    """The dosing ranges of CLINICAL.md §2 that a library's data must stay within."""
    problems = []
    if category is Category.AEROBIC:
        if dose.minutes is None:
            problems.append("aerobic work needs minutes")
        return problems
    if dose.reps is None:
        problems.append("reps are required")
    if category is Category.STRETCH:
        if not (dose.hold_s and 15 <= dose.hold_s <= 30):
            problems.append("stretches hold 15-30 s")
        if dose.reps is not None and not 2 <= dose.reps <= 4:
            problems.append("stretches repeat 2-4 holds")
    elif category is Category.STRENGTH:
        if not 1 <= dose.sets <= 3:
            problems.append("strength work is 1-3 sets")
        if dose.reps is not None and not 8 <= dose.reps <= 15:
            problems.append("strength work is 8-15 repetitions")
    elif category is Category.NERVE_GLIDE:
        if dose.hold_s:
            problems.append("nerve glides are never held")
        if dose.reps is not None and not 10 <= dose.reps <= 15:
            problems.append("nerve glides are 10-15 repetitions")
    return problems


def _digest(value: Any) -> str:
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Library:
    exercises: dict[str, Exercise]
    source: str
    version: str = field(init=False)

    def __post_init__(self) -> None:
        digests = {key: self.exercises[key].digest for key in sorted(self.exercises)}
        object.__setattr__(self, "version", _digest(digests)[:16])

    def __getitem__(self, exercise_id: str) -> Exercise:
        return self.exercises[exercise_id]

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self.exercises

    def __iter__(self):
        return iter(self.exercises[key] for key in sorted(self.exercises))

    def __len__(self) -> int:
        return len(self.exercises)

    def __repr__(self) -> str:
        return f"Library({len(self)} exercises from {self.source}, version {self.version})"


def parse_exercise(data: Any, source: str) -> Exercise:
    if not isinstance(data, dict):
        raise LibraryError(f"{source}: an exercise must be a mapping of keys to values")
    try:
        exercise = Exercise.model_validate(data)
    except ValidationError as exc:
        raise LibraryError(validation_problems(source, exc, Exercise)) from None
    problems = exercise.template_problems()
    if problems:
        raise LibraryError([f"{source}: {problem}" for problem in problems])
    return exercise
