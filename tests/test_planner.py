"""Selection, phases and dosing, rule by rule, as CLINICAL.md §2 states them.

Assertions are about what the program holds (tags, targets, categories), not about which
exercise the library happens to offer, so they stay true as the library grows.
"""

from __future__ import annotations

import pytest

from hepplan.errors import InputError
from hepplan.planner import plan_program

from .conftest import make_profile


def plan(library, **sections):
    decision = plan_program(make_profile(**sections), library)
    assert decision.prescribed, decision.trace
    return decision


def tags(item) -> set[str]:
    return {t.value for t in item.exercise.tags}


def targets(item) -> set[str]:
    return {t.value for t in item.exercise.targets}


def has(phase, *, category=None, target=None, tag=None) -> bool:
    return any(
        (category is None or item.category == category)
        and (target is None or target in targets(item))
        and (tag is None or tag in tags(item))
        for item in phase.exercises
    )


def every_item(decision):
    for phase in decision.phases:
        for item in phase.exercises:
            yield phase, item


# --- shape ----------------------------------------------------------------------------------------


def test_three_phases_of_two_to_five_plus_aerobic(library):
    decision = plan(library)
    assert [(p.number, p.name) for p in decision.phases] == [
        (1, "Calm things down"),
        (2, "Build strength"),
        (3, "Back to full activity"),
    ]
    for phase in decision.phases:
        assert 2 <= len(phase.exercises) <= 5
        assert phase.aerobic.category == "aerobic"
        assert phase.progress_when
        assert phase.minutes_per_day > 0


@pytest.mark.parametrize(
    ("irritability", "weeks"),
    [
        ("high", [(0, 3), (3, 8), (8, 12)]),
        ("moderate", [(0, 2), (2, 8), (8, 12)]),
        ("low", [(0, 2), (2, 8), (8, 12)]),
    ],
)
def test_phase_weeks(library, irritability, weeks):
    decision = plan(library, assessment={"irritability": irritability})
    assert [p.weeks for p in decision.phases] == weeks


def test_aerobic_builds_to_150_minutes_a_week(library):
    decision = plan(library)
    weekly = [p.aerobic.minutes * p.aerobic.days_per_week for p in decision.phases]
    assert weekly[0] < weekly[1] < weekly[2]
    assert weekly[2] >= 150


# --- findings ------------------------------------------------------------------------------------


def test_tight_piriformis_is_stretched_in_phase_1_and_kept(library):
    decision = plan(library, assessment={"piriformis": "tight"})
    assert has(decision.phases[0], tag="piriformis_stretch")
    assert any(has(p, tag="piriformis_stretch") for p in decision.phases[1:])
    assert any(line.startswith("PIR-TIGHT-STRETCH: phase 1: chose") for line in decision.trace)


def test_tight_piriformis_falls_back_to_soft_tissue_release(library):
    stretches = [ex.id for ex in library if "piriformis_stretch" in {t.value for t in ex.tags}]
    decision = plan(
        library,
        assessment={"piriformis": "tight", "equipment": ["massage_ball"]},
        plan={"exclude": stretches},
    )
    assert has(decision.phases[0], category="soft_tissue", target="piriformis")
    assert any(
        "PIR-TIGHT-STRETCH: phase 1: every" in line and "substituted" in line
        for line in decision.trace
    )


def test_overstretched_piriformis_is_strengthened_never_stretched(library):
    decision = plan(library, assessment={"piriformis": "overstretched"})
    for _, item in every_item(decision):
        assert "piriformis_stretch" not in tags(item)
    first, _, third = decision.phases
    assert has(first, category="strength", target="gluteus_medius")
    assert has(first, category="strength", target="gluteus_maximus")
    assert has(first, category="motor_control")
    assert any(
        item.category == "strength"
        and tags(item) & {"standing", "single_leg"}
        and targets(item) & {"gluteus_medius", "gluteus_maximus"}
        for item in third.exercises
    )


