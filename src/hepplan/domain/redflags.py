"""The red-flag questions of CLINICAL.md §1, as data: key, level, and the words for each reader.

Sources: Finucane et al., IFOMPT red flags framework, JOSPT 2020; GIRFT suspected cauda equina
pathway 2023; NICE CG75/NG234, NG59.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """How soon medical care is needed. Higher is more serious."""

    NONE = 0
    ROUTINE = 1
    URGENT = 2
    EMERGENCY = 3

    @property
    def word(self) -> str:
        return self.name.lower()

    def __str__(self) -> str:
        return self.word


@dataclass(frozen=True)
class RedFlag:
    key: str
    level: Level
    contextual: bool
    cauda_equina: bool
    question: str  # what the clinician asked, in clinical words (assess, messages, doctor)
    label: str  # the finding's short clinical name, for the receiving doctor

    def told(self, answer: str | None) -> str:
        """The message key of what the patient is told for this answer (the patient's words
        are in the catalog, ``signs``): ``unsure`` is not a yes."""
        return f"signs.{self.key}" + (":unsure" if answer == "unsure" else "")


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "bladder_dysfunction",
        Level.EMERGENCY,
        False,
        True,
        "New or worse trouble starting to pass urine, weaker feeling of flow, or retention",
        "new urinary hesitancy, poor stream or retention",
    ),
    RedFlag(
        "bowel_bladder_incontinence",
        Level.EMERGENCY,
        False,
        True,
        "New leaking of urine or stool, or no longer feeling when the bowel is full",
        "new urinary or faecal incontinence, or loss of rectal sensation",
    ),
    RedFlag(
        "saddle_anesthesia",
        Level.EMERGENCY,
        False,
        True,
        "New numbness or changed feeling between the legs, genitals or around the back passage",
        "new saddle or perianal sensory change",
    ),
    RedFlag(
        "bilateral_leg_symptoms",
        Level.EMERGENCY,
        False,
        True,
        "New or worsening pain, numbness or weakness in both legs",
        "new or worsening bilateral leg symptoms",
    ),
    RedFlag(
        "progressive_weakness",
        Level.EMERGENCY,
        False,
        True,
        "Leg weakness getting worse, or new foot drop (foot slaps or catches)",
        "progressive leg weakness or new foot drop",
    ),
    RedFlag(
        "fever_or_systemically_unwell",
        Level.EMERGENCY,
        False,
        False,
        "Fever, chills or feeling very unwell along with the pain",
        "fever or systemically unwell",
    ),
    RedFlag(
        "major_trauma",
        Level.EMERGENCY,
        False,
        False,
        "The pain began after a serious injury (fall from height, road collision)",
        "onset after major trauma",
    ),
    RedFlag(
        "sexual_dysfunction",
        Level.URGENT,
        False,
        True,
        "New change in sexual function",
        "new sexual dysfunction",
    ),
    RedFlag(
        "cancer_history",
        Level.URGENT,
        True,
        False,
        "Cancer now or in the past",
        "history of cancer",
    ),
    RedFlag(
        "unexplained_weight_loss",
        Level.URGENT,
        True,
        False,
        "Weight loss that diet does not explain",
        "unexplained weight loss",
    ),
    RedFlag(
        "infection_risk",
        Level.URGENT,
        True,
        False,
        "Injects drugs, weakened immune system, long-term steroids, or a recent infection",
        "risk factors for spinal infection",
    ),
    RedFlag(
        "fracture_risk",
        Level.URGENT,
        True,
        False,
        "Sudden severe back pain after a minor fall or lift, "
        "with osteoporosis, steroids or older age",
        "risk of vertebral fracture",
    ),
    RedFlag(
        "unrelenting_night_pain",
        Level.ROUTINE,
        True,
        False,
        "Night pain that no position eases",
        "unrelenting night pain",
    ),
)

BY_KEY: dict[str, RedFlag] = {flag.key: flag for flag in RED_FLAGS}
#: The keys a doctor may clear: every one but the emergency-level signs (CLINICAL.md §1).
CLEARABLE = tuple(flag.key for flag in RED_FLAGS if flag.level is not Level.EMERGENCY)
KEYS: tuple[str, ...] = tuple(BY_KEY)
ORDER: dict[str, int] = {key: index for index, key in enumerate(KEYS)}
