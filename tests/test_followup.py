"""Follow-up visits through ``hepplan plan --json`` (CLINICAL.md §4, CONTRACT.md §4-§5): each
progress rule as a table of cases, the program it starts (``start_step``, earlier steps done,
weeks from the visit), and property tests that a follow-up never skips screening and never moves
on past a criterion it did not meet."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from hepplan.cli import cli
from hepplan.domain.planner import plan_program
from hepplan.domain.profile import parse_profile
from hepplan.domain.redflags import BY_KEY, Level
from hepplan.domain.vocab import Irritability
from hepplan.io.clinic import load_clinic
from hepplan.io.profiles import load_profile
from hepplan.render.record import render_record

from .conftest import EXAMPLES, RED_FLAG_KEYS, profile_data

#: Every "move on when" criterion met, at step 1.
WELL = {
    "step_reached": 1,
    "weeks_on_step": 2,
    "days_done_percent": 80,
    "pain_during": 2,
    "next_morning": "usual",
    "new_nerve_signs": "no",
}
VISIT = "2026-11-20"  # the assessment date of conftest's profiles
#: A moderate-irritability program: weeks 0-2, 2-8, 8-12 at a first visit.
FIRST_VISIT_WEEKS = [[0, 2], [2, 8], [8, 12]]
ADVANCED = "PROG-ADVANCE: every move-on criterion met"


def plan_json(runner, write_profile, tmp_path, follow_up=None, outcomes=None, **sections):
    data = profile_data(**sections)
    if follow_up is not None:
        data["follow_up"] = {**WELL, **follow_up}
    if outcomes:
        data["outcomes"] = outcomes
    path = write_profile(data)
    out = tmp_path / "out.pdf"
    result = runner.invoke(cli, ["plan", str(path), "--json", "-o", str(out)])
    return result, (json.loads(result.stdout) if result.stdout.startswith("{") else None)


def weeks(decision) -> list[list[int]]:
    return [phase["weeks"] for phase in decision["phases"]]


def done(decision) -> list[bool]:
    return [phase["done"] for phase in decision["phases"]]


def exercises(phase) -> list[tuple]:
    return [(e["id"], e["sets"], e["reps"], e["hold_s"], e["days_per_week"]) for e in phase]


# --- each rule, as a table of cases --------------------------------------------------------------

STARTS = {
    # start step → (done flags, weeks of each phase counted from the visit)
    1: ([False, False, False], FIRST_VISIT_WEEKS),
    2: ([True, False, False], [[0, 2], [0, 6], [6, 10]]),
    3: ([True, True, False], [[0, 2], [2, 8], [0, 4]]),
}


@pytest.mark.parametrize(
    ("changes", "word", "start", "reasons"),
    [
        ({}, "advance", 2, [ADVANCED]),
        ({"step_reached": 2}, "advance", 3, [ADVANCED]),
        ({"pain_during": 3, "days_done_percent": 70, "weeks_on_step": 1}, "advance", 2, [ADVANCED]),
        (
            {"step_reached": 3},
            "maintain",
            3,
            ["PROG-MAINTAIN: step 3 done, every move-on criterion met"],
        ),
        # PROG-HOLD: each "move on when" criterion unmet on its own
        (
            {"pain_during": 4},
            "hold",
            1,
            ["PROG-HOLD: pain during the exercises 4/10 (move on at 3 or less)"],
        ),
        (
            {"pain_during": 5, "step_reached": 2},
            "hold",
            2,
            ["PROG-HOLD: pain during the exercises 5/10 (move on at 3 or less)"],
        ),
        (
            {"next_morning": "worse"},
            "hold",
            1,
            ["PROG-HOLD: symptoms not back to usual by the next morning"],
        ),
        (
            {"days_done_percent": 69, "step_reached": 2},
            "hold",
            2,
            ["PROG-HOLD: 69% of days done (move on at 70% or more)"],
        ),
        ({"weeks_on_step": 0}, "hold", 1, ["PROG-HOLD: 0 weeks on the step (at least 1)"]),
        (
            {"step_reached": 3, "pain_during": 4},
            "hold",
            3,
            ["PROG-HOLD: pain during the exercises 4/10 (move on at 3 or less)"],
        ),
        # PROG-REGRESS: each trigger on its own; step 1 stays 1
        (
            {"new_nerve_signs": "yes", "step_reached": 2},
            "regress",
            1,
            ["PROG-REGRESS: new or spreading numbness, tingling or weakness (yes)"],
        ),
        (
            {"new_nerve_signs": "unsure", "step_reached": 3},
            "regress",
            2,
            ["PROG-REGRESS: new or spreading numbness, tingling or weakness (unsure)"],
        ),
        (
            {"pain_during": 6, "step_reached": 3},
            "regress",
            2,
            ["PROG-REGRESS: pain during the exercises 6/10 (above 5)"],
        ),
        (
            {"pain_during": 4, "next_morning": "worse", "step_reached": 2},
            "regress",
            1,
            ["PROG-REGRESS: worse the next morning with pain during 4/10 (above 3)"],
        ),
        (
            {"pain_during": 9},
            "regress",
            1,
            ["PROG-REGRESS: pain during the exercises 9/10 (above 5)"],
        ),
    ],
)
def test_each_progress_rule(runner, write_profile, tmp_path, changes, word, start, reasons):
    result, decision = plan_json(runner, write_profile, tmp_path, changes)
    assert result.exit_code == 0, result.output
    progress = decision["progress"]
    assert progress["decision"] == word
    assert progress["from_step"] == {**WELL, **changes}["step_reached"]
    assert progress["to_step"] == start
    assert progress["reasons"] == reasons
    assert decision["start_step"] == start
    assert (done(decision), weeks(decision)) == STARTS[start]
    rule = reasons[0].split(":")[0]
    assert reasons[0] in decision["trace"]
    assert sum(line.startswith(f"{rule}: ") for line in decision["trace"]) == len(reasons) + 1
    assert ("reexamine_nerve" in progress["flags"]) is (word == "regress")
    assert progress["outcomes"] == {}


def test_a_first_visit_has_no_progress_and_starts_at_step_1(runner, write_profile, tmp_path):
    result, decision = plan_json(runner, write_profile, tmp_path)
    assert result.exit_code == 0, result.output
    assert decision["progress"] is None
    assert decision["start_step"] == 1
    assert (done(decision), weeks(decision)) == STARTS[1]
    assert not any(line.startswith("PROG-") for line in decision["trace"])
    assert len(decision["content_digest"]) == 16


def test_high_irritability_weeks_count_from_the_visit(runner, write_profile, tmp_path):
    """Phase 1 lasts 3 weeks when irritability is high: step 2 runs weeks 3-8 of a first
    plan, so from the visit 0-5."""
    found = {"irritability": "high"}
    result, decision = plan_json(runner, write_profile, tmp_path, {}, assessment=found)
    assert result.exit_code == 0, result.output
    assert weeks(decision) == [[0, 3], [0, 5], [5, 9]]
    assert done(decision) == [True, False, False]


def test_an_advance_starts_the_next_step_of_the_same_program(runner, write_profile, tmp_path):
    _, first = plan_json(runner, write_profile, tmp_path)
    _, later = plan_json(runner, write_profile, tmp_path, {})
    assert [exercises(p["exercises"]) for p in later["phases"]] == [
        exercises(p["exercises"]) for p in first["phases"]
    ]
    assert "PROG-ADVANCE: the program starts at step 2 today; step 1 done" in later["trace"]


def test_a_hold_repeats_the_step_with_the_same_exercises(runner, write_profile, tmp_path):
    _, first = plan_json(runner, write_profile, tmp_path)
    _, held = plan_json(runner, write_profile, tmp_path, {"step_reached": 2, "pain_during": 4})
    assert exercises(held["phases"][1]["exercises"]) == exercises(first["phases"][1]["exercises"])
    assert held["phases"][1]["aerobic"] == first["phases"][1]["aerobic"]
    assert (
        "PROG-HOLD: step 2 again from today for its 6 weeks, its exercises planned as before "
        "from today's findings" in held["trace"]
    )


def test_a_step_back_is_dosed_as_for_high_irritability(runner, write_profile, tmp_path, library):
    changes = {"step_reached": 3, "new_nerve_signs": "yes"}
    _, first = plan_json(runner, write_profile, tmp_path)
    _, back = plan_json(runner, write_profile, tmp_path, changes)
    assert back["start_step"] == 2
    step = back["phases"][1]["exercises"]
    assert [e["id"] for e in step] == [e["id"] for e in first["phases"][1]["exercises"]]
    for item in step:
        dose = library[item["id"]].dosing.for_irritability(Irritability.HIGH)
        assert item["sets"] == min(dose.sets, 2)
        assert item["reps"] == dose.reps
        assert item["hold_s"] == (min(dose.hold_s, 20) if dose.hold_s else None)
    # the later step keeps the patient's own dose
    assert back["phases"][2]["exercises"] == first["phases"][2]["exercises"]
    assert (
        "PROG-REGRESS: back to step 2 from today, dosed as for high irritability; re-examine "
        "the nerve" in back["trace"]
    )
    assert "reexamine_nerve" in back["progress"]["flags"]


def test_maintain_is_step_3_two_or_three_days_a_week_with_150_minutes_of_walking(
    runner, write_profile, tmp_path
):
    _, first = plan_json(runner, write_profile, tmp_path)
    _, kept = plan_json(runner, write_profile, tmp_path, {"step_reached": 3})
    phase = kept["phases"][2]
    assert phase["name"] == "Keep it up"
    assert [e["id"] for e in phase["exercises"]] == [
        e["id"] for e in first["phases"][2]["exercises"]
    ]
    assert {e["days_per_week"] for e in phase["exercises"]} <= {2, 3}
    walk = phase["aerobic"]
    assert walk["minutes"] * walk["days_per_week"] >= 150
    assert (walk["minutes"] - 5) * walk["days_per_week"] < 150
    assert any(line.startswith("PROG-MAINTAIN: keep-it-up program") for line in kept["trace"])


# --- the outcome measures -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("measure", "first", "last", "reason"),
    [
        ("nprs", 3, 5, "PROG-HOLD: Pain now (NPRS, 0-10) worse by 2 (its MCID is 2)"),
        (
            "odi",
            20,
            30,
            "PROG-HOLD: Oswestry Disability Index (0-100) worse by 10 (its MCID is 10)",
        ),
        (
            "psfs",
            {"walking the dog": 6},
            {"walking the dog": 4},
            "PROG-HOLD: Patient-Specific Functional Scale, mean (0-10) worse by 2 (its MCID is 2)",
        ),
    ],
)
@pytest.mark.parametrize("step", [1, 3])
def test_a_measure_worse_by_its_mcid_blocks_moving_on(
    runner, write_profile, tmp_path, measure, first, last, reason, step
):
    outcomes = [{"date": "2026-11-06", measure: first}, {"date": VISIT, measure: last}]
    result, decision = plan_json(runner, write_profile, tmp_path, {"step_reached": step}, outcomes)
    assert result.exit_code == 0, result.output
    progress = decision["progress"]
    assert (progress["decision"], progress["to_step"], decision["start_step"]) == (
        "hold",
        step,
        step,
    )
    assert progress["reasons"] == [reason]
    assert progress["flags"] == ["review_diagnosis"]
    change = progress["outcomes"][measure]
    assert change["meaningful"] is True
    assert change["mcid"] == {"nprs": 2, "odi": 10, "psfs": 2}[measure]


def test_a_measure_worse_by_less_than_its_mcid_lets_the_patient_move_on(
    runner, write_profile, tmp_path
):
    outcomes = [{"date": "2026-11-06", "nprs": 3}, {"date": VISIT, "nprs": 4}]
    _, decision = plan_json(runner, write_profile, tmp_path, {}, outcomes)
    assert decision["progress"]["decision"] == "advance"
    change = decision["progress"]["outcomes"]["nprs"]
    assert {k: change[k] for k in ("first", "last", "change", "mcid", "meaningful")} == {
        "first": 3.0,
        "last": 4.0,
        "change": 1.0,
        "mcid": 2,
        "meaningful": False,
    }


@pytest.mark.parametrize(
    ("first_visit", "now", "flags"),
    [
        ("2026-10-09", 5, ["review_plan"]),  # 6 weeks, pain 6 → 5: no meaningful change
        ("2026-10-10", 5, []),  # 1 day short of 6 weeks: too early to say
        ("2026-10-09", 4, []),  # 6 weeks, 6 → 4: better by the MCID
        ("2026-09-01", 6, ["review_plan"]),
    ],
)
def test_no_meaningful_change_after_six_weeks_asks_to_review_the_plan(
    runner, write_profile, tmp_path, first_visit, now, flags
):
    outcomes = [{"date": first_visit, "nprs": 6}, {"date": VISIT, "nprs": now}]
    _, decision = plan_json(runner, write_profile, tmp_path, {}, outcomes)
    assert decision["progress"]["flags"] == flags
    assert decision["progress"]["decision"] == "advance"  # a flag for the record, not a hold


def test_the_progress_block_has_the_shape_of_the_contract(runner, tmp_path):
    out = tmp_path / "v3.pdf"
    result = runner.invoke(
        cli, ["plan", str(EXAMPLES / "follow-up-3.yaml"), "--json", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    progress = decision["progress"]
    assert list(progress) == ["decision", "from_step", "to_step", "reasons", "outcomes", "flags"]
    assert progress["decision"] == "hold"
    assert progress["reasons"] == ["PROG-HOLD: 62% of days done (move on at 70% or more)"]
    assert progress["outcomes"]["nprs"]["first"] == 6.0
    assert progress["outcomes"]["nprs"]["last"] == 3.0
    assert progress["outcomes"]["nprs"]["change"] == -3.0
    assert progress["outcomes"]["nprs"]["meaningful"] is True
    assert progress["outcomes"]["odi"]["change"] == -14.0
    assert decision["start_step"] == 2
    assert (done(decision), weeks(decision)) == STARTS[2]
    assert len(PdfReader(out).pages) >= 4


# --- screening first, always ----------------------------------------------------------------------


def test_a_refused_follow_up_gets_no_progress(runner, write_profile, tmp_path):
    result, decision = plan_json(
        runner, write_profile, tmp_path, {}, red_flags={"saddle_anesthesia": "yes"}
    )
    assert result.exit_code == 3
    assert (decision["status"], decision["phases"], decision["progress"]) == ("refused", [], None)
    assert decision["start_step"] == 1
    assert not any(line.startswith("PROG-") for line in decision["trace"])


def test_an_incomplete_follow_up_gets_no_progress(runner, write_profile, tmp_path):
    data = profile_data()
    del data["red_flags"]["fracture_risk"]
    data["follow_up"] = dict(WELL)
    path = write_profile(data)
    result = runner.invoke(cli, ["plan", str(path), "--json", "-o", str(tmp_path / "o.pdf")])
    assert result.exit_code == 4
    decision = json.loads(result.stdout)
    assert (decision["status"], decision["phases"], decision["progress"]) == (
        "incomplete",
        [],
        None,
    )
    assert not (tmp_path / "o.pdf").exists()


#: Every valid follow-up, with the thresholds' edges drawn often.
follow_ups = st.fixed_dictionaries(
    {
        "step_reached": st.integers(1, 3),
        "weeks_on_step": st.one_of(st.sampled_from([0, 1]), st.integers(0, 52)),
        "days_done_percent": st.one_of(st.sampled_from([69, 70]), st.integers(0, 100)),
        "pain_during": st.one_of(st.sampled_from([3, 4, 5, 6]), st.integers(0, 10)),
        "next_morning": st.sampled_from(["usual", "usual", "worse"]),
        "new_nerve_signs": st.sampled_from(["no", "no", "no", "yes", "unsure"]),
    }
)
answers = st.sampled_from(["no", "yes", "unsure", None])
PROPERTY = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def serious(flags: dict) -> bool:
    return any(
        answer in ("yes", "unsure") and BY_KEY[key].level >= Level.URGENT
        for key, answer in flags.items()
    )


@PROPERTY
@given(follow_up=follow_ups, flags=st.fixed_dictionaries({k: answers for k in RED_FLAG_KEYS}))
def test_a_follow_up_never_skips_screening(library, follow_up, flags):
    given_flags = {key: answer for key, answer in flags.items() if answer is not None}
    if not serious(flags) and len(given_flags) == len(flags):
        return  # only a routine concern, or none: a program may follow (tested below)
    data = profile_data(follow_up=follow_up)
    data["red_flags"] = given_flags
    decision = plan_program(parse_profile(data, "p.yaml"), library)
    assert decision.status.value in ("refused", "incomplete")
    if serious(flags):
        assert decision.status.value == "refused"
    assert decision.phases == ()
    assert decision.progress is None
    assert decision.start_step == 1
    assert json.loads(decision.to_json())["progress"] is None


outcome_values = st.fixed_dictionaries(
    {},
    optional={
        "nprs": st.integers(0, 10),
        "odi": st.integers(0, 100),
        "psfs": st.dictionaries(
            st.sampled_from(["walking", "sitting", "stairs"]), st.integers(0, 10), min_size=1
        ),
    },
)


def unmet(follow_up: dict, progress) -> list[str]:
    """The move-on criteria this visit did not meet, read from the answers and the measures."""
    worse = [
        key
        for key, change in progress.outcomes.items()
        if change.meaningful and change.direction == "worse"
    ]
    return [
        *(["pain"] if follow_up["pain_during"] > 3 else []),
        *(["morning"] if follow_up["next_morning"] == "worse" else []),
        *(["nerve"] if follow_up["new_nerve_signs"] != "no" else []),
        *(["days"] if follow_up["days_done_percent"] < 70 else []),
        *(["weeks"] if follow_up["weeks_on_step"] < 1 else []),
        *worse,
    ]


@PROPERTY
@given(follow_up=follow_ups, first=outcome_values, last=outcome_values)
def test_a_follow_up_never_moves_on_past_an_unmet_criterion(library, follow_up, first, last):
    outcomes = [{"date": "2026-10-01", **first}, {"date": VISIT, **last}]
    data = profile_data(follow_up=follow_up, outcomes=outcomes)
    decision = plan_program(parse_profile(data, "p.yaml"), library)
    assert decision.prescribed
    progress, step = decision.progress, follow_up["step_reached"]
    assert decision.start_step == progress.to_step
    assert [phase.done for phase in decision.phases] == [n < decision.start_step for n in (1, 2, 3)]
    assert decision.phases[decision.start_step - 1].weeks[0] == 0
    if unmet(follow_up, progress):
        assert progress.decision in ("hold", "regress")
        assert decision.start_step <= step
    else:
        assert progress.decision == ("maintain" if step == 3 else "advance")
        assert decision.start_step == min(step + 1, 3)
    assert all(
        reason.startswith(f"PROG-{progress.decision.upper()}: ") for reason in progress.reasons
    )


# --- batch ---------------------------------------------------------------------------------------


def test_batch_rebuilds_follow_up_visits_like_any_other(runner, tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    for path in sorted(EXAMPLES.glob("follow-up-*.yaml")):
        shutil.copy(path, folder / path.name)
    out = tmp_path / "out"
    args = ["batch", str(folder), "-o", str(out), "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {i["patient"]: (i["status"], i["action"]) for i in report["items"]} == {
        f"P-3001-V{n}": ("prescribed", "built") for n in (1, 2, 3)
    }
    for n in (1, 2, 3):
        assert PdfReader(out / f"P-3001-V{n}.pdf").pages
    again = json.loads(runner.invoke(cli, args).stdout)
    assert {i["action"] for i in again["items"]} == {"unchanged"}
    # the third visit's log is corrected: every criterion met now, so the patient moves on
    path = folder / "follow-up-3.yaml"
    path.write_text(
        path.read_text().replace("days_done_percent: 62", "days_done_percent: 75"),
        encoding="utf-8",
    )
    third = json.loads(runner.invoke(cli, args).stdout)
    assert {i["patient"]: i["action"] for i in third["items"]} == {
        "P-3001-V1": "unchanged",
        "P-3001-V2": "unchanged",
        "P-3001-V3": "built",
    }
    result = runner.invoke(cli, ["plan", str(path), "--json", "-o", str(tmp_path / "v3.pdf")])
    assert json.loads(result.stdout)["progress"]["decision"] == "advance"
    assert Path(out / "P-3001-V3.pdf").read_bytes() == (tmp_path / "v3.pdf").read_bytes()


# --- the clinician record reads the decision's own progress ---------------------------------------


def test_the_record_shows_a_step_back_from_the_decisions_progress(library, write_profile):
    data = profile_data(follow_up={**WELL, "step_reached": 2, "pain_during": 7})
    data["outcomes"] = [{"date": "2026-11-06", "nprs": 4}, {"date": VISIT, "nprs": 7}]
    profile = load_profile(write_profile(data))
    decision = plan_program(profile, library)
    pdf = render_record(profile, decision, load_clinic(None), decision.progress)
    text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    assert "Decision: regress (step 2 → step 1)" in text
    assert "PROG-REGRESS: pain during the exercises 7/10 (above 5)" in text
    assert "Re-examine the nerve" in text
    assert "Review the diagnosis" in text  # pain now 4 → 7, worse by more than its MCID