@pytest.mark.parametrize("muscle", ["medius", "maximus"])
@pytest.mark.parametrize(
    ("grade", "phases"), [(2, [1, 2, 3]), (3, [1, 2, 3]), (4, [2, 3]), (3.5, [2, 3])]
)
def test_weak_glutes_get_strength_work(library, muscle, grade, phases):
    decision = plan(library, assessment={"glute_strength": {muscle: grade}})
    for number in phases:
        assert has(decision.phases[number - 1], category="strength", target=f"gluteus_{muscle}"), (
            number
        )


def test_weak_glutes_start_with_the_easiest_level(library):
    decision = plan(library, assessment={"glute_strength": {"medius": 2}})
    options = [
        ex.level
        for ex in library
        if ex.category.value == "strength"
        and 1 in ex.phases
        and "gluteus_medius" in {t.value for t in ex.targets}
        and not ex.equipment
    ]
    chosen = [
        item.exercise.level
        for item in decision.phases[0].exercises
        if item.category == "strength" and "gluteus_medius" in targets(item)
    ]
    assert min(chosen) == min(options)


@pytest.mark.parametrize(
    ("level", "nerve", "later"),
    [
        ("L5", "sciatic_nerve", ["gluteus_medius", "ankle_dorsiflexors"]),
        ("S1", "sciatic_nerve", ["gluteus_maximus", "calf"]),
        ("L4", "femoral_nerve", ["quadriceps"]),
    ],
)
def test_radicular_levels(library, level, nerve, later):
    decision = plan(library, assessment={"radicular_level": level})
    assert any(
        "nerve_slider" in tags(i) and nerve in targets(i) for i in decision.phases[0].exercises
    )
    for phase in decision.phases[1:]:
        for muscle in later:
            assert has(phase, category="strength", target=muscle), (phase.number, muscle)


def test_high_irritability_keeps_phase_1_gentle(library):
    decision = plan(
        library, assessment={"irritability": "high", "radicular_level": "S1", "piriformis": "tight"}
    )
    for item in decision.phases[0].exercises:
        assert item.sets <= 2
        assert (item.hold_s or 0) <= 20
        assert not tags(item) & {"high_load", "single_leg", "nerve_tensioner"}


@pytest.mark.parametrize("irritability", ["high", "moderate"])
def test_nerve_tensioners_only_when_irritability_is_low(library, irritability):
    tensioners = [ex.id for ex in library if "nerve_tensioner" in {t.value for t in ex.tags}]
    assert tensioners
    with pytest.raises(InputError, match="TENSIONER-LOW-IRRITABILITY-ONLY"):
        plan_program(
            make_profile(
                assessment={"irritability": irritability}, plan={"include": tensioners[:1]}
            ),
            library,
        )


def test_a_tensioner_included_at_low_irritability_stays_out_of_phase_1(library):
    tensioner = next(ex for ex in library if "nerve_tensioner" in {t.value for t in ex.tags})
    decision = plan(
        library,
        assessment={"irritability": "low", "radicular_level": "L5"},
        plan={"include": [tensioner.id]},
    )
    assert tensioner.id not in [i.id for i in decision.phases[0].exercises]
    assert any(tensioner.id in [i.id for i in p.exercises] for p in decision.phases[1:])


def test_extension_preference(library):
    decision = plan(library, assessment={"directional_preference": "extension"})
    assert has(decision.phases[0], tag="lumbar_extension")


@pytest.mark.parametrize("condition", ["lumbar_stenosis", "spondylolisthesis"])
def test_extension_preference_withheld_when_a_condition_forbids_it(library, condition):
    decision = plan(
        library, assessment={"directional_preference": "extension", "conditions": [condition]}
    )
    for _, item in every_item(decision):
        assert "lumbar_extension" not in tags(item)
    assert any(line.startswith("DIR-EXTENSION: phase 1: withheld") for line in decision.trace)
    assert any(note.startswith("DIR-EXTENSION:") for note in decision.clinician_notes)


