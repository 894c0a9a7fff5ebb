"""Safety invariants over generated profiles, stated independently of the rule tables.

Run more examples locally with
``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hepplan.domain.clinic import Clinic
from hepplan.domain.planner import plan_program
from hepplan.domain.profile import parse_profile
from hepplan.domain.redflags import BY_KEY
from hepplan.errors import InputError

from .conftest import RED_FLAG_KEYS
from .safety import CONDITIONS, EQUIPMENT, assert_program_is_safe

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 10_000)),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

EMERGENCY = {
    "bladder_dysfunction",
    "bowel_bladder_incontinence",
    "saddle_anesthesia",
    "bilateral_leg_symptoms",
    "progressive_weakness",
    "fever_or_systemically_unwell",
    "major_trauma",
}
URGENT = {
    "sexual_dysfunction",
    "cancer_history",
    "unexplained_weight_loss",
    "infection_risk",
    "fracture_risk",
}

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
    side = draw(st.sampled_from(["left", "right", "both"]))
    level = draw(st.sampled_from(["none", "L4", "L5", "S1"]))
    radicular = {}
    if level != "none" and (side == "both" or draw(st.booleans())):
        within = ["left", "right", "both"] if side == "both" else [side]
        radicular["radicular_side"] = draw(st.sampled_from(within))
    ids = sorted(library_ids)
    include = draw(st.lists(st.sampled_from(ids), max_size=2, unique=True)) if ids else []
    exclude = (
        draw(
            st.lists(st.sampled_from([i for i in ids if i not in include]), max_size=4, unique=True)
        )
        if ids
        else []
    )
    return {
        "format": 1,
        "patient": {
            "id": "H-1",
            "name": "Generated Patient",
            "age": draw(st.one_of(st.none(), st.integers(0, 120))),
        },
        "assessment": {
            "date": "2026-11-20",
            "clinician": "Test Clinician",
            "side": side,
            "piriformis": draw(
                st.sampled_from(["tight", "overstretched", "normal", "not_assessed"])
            ),
            "glute_strength": {"medius": draw(grades), "maximus": draw(grades)},
            "radicular_level": level,
            **radicular,
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
            exc.problems
        )
        return profile, None


def library_ids():
    from hepplan.io.library import load_library

    return [ex.id for ex in load_library()]


def serious_answers(data) -> set[str]:
    """Uncleared yes/unsure answers at urgent or emergency level (before combination rules)."""
    cleared = {entry["flag"] for entry in data["medical_clearance"]}
    return {
        k
        for k, v in data["red_flags"].items()
        if v in ("yes", "unsure") and (k in EMERGENCY or k in URGENT) and k not in cleared
    }


def complete(data) -> bool:
    return len(data["red_flags"]) == len(RED_FLAG_KEYS)


def positive(data, key) -> bool:
    return data["red_flags"].get(key) in ("yes", "unsure")


def both_legs(data) -> bool:
    """Radicular signs in both legs (rule 5)."""
    return data["assessment"].get("radicular_side") == "both"


def nerve_signs(data) -> bool:
    """Any sign of nerve involvement (rule 1): a radicular level, an emergency-level answer,
    or radicular signs in both legs."""
    return (
        data["assessment"]["radicular_level"] != "none"
        or any(positive(data, key) for key in EMERGENCY)
        or both_legs(data)
    )


def known_emergency(data) -> bool:
    """An emergency from the answers given, whatever is missing and whatever is cleared."""
    return (
        any(positive(data, key) for key in EMERGENCY)
        or both_legs(data)
        or (positive(data, "cancer_history") and nerve_signs(data))
    )


def unasked(data) -> set[str]:
    return set(RED_FLAG_KEYS) - set(data["red_flags"])


# 1. answers given already urgent or emergency → refused with a redirect, whatever is missing
@given(profiles(library_ids()))
def test_answers_given_already_urgent_or_emergency_are_refused_whatever_is_missing(library, data):
    _profile, decision = decide(data, library)
    if decision is None:
        assert not serious_answers(data) and not known_emergency(data)
        return
    if serious_answers(data) or known_emergency(data):
        assert decision.status == "refused"
        assert decision.phases == ()
        assert decision.disposition.word in ("urgent", "emergency")
        assert set(decision.missing) == unasked(data)
    if known_emergency(data):
        assert decision.disposition.word == "emergency"


# 2. a clearance never lowers rule 1: cancer with any sign of nerve involvement is an emergency
@given(profiles(library_ids()).filter(nerve_signs))
def test_a_clearance_never_lowers_rule_1(library, data):
    if not nerve_signs(data):
        return
    data["red_flags"]["cancer_history"] = "yes"
    clearances = [entry for entry in data["medical_clearance"] if entry["flag"] != "cancer_history"]
    cleared = {"flag": "cancer_history", "cleared_by": "Dr. Test", "date": "2026-11-01"}
    for with_clearance in (False, True):
        data["medical_clearance"] = clearances + [cleared] * with_clearance
        _profile, decision = decide(data, library)
        assert decision.status == "refused"
        assert decision.disposition.word == "emergency"
        assert "cancer_history" in decision.triggered


@settings(max_examples=max(20, settings().max_examples // 10))
@given(profiles(library_ids()).filter(lambda d: serious_answers(d) or known_emergency(d)))
def test_a_refused_decision_can_only_become_a_redirect(library, data):
    from hepplan.app import Outcome, render
    from hepplan.render.pdf import render_handout

    profile, decision = decide(data, library)
    try:
        render_handout(profile, decision, Clinic())
    except ValueError:
        pass
    else:
        raise AssertionError("a refused decision became a handout")
    text = pdf_text(render(Outcome(profile, decision), Clinic()))
    assert ("Get medical help now" in text) or ("See a doctor within 24 hours" in text)
    assert "no exercise program was given" in text
    for ex in library:
        assert ex.name not in text, ex.id
    for key in unasked(data):  # the doctor is told what was not asked, in its words
        assert BY_KEY[key].question in text, key


# 3. a missing answer never gives a program: refused with a redirect when the answers given
# already need medical care, else incomplete with nothing written
@given(profiles(library_ids()).filter(lambda d: not complete(d)))
def test_missing_answers_never_give_a_program(library, data):
    from hepplan.app import Outcome, render

    profile, decision = decide(data, library)
    if decision is None or complete(data):
        return
    assert decision.status in ("refused", "incomplete")
    assert decision.phases == ()
    assert set(decision.missing) == unasked(data)
    assert (decision.status == "incomplete") == (decision.disposition.word in ("none", "routine"))
    document = render(Outcome(profile, decision), Clinic())
    assert (document is None) == (decision.status == "incomplete")


@settings(max_examples=max(10, settings().max_examples // 20))
@given(profiles(library_ids()).filter(lambda d: not complete(d)))
def test_plan_writes_a_redirect_or_nothing_for_an_unfinished_screening(library, data):
    from click.testing import CliRunner

    from hepplan.cli import cli

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "profile.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        result = CliRunner().invoke(cli, ["plan", str(path), "-o", str(Path(folder) / "o.pdf")])
        if result.exit_code == 2:  # only a plan.include that a rule forbids
            assert "plan.include" in result.stderr or "plan.exclude" in result.stderr
            return
        written = sorted(p.name for p in Path(folder).iterdir())
        if serious_answers(data) or known_emergency(data):
            assert result.exit_code == 3, result.output
        assert result.exit_code in (3, 4), result.output
        # A refusal: the redirect and, beside it, the clinician record; otherwise nothing.
        refused = sorted(["o.pdf", f"{data['patient']['id']}.record.pdf", "profile.json"])
        assert written == (refused if result.exit_code == 3 else ["profile.json"])


# 3 and 4. no forbidden tag whatever the includes and excludes; only equipment the patient
# has; three phases of 2-5 exercises plus aerobic
@given(profiles(library_ids()))
def test_programs_obey_every_safety_rule(library, data):
    _profile, decision = decide(data, library)
    if decision is None or not decision.prescribed:
        return
    assert_program_is_safe(data["assessment"], data["plan"], decision)


# 5. same input → same decision and the same bytes
@given(profiles(library_ids()))
def test_same_input_same_decision(library, data):
    first = decide(data, library)[1]
    second = decide(data, library)[1]
    assert (first.to_json() if first else None) == (second.to_json() if second else None)


@settings(max_examples=max(10, settings().max_examples // 20))
@given(profiles(library_ids()).filter(complete))
def test_same_input_same_bytes(library, data):
    from hepplan.app import Outcome, render

    profile, decision = decide(data, library)
    if decision is None:
        return
    first = render(Outcome(profile, decision), Clinic())
    again = decide(data, library)
    assert render(Outcome(*again), Clinic()) == first


# The properties can fail: break one rule and they must notice.


def must_fail(prop, library) -> None:
    """Run a property's body afresh and expect it to find a counterexample. Derandomised, so a
    mutation check gives the same verdict on every run and machine (no luck in CI)."""
    body = prop.hypothesis.inner_test
    fresh = settings(report_multiple_bugs=False, database=None, derandomize=True)(
        given(profiles(library_ids()))(body)
    )
    with warnings.catch_warnings(), pytest.raises(AssertionError):
        warnings.simplefilter("ignore")  # the falsifying example's long repr is expected here
        fresh(library)


def test_the_properties_catch_a_screening_rule_that_stops_counting_unsure(library, monkeypatch):
    from hepplan.domain.profile import Answer, RedFlags

    monkeypatch.setattr(RedFlags, "positive", lambda self, key: self.answer(key) is Answer.YES)
    must_fail(
        test_answers_given_already_urgent_or_emergency_are_refused_whatever_is_missing, library
    )


def test_the_properties_catch_emergency_signs_demoted(library, monkeypatch):
    import dataclasses

    from hepplan.domain import redflags

    emergency = redflags.Level.EMERGENCY
    weakened = tuple(
        dataclasses.replace(f, level=redflags.Level.ROUTINE) if f.level is emergency else f
        for f in redflags.RED_FLAGS
    )
    monkeypatch.setattr(redflags, "RED_FLAGS", weakened)
    must_fail(
        test_answers_given_already_urgent_or_emergency_are_refused_whatever_is_missing, library
    )


def test_the_properties_catch_a_program_despite_a_missing_answer(library, monkeypatch):
    from hepplan.domain.profile import Profile

    monkeypatch.setattr(Profile, "missing", property(lambda self: ()))
    must_fail(test_missing_answers_never_give_a_program, library)


def test_the_properties_catch_a_known_emergency_held_back_by_a_missing_answer(library, monkeypatch):
    import dataclasses

    from hepplan.domain import planner, screening

    def waits_for_every_answer(profile):
        result = screening.screen(profile)
        return dataclasses.replace(result, status="incomplete") if result.missing else result

    monkeypatch.setattr(planner, "screen", waits_for_every_answer)
    must_fail(
        test_answers_given_already_urgent_or_emergency_are_refused_whatever_is_missing, library
    )


def test_the_properties_catch_a_clearance_that_lowers_rule_1(library, monkeypatch):
    from hepplan.domain import screening

    honoured = screening._cancer_with_nerve_signs

    def switched_off_by_clearance(count):
        if "cancer_history" not in count.profile.cleared:
            honoured(count)

    monkeypatch.setattr(screening, "_cancer_with_nerve_signs", switched_off_by_clearance)
    must_fail(test_a_clearance_never_lowers_rule_1, library)


def test_the_properties_catch_a_forbidden_exercise(library, monkeypatch):
    from hepplan.domain import rules

    monkeypatch.setattr(rules, "FORBID", ())
    must_fail(test_programs_obey_every_safety_rule, library)


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )
