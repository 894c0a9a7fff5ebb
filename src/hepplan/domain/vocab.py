"""The controlled vocabularies of the profile and the exercise library (CLINICAL.md §2).

Every enum value is the exact word a clinician writes and the library uses. Input is matched
case-insensitively by the models that use these enums.
"""

from __future__ import annotations

from enum import StrEnum


class Word(StrEnum):
    """A vocabulary word: compares and prints as its value."""

    def __str__(self) -> str:
        return self.value


class Side(Word):
    LEFT = "left"
    RIGHT = "right"
    BOTH = "both"


class Piriformis(Word):
    TIGHT = "tight"
    OVERSTRETCHED = "overstretched"
    NORMAL = "normal"
    NOT_ASSESSED = "not_assessed"


class RadicularLevel(Word):
    NONE = "none"
    L4 = "L4"
    L5 = "L5"
    S1 = "S1"


class Irritability(Word):
    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"


class DirectionalPreference(Word):
    NONE = "none"
    EXTENSION = "extension"
    FLEXION = "flexion"


class Condition(Word):
    LUMBAR_STENOSIS = "lumbar_stenosis"
    SPONDYLOLISTHESIS = "spondylolisthesis"
    HIP_OSTEOARTHRITIS = "hip_osteoarthritis"
    GTPS = "gtps"
    HIP_LABRAL_FAI = "hip_labral_fai"
    PREGNANCY = "pregnancy"
    OSTEOPOROSIS = "osteoporosis"


class Equipment(Word):
    RESISTANCE_BAND = "resistance_band"
    FOAM_ROLLER = "foam_roller"
    MASSAGE_BALL = "massage_ball"
    STEP = "step"
    CHAIR = "chair"
    WALL = "wall"
    MAT = "mat"
    EXERCISE_BIKE = "exercise_bike"


#: What every patient is assumed to have: a chair, a wall and floor space.
ASSUMED_EQUIPMENT = frozenset({Equipment.CHAIR, Equipment.WALL, Equipment.MAT})


class Answer(Word):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


class Category(Word):
    STRETCH = "stretch"
    SOFT_TISSUE = "soft_tissue"
    NERVE_GLIDE = "nerve_glide"
    STRENGTH = "strength"
    MOTOR_CONTROL = "motor_control"
    DIRECTIONAL = "directional"
    AEROBIC = "aerobic"


class Target(Word):
    PIRIFORMIS = "piriformis"
    GLUTEUS_MEDIUS = "gluteus_medius"
    GLUTEUS_MAXIMUS = "gluteus_maximus"
    HIP_ROTATORS = "hip_rotators"
    HIP_FLEXORS = "hip_flexors"
    HAMSTRINGS = "hamstrings"
    ADDUCTORS = "adductors"
    CORE = "core"
    LUMBAR_SPINE = "lumbar_spine"
    SCIATIC_NERVE = "sciatic_nerve"
    FEMORAL_NERVE = "femoral_nerve"
    CALF = "calf"
    ANKLE_DORSIFLEXORS = "ankle_dorsiflexors"
    QUADRICEPS = "quadriceps"
    WHOLE_BODY = "whole_body"


class Tag(Word):
    PIRIFORMIS_STRETCH = "piriformis_stretch"
    NERVE_SLIDER = "nerve_slider"
    NERVE_TENSIONER = "nerve_tensioner"
    LUMBAR_EXTENSION = "lumbar_extension"
    LUMBAR_FLEXION = "lumbar_flexion"
    HIP_ADDUCTION_END_RANGE = "hip_adduction_end_range"
    DEEP_HIP_FLEXION_ADDUCTION = "deep_hip_flexion_adduction"
    DEEP_HIP_FLEXION = "deep_hip_flexion"
    SPINAL_FLEXION_END_RANGE = "spinal_flexion_end_range"
    PRONE = "prone"
    SUPINE = "supine"
    SIDE_LYING = "side_lying"
    KNEELING = "kneeling"
    SEATED = "seated"
    STANDING = "standing"
    SINGLE_LEG = "single_leg"
    HIGH_LOAD = "high_load"
    HIGH_IMPACT = "high_impact"
    LOADED_SPINAL_FLEXION = "loaded_spinal_flexion"
    ISOMETRIC = "isometric"
    BALANCE = "balance"


class Laterality(Word):
    """Which leg an exercise works."""

    PAINFUL_SIDE = "painful_side"  # done with the painful leg (both legs when both are painful)
    EACH_SIDE = "each_side"  # done on both legs, painful side first
    NONE = "none"  # both legs together, or the trunk


class LyingSide(Word):
    """For side-lying exercises: which side the patient lies on, relative to the working leg."""

    OTHER = "other"  # lie on the other side, working leg on top (e.g. clamshell)
    WORKING = "working"  # lie on the working side (e.g. bottom-leg lift)


def words(enum: type[Word]) -> str:
    """The allowed values of a vocabulary, for error messages."""
    return ", ".join(member.value for member in enum)


class NextMorning(Word):
    """At a follow-up: were the symptoms back to usual by the next morning?"""

    USUAL = "usual"
    WORSE = "worse"