@pytest.mark.parametrize(
    "assessment", [{"directional_preference": "flexion"}, {"conditions": ["lumbar_stenosis"]}]
)
def test_flexion_preference_or_stenosis(library, assessment):
    decision = plan(library, assessment=assessment)
    assert has(decision.phases[0], tag="lumbar_flexion")


def test_stenosis_prefers_cycling_on_an_exercise_bike(library):
    decision = plan(
        library, assessment={"conditions": ["lumbar_stenosis"], "equipment": ["exercise_bike"]}
    )
    assert all("standing" not in tags(p.aerobic) for p in decision.phases)
    assert decision.phases[0].aerobic.id == "cycling"


def test_cycling_needs_an_exercise_bike(library):
    decision = plan(library, assessment={"conditions": ["lumbar_stenosis"], "equipment": []})
    assert {p.aerobic.id for p in decision.phases} == {"walking"}


def test_spondylolisthesis_has_motor_control_in_every_phase(library):
    decision = plan(library, assessment={"conditions": ["spondylolisthesis"]})
    assert all(has(p, category="motor_control") for p in decision.phases)


@pytest.mark.parametrize(
    ("condition", "forbidden"),
    [
        ("gtps", {"hip_adduction_end_range"}),
        ("hip_labral_fai", {"deep_hip_flexion_adduction"}),
        ("pregnancy", {"prone", "supine"}),
        ("osteoporosis", {"loaded_spinal_flexion", "high_impact"}),
        ("hip_osteoarthritis", {"high_impact"}),
        ("lumbar_stenosis", {"lumbar_extension"}),
        ("spondylolisthesis", {"lumbar_extension"}),
    ],
)
@pytest.mark.parametrize("piriformis", ["tight", "overstretched", "normal"])
def test_conditions_forbid_tags(library, condition, forbidden, piriformis):
    decision = plan(
        library,
        assessment={
            "conditions": [condition],
            "piriformis": piriformis,
            "directional_preference": "extension",
            "glute_strength": {"medius": 2, "maximus": 3},
        },
    )
    for _, item in [*every_item(decision), *((p, p.aerobic) for p in decision.phases)]:
        assert not tags(item) & forbidden, item.id


@pytest.mark.parametrize("side", ["left", "right"])
def test_gtps_never_lies_on_the_painful_side(library, side):
    decision = plan(
        library,
        assessment={
            "conditions": ["gtps"],
            "side": side,
            "piriformis": "overstretched",
            "glute_strength": {"medius": 2},
        },
    )
    for _, item in every_item(decision):
        if "side_lying" in tags(item):
            assert item.side == side
            assert item.exercise.lying_side.value == "other"


def test_gtps_on_both_sides_has_no_side_lying_work(library):
    decision = plan(
        library,
        assessment={
            "conditions": ["gtps"],
            "side": "both",
            "piriformis": "overstretched",
            "glute_strength": {"medius": 2},
        },
    )
    for _, item in every_item(decision):
        assert "side_lying" not in tags(item)


@pytest.mark.parametrize("equipment", [[], ["resistance_band"], ["step"]])
def test_never_equipment_the_patient_lacks(library, equipment):
    decision = plan(
        library,
        assessment={
            "equipment": equipment,
            "piriformis": "overstretched",
            "glute_strength": {"medius": 4, "maximus": 4},
        },
    )
    have = set(equipment) | {"chair", "wall", "mat"}
    for _, item in every_item(decision):
        assert {e.value for e in item.exercise.equipment} <= have


# --- clinician choices ----------------------------------------------------------------------------


def test_include_adds_and_exclude_removes(library):
    base = plan(library, assessment={"piriformis": "overstretched"})
    first_choice = base.phases[0].exercises[0].id
    decision = plan(
        library,
        assessment={"piriformis": "overstretched"},
        plan={"include": ["bird_dog"], "exclude": [first_choice]},
    )
    ids = [item.id for _, item in every_item(decision)]
    assert "bird_dog" in ids
    assert first_choice not in ids
    assert any(line.startswith("PLAN-INCLUDE: bird_dog added") for line in decision.trace)


@pytest.mark.parametrize(
    ("assessment", "include", "rule"),
    [
        ({"piriformis": "overstretched"}, "supine_figure_4_stretch", "PIR-OVER-NO-STRETCH"),
        ({"conditions": ["pregnancy"]}, "bridge", "PREGNANCY-NO-PRONE-SUPINE"),
        ({"conditions": ["lumbar_stenosis"]}, "prone_press_up", "STENOSIS-NO-EXTENSION"),
        ({"equipment": []}, "band_side_steps", "EQUIPMENT"),
    ],
)
def test_an_include_never_outranks_a_safety_rule(library, assessment, include, rule):
    with pytest.raises(InputError) as info:
        plan_program(make_profile(assessment=assessment, plan={"include": [include]}), library)
    [problem] = info.value.problems
    assert f"plan.include[0]: {include!r} cannot be prescribed" in problem
    assert f"rule {rule}" in problem


# --- dose and side --------------------------------------------------------------------------------


def test_side_follows_the_painful_side(library):
    decision = plan(library, assessment={"side": "right", "piriformis": "overstretched"})
    sides = {
        item.side
        for _, item in every_item(decision)
        if item.exercise.laterality.value == "painful_side"
    }
    assert sides == {"right"}


def test_dose_follows_irritability(library):
    low = plan(library, assessment={"irritability": "low", "piriformis": "overstretched"})
    high = plan(library, assessment={"irritability": "high", "piriformis": "overstretched"})
    common = {i.id for i in low.phases[0].exercises} & {i.id for i in high.phases[0].exercises}
    assert common
    for ex_id in common:
        lo = next(i for i in low.phases[0].exercises if i.id == ex_id)
        hi = next(i for i in high.phases[0].exercises if i.id == ex_id)
        assert (hi.sets, hi.reps or 0) <= (lo.sets, lo.reps or 0)


def test_every_choice_is_traced_with_a_rule_id(library):
    decision = plan(
        library,
        assessment={
            "piriformis": "tight",
            "radicular_level": "S1",
            "glute_strength": {"maximus": 3},
        },
    )
    for _, item in every_item(decision):
        assert item.rules
        assert any(
            item.id in line and line.split(":")[0] in item.rules for line in decision.trace
        ), item.id


def test_the_plan_is_the_same_every_time(library):
    sections = dict(
        assessment={
            "piriformis": "tight",
            "radicular_level": "L4",
            "conditions": ["hip_osteoarthritis"],
        }
    )
    assert plan(library, **sections).to_json() == plan(library, **sections).to_json()


def test_excluding_every_option_for_a_required_rule_is_an_input_error(library):
    sliders = [
        ex.id
        for ex in library
        if "nerve_slider" in {t.value for t in ex.tags}
        and "sciatic_nerve" in {t.value for t in ex.targets}
    ]
    with pytest.raises(InputError) as info:
        plan_program(
            make_profile(assessment={"radicular_level": "S1"}, plan={"exclude": sliders}), library
        )
    [problem] = info.value.problems
    assert problem.startswith("profile: plan.exclude: excluding ")
    assert "leaves no exercise for rule RAD-SCIATIC-SLIDER (radicular L5 or S1) in phase 1" in (
        problem
    )


def test_excluding_every_aerobic_exercise_is_an_input_error(library):
    with pytest.raises(InputError) as info:
        plan_program(
            make_profile(
                assessment={"equipment": ["exercise_bike"]},
                plan={"exclude": ["walking", "cycling"]},
            ),
            library,
        )
    assert info.value.problems == [
        "profile: plan.exclude: excluding cycling, walking leaves no aerobic exercise (rule "
        "AEROBIC-EVERY-PHASE: walking or cycling in every phase); keep at least one of them"
    ]
