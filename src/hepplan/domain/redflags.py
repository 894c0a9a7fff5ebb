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
    reason: str  # why care is needed, in plain words for the patient, answered yes
    maybe: str  # the same for an ``unsure`` answer: "You may have..."

    def told(self, answer: str | None) -> str:
        """What the patient is told for this answer: ``unsure`` is not a yes."""
        return self.maybe if answer == "unsure" else self.reason


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag(
        "bladder_dysfunction",
        Level.EMERGENCY,
        False,
        True,
        "New or worse trouble starting to pass urine, weaker feeling of flow, or retention",
        "new urinary hesitancy, poor stream or retention",
        "You have new trouble when you pee.",
        "You may have new trouble when you pee.",
    ),
    RedFlag(
        "bowel_bladder_incontinence",
        Level.EMERGENCY,
        False,
        True,
        "New leaking of urine or stool, or no longer feeling when the bowel is full",
        "new urinary or faecal incontinence, or loss of rectal sensation",
        "You have new leaking of pee or poo, or you can't tell when you need to go.",
        "You may have new leaking of pee or poo, or you may not feel when you need to go.",
    ),
    RedFlag(
        "saddle_anesthesia",
        Level.EMERGENCY,
        False,
        True,
        "New numbness or changed feeling between the legs, genitals or around the back passage",
        "new saddle or perianal sensory change",
        "You have new numbness between your legs, where you sit on a bike seat.",
        "You may have new numbness between your legs, where you sit on a bike seat.",
    ),
    RedFlag(
        "bilateral_leg_symptoms",
        Level.EMERGENCY,
        False,
        True,
        "New or worsening pain, numbness or weakness in both legs",
        "new or worsening bilateral leg symptoms",
        "You have new or worse pain, numbness or weakness in both legs.",
        "You may have new or worse pain, numbness or weakness in both legs.",
    ),
    RedFlag(
        "progressive_weakness",
        Level.EMERGENCY,
        False,
        True,
        "Leg weakness getting worse, or new foot drop (foot slaps or catches)",
        "progressive leg weakness or new foot drop",
        "Your leg is getting weaker, or your foot slaps or catches when you walk.",
        "Your leg may be getting weaker, or your foot may slap or catch when you walk.",
    ),
    RedFlag(
        "fever_or_systemically_unwell",
        Level.EMERGENCY,
        False,
        False,
        "Fever, chills or feeling very unwell along with the pain",
        "fever or systemically unwell",
        "You have a fever, chills or feel very unwell as well as the pain.",
        "You may have a fever, chills or feel very unwell as well as the pain.",
    ),
    RedFlag(
        "major_trauma",
        Level.EMERGENCY,
        False,
        False,
        "The pain began after a serious injury (fall from height, road collision)",
        "onset after major trauma",
        "Your pain began after a bad fall or a crash.",
        "Your pain may have begun after a bad fall or a crash.",
    ),
    RedFlag(
        "sexual_dysfunction",
        Level.URGENT,
        False,
        True,
        "New change in sexual function",
        "new sexual dysfunction",
        "You have a new change in sexual feeling or function.",
        "You may have a new change in sexual feeling or function.",
    ),
    RedFlag(
        "cancer_history",
        Level.URGENT,
        True,
        False,
        "Cancer now or in the past",
        "history of cancer",
        "You have had cancer, and a doctor should check the cause of this pain.",
        "You may have had cancer, and a doctor should check the cause of this pain.",
    ),
    RedFlag(
        "unexplained_weight_loss",
        Level.URGENT,
        True,
        False,
        "Weight loss that diet does not explain",
        "unexplained weight loss",
        "You have lost weight and you don't know why.",
        "You may have lost weight without knowing why.",
    ),
    RedFlag(
        "infection_risk",
        Level.URGENT,
        True,
        False,
        "Injects drugs, weakened immune system, long-term steroids, or a recent infection",
        "risk factors for spinal infection",
        "You have a higher chance of an infection in the spine.",
        "You may have a higher chance of an infection in the spine.",
    ),
    RedFlag(
        "fracture_risk",
        Level.URGENT,
        True,
        False,
        "Sudden severe back pain after a minor fall or lift, "
        "with osteoporosis, steroids or older age",
        "risk of vertebral fracture",
        "Your pain began suddenly after a small fall or lift, and your bones may be weak.",
        "Your pain may have begun after a small fall or lift, and your bones may be weak.",
    ),
    RedFlag(
        "unrelenting_night_pain",
        Level.ROUTINE,
        True,
        False,
        "Night pain that no position eases",
        "unrelenting night pain",
        "Your pain at night does not ease in any position.",
        "Your pain at night may not ease in any position.",
    ),
)

BY_KEY: dict[str, RedFlag] = {flag.key: flag for flag in RED_FLAGS}
#: The keys a doctor may clear: every one but the emergency-level signs (CLINICAL.md §1).
CLEARABLE = tuple(flag.key for flag in RED_FLAGS if flag.level is not Level.EMERGENCY)
KEYS: tuple[str, ...] = tuple(BY_KEY)
ORDER: dict[str, int] = {key: index for index, key in enumerate(KEYS)}
