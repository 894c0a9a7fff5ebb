"""Safety invariants over generated profiles, stated independently of the rule tables.

Run more examples locally with ``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hepplan.errors import InputError
from hepplan.planner import plan_program
from hepplan.profile import parse_profile

from .conftest import RED_FLAG_KEYS
from .safety import CONDITIONS, EQUIPMENT, assert_program_is_safe

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "thorough", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 10_000)), deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

EMERGENCY = {"bladder_dysfunction", "bowel_bladder_incontinence", "saddle_anesthesia",
             "bilateral_leg_symptoms", "progressive_weakness", "fever_or_systemically_unwell",
             "major_trauma"}
URGENT = {"sexual_dysfunction", "cancer_history", "unexplained_weight_loss", "infection_risk",
          "fracture_risk"}

grades = st.one_of(st.none(), st.integers(0, 10).map(lambda n: n / 2))


@st.composite
def profiles(draw, library_ids=()):
    answers = {}
    for key in RED_FLAG_KEYS:
        answer = draw(st.sampled_from(["no"] * 8 + ["yes", "unsure", None]))
        if answer is not None:
            answers[key] = answer
    positive = [k for k, v in answers.items() if v in ("yes", "unsure") and k not in EMERGENCY]
    cleared = draw(st.lists(st.sampled_from(positive), unique=True)) if positive else []
    ids = sorted(library_ids)
    include = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else []
    exclude = draw(st.lists(st.sampled_from([i for i in ids if i not in include]),
                            max_size=4, unique=True)) if ids else []
    return {
        "format": 1,
        "patient": {"id": "H-1", "name": "Generated Patient",
                    "age": draw(st.one_of(st.none(), st.integers(0, 120)))},
        "assessment": {
            "date": "2026-11-20",
            "clinician": "Test Clinician",
            "side": draw(st.sampled_from(["left", "right", "both"])),
            "piriformis": draw(st.sampled_from(["tight", "overstretched", "normal",
                                                "not_assessed"])),
            "glute_strength": {"medius": draw(grades), "maximus": draw(grades)},
            "radicular_level": draw(st.sampled_from(["none", "L4", "L5", "S1"])),
            "irritability": draw(st.sampled_from(["high", "moderate", "low"])),
            "directional_preference": draw(st.sampled_from(["none", "extension", "flexion"])),
            "conditions": draw(st.lists(st.sampled_from(CONDITIONS), max_size=3, unique=True)),
            "equipment": draw(st.lists(st.sampled_from(EQUIPMENT), unique=True)),
        },
        "red_flags": answers,
        "medical_clearance": [
            {"flag": k, "cleared_by": "Dr. Test", "date": "2026-11-01"} for k in cleared
        ],
        "plan": {"include": include, "exclude": exclude},
    }


def decide(data, library):
    profile = parse_profile(data, "generated.yaml")
    try:
        return profile, plan_program(profile, library)
    except InputError as exc:  # only a clinician's include or exclude that a rule cannot honour
        assert all(": plan.include" in p or ": plan.exclude" in p for p in exc.problems), (
            exc.problems)
        return profile, None


def library_ids():
    from hepplan.library import load_library

    return [ex.id for ex in load_library()]


@given(profiles(library_ids()))
def test_uncleared_urgent_or_emergency_answers_are_always_refused(library, data):
    profile, decision = decide(data, library)
    cleared = {entry["flag"] for entry in data["medical_clearance"]}
    serious = {k for k, v in data["red_flags"].items()
               if v in ("yes", "unsure") and (k in EMERGENCY or k in URGENT) and k not in cleared}
    if decision is None:
        assert not serious  # an include error can only come from planning, after screening
        return
    if serious:
        assert decision.status == "refused"
        assert decision.phases == ()
        assert decision.disposition in ("urgent", "emergency")


@given(profiles(library_ids()))
def test_missing_answers_never_give_a_program(library, data):
    profile, decision = decide(data, library)
    if decision is not None and len(data["red_flags"]) < len(RED_FLAG_KEYS):
        assert decision.status in ("incomplete", "refused")
        assert decision.phases == ()


@given(profiles(library_ids()))
def test_programs_obey_every_safety_rule(library, data):
    profile, decision = decide(data, library)
    if decision is None or not decision.prescribed:
        return
    assert_program_is_safe(data["assessment"], data["plan"], decision)


@given(profiles(library_ids()))
def test_same_input_same_decision(library, data):
    first = decide(data, library)[1]
    second = decide(data, library)[1]
    assert (first.to_json() if first else None) == (second.to_json() if second else None)
