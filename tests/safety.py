"""CLINICAL.md §2's hard rules, restated independently of rules.py, for tests to check against."""

from __future__ import annotations

CONDITIONS = [
    "lumbar_stenosis",
    "spondylolisthesis",
    "hip_osteoarthritis",
    "gtps",
    "hip_labral_fai",
    "pregnancy",
    "osteoporosis",
]
EQUIPMENT = [
    "resistance_band",
    "foam_roller",
    "massage_ball",
    "step",
    "chair",
    "wall",
    "mat",
    "exercise_bike",
]

# condition → tags never allowed in any phase
FORBIDDEN_BY_CONDITION = {
    "lumbar_stenosis": {"lumbar_extension"},
    "spondylolisthesis": {"lumbar_extension"},
    "gtps": {"hip_adduction_end_range"},
    "hip_labral_fai": {"deep_hip_flexion_adduction", "deep_hip_flexion"},
    "pregnancy": {"prone", "supine"},
    "osteoporosis": {"loaded_spinal_flexion", "spinal_flexion_end_range", "high_impact"},
    "hip_osteoarthritis": {"high_impact"},
}


def assert_program_is_safe(assessment: dict, plan: dict, decision) -> None:
    """Three phases of 2-5 distinct exercises plus aerobic, and no rule broken anywhere."""
    have = set(assessment.get("equipment", [])) | {"chair", "wall", "mat"}
    conditions = assessment.get("conditions", [])
    assert [p.number for p in decision.phases] == [1, 2, 3]
    for phase in decision.phases:
        ids = [item.id for item in phase.exercises]
        assert 2 <= len(ids) <= 5, (phase.number, ids)
        assert len(set(ids)) == len(ids), (phase.number, ids)
        assert phase.aerobic.exercise.category.value == "aerobic"
        for item in [*phase.exercises, phase.aerobic]:
            ex = item.exercise
            tags = {t.value for t in ex.tags}
            where = (phase.number, ex.id)
            assert {e.value for e in ex.equipment} <= have, where
            assert ex.id not in plan.get("exclude", []), where
            assert phase.number in ex.phases, where
            for condition in conditions:
                assert not tags & FORBIDDEN_BY_CONDITION[condition], (condition, *where)
            if assessment["piriformis"] == "overstretched":
                assert "piriformis_stretch" not in tags, where
            if "nerve_tensioner" in tags:
                assert assessment["irritability"] == "low" and phase.number > 1, where
            if assessment["irritability"] == "high" and phase.number == 1:
                assert not tags & {"high_load", "single_leg", "nerve_tensioner"}, where
                assert (item.sets or 1) <= 2 and (item.hold_s or 0) <= 20, where
            if "gtps" in conditions and "side_lying" in tags:
                assert assessment["side"] != "both", where
                assert ex.laterality.value == "painful_side", where
                assert ex.lying_side.value == "other", where
