"""Follow-up visits (CLINICAL.md §4): each progress rule as a table of cases, the outcome
measures against their minimal clinically important differences, and the profile keys."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hepplan.domain.profile import FollowUp, OutcomeVisit, parse_profile
from hepplan.domain.progress import decide_progress, measure_changes
from hepplan.errors import InputError

from .conftest import profile_data

TODAY = dt.date(2026, 11, 20)

#: A step that went well: every "move on when" criterion met.
WELL = {
    "step_reached": 1,
    "weeks_on_step": 2,
    "days_done_percent": 80,
    "pain_during": 2,
    "next_morning": "usual",
    "new_nerve_signs": "no",
}


def follow_up(**changes) -> FollowUp:
    return FollowUp.model_validate({**WELL, **changes})


def visits(*entries) -> tuple[OutcomeVisit, ...]:
    return tuple(OutcomeVisit.model_validate(entry) for entry in entries)


NO_VISITS: tuple[OutcomeVisit, ...] = ()


@pytest.mark.parametrize(
    ("changes", "decision", "to_step", "reason"),
    [
        ({}, "advance", 2, "PROG-ADVANCE: every move-on criterion met"),
        ({"step_reached": 2}, "advance", 3, "PROG-ADVANCE: every move-on criterion met"),
        (
            {"step_reached": 3},
            "maintain",
            3,
            "PROG-MAINTAIN: step 3 done, every move-on criterion met",
        ),
        ({"pain_during": 3}, "advance", 2, "PROG-ADVANCE: every move-on criterion met"),
        ({"days_done_percent": 70}, "advance", 2, "PROG-ADVANCE: every move-on criterion met"),
        ({"weeks_on_step": 1}, "advance", 2, "PROG-ADVANCE: every move-on criterion met"),
        # PROG-HOLD, one unmet criterion at a time
        (
            {"pain_during": 4},
            "hold",
            1,
            "PROG-HOLD: pain during the exercises 4/10 (move on at 3 or less)",
        ),
        (
            {"pain_during": 5, "step_reached": 2},
            "hold",
            2,
            "PROG-HOLD: pain during the exercises 5/10 (move on at 3 or less)",
        ),
        (
            {"next_morning": "worse"},
            "hold",
            1,
            "PROG-HOLD: symptoms not back to usual by the next morning",
        ),
        (
            {"days_done_percent": 69},
            "hold",
            1,
            "PROG-HOLD: 69% of days done (move on at 70% or more)",
        ),
        ({"weeks_on_step": 0}, "hold", 1, "PROG-HOLD: 0 weeks on the step (at least 1)"),
        (
            {"step_reached": 3, "days_done_percent": 50},
            "hold",
            3,
            "PROG-HOLD: 50% of days done (move on at 70% or more)",
        ),
        # PROG-REGRESS, one trigger at a time; step 1 stays 1
        (
            {"new_nerve_signs": "yes", "step_reached": 2},
            "regress",
            1,
            "PROG-REGRESS: new or spreading numbness, tingling or weakness (yes)",
        ),
        (
            {"new_nerve_signs": "unsure", "step_reached": 3},
            "regress",
            2,
            "PROG-REGRESS: new or spreading numbness, tingling or weakness (unsure)",
        ),
        (
            {"pain_during": 6, "step_reached": 2},
            "regress",
            1,
            "PROG-REGRESS: pain during the exercises 6/10 (above 5)",
        ),
        (
            {"pain_during": 4, "next_morning": "worse", "step_reached": 3},
            "regress",
            2,
            "PROG-REGRESS: worse the next morning with pain during 4/10 (above 3)",
        ),
        (
            {"pain_during": 7},
            "regress",
            1,
            "PROG-REGRESS: pain during the exercises 7/10 (above 5)",
        ),
    ],
)
def test_where_the_patient_goes_next(changes, decision, to_step, reason):
    progress = decide_progress(follow_up(**changes), NO_VISITS, TODAY)
    assert progress.decision == decision
    assert progress.from_step == {**WELL, **changes}["step_reached"]
    assert progress.to_step == to_step
    assert reason in progress.reasons


def test_a_step_back_is_gentle_and_asks_for_the_nerve_to_be_examined_again():
    progress = decide_progress(follow_up(new_nerve_signs="yes"), NO_VISITS, TODAY)
    assert progress.gentle
    assert "reexamine_nerve" in progress.flags
    assert not decide_progress(follow_up(), NO_VISITS, TODAY).gentle


def test_every_unmet_criterion_is_a_reason():
    progress = decide_progress(
        follow_up(pain_during=4, days_done_percent=40, weeks_on_step=0), NO_VISITS, TODAY
    )
    assert progress.reasons == (
        "PROG-HOLD: pain during the exercises 4/10 (move on at 3 or less)",
        "PROG-HOLD: 40% of days done (move on at 70% or more)",
        "PROG-HOLD: 0 weeks on the step (at least 1)",
    )


@pytest.mark.parametrize(
    ("first", "last", "measure"),
    [
        ({"nprs": 3}, {"nprs": 5}, "Pain now (NPRS, 0-10) worse by 2 (its MCID is 2)"),
        (
            {"odi": 30},
            {"odi": 40},
            "Oswestry Disability Index (0-100) worse by 10 (its MCID is 10)",
        ),
        (
            {"psfs": {"walking": 6, "sitting": 6}},
            {"psfs": {"walking": 4, "sitting": 4}},
            "Patient-Specific Functional Scale, mean (0-10) worse by 2 (its MCID is 2)",
        ),
    ],
)
def test_a_measure_worse_by_its_mcid_blocks_advancing_and_asks_to_review_the_diagnosis(
    first, last, measure
):
    history = visits({"date": "2026-11-06", **first}, {"date": "2026-11-20", **last})
    for step, blocked in ((1, "advance"), (3, "maintain")):
        progress = decide_progress(follow_up(step_reached=step), history, TODAY)
        assert progress.decision == "hold", blocked
        assert progress.to_step == step
        assert progress.reasons == (f"PROG-HOLD: {measure}",)
        assert "review_diagnosis" in progress.flags


def test_a_change_smaller_than_the_mcid_does_not_block():
    history = visits({"date": "2026-11-06", "nprs": 3}, {"date": "2026-11-20", "nprs": 4})
    progress = decide_progress(follow_up(), history, TODAY)
    assert progress.decision == "advance"
    assert progress.outcomes["nprs"].to_dict() == {
        "first": 3.0,
        "last": 4.0,
        "change": 1.0,
        "mcid": 2,
        "meaningful": False,
        "direction": "worse",
        "visits": [["2026-11-06", 3.0], ["2026-11-20", 4.0]],
    }
    assert progress.flags == ()


@pytest.mark.parametrize(
    ("days", "nprs_now", "flagged"),
    [
        (42, 5, True),  # six weeks, pain 6 → 5: not meaningful
        (41, 5, False),  # under six weeks: too early to say
        (42, 4, False),  # six weeks, 6 → 4: meaningful
        (70, 6, True),
    ],
)
def test_no_meaningful_change_after_six_weeks_asks_to_review_the_plan(days, nprs_now, flagged):
    first = TODAY - dt.timedelta(days=days)
    history = visits(
        {"date": first.isoformat(), "nprs": 6}, {"date": TODAY.isoformat(), "nprs": nprs_now}
    )
    progress = decide_progress(follow_up(), history, TODAY)
    assert ("review_plan" in progress.flags) is flagged


def test_psfs_compares_each_activity_only_with_itself():
    history = visits(
        {"date": "2026-10-01", "psfs": {"walking the dog": 2, "sitting at work": 4}},
        {"date": "2026-10-20", "psfs": {"walking the dog": 4, "gardening": 1}},
        {"date": "2026-11-20", "psfs": {"walking the dog": 6, "sitting at work": 8}},
    )
    psfs = measure_changes(history)["psfs"]
    # The mean of walking and sitting, the two activities the first and latest visit share;
    # gardening, scored once, is left out.
    assert psfs.points == (
        (dt.date(2026, 10, 1), 3.0),
        (dt.date(2026, 10, 20), 4.0),
        (dt.date(2026, 11, 20), 7.0),
    )
    assert (psfs.change, psfs.meaningful, psfs.direction) == (4.0, True, "better")


def test_a_measure_taken_once_is_not_compared():
    history = visits(
        {"date": "2026-11-01", "nprs": 6, "odi": 40}, {"date": "2026-11-20", "nprs": 3}
    )
    assert sorted(measure_changes(history)) == ["nprs"]


answers = st.fixed_dictionaries(
    {
        "step_reached": st.integers(1, 3),
        "weeks_on_step": st.integers(0, 52),
        "days_done_percent": st.integers(0, 100),
        "pain_during": st.integers(0, 10),
        "next_morning": st.sampled_from(["usual", "worse"]),
        "new_nerve_signs": st.sampled_from(["yes", "no", "unsure"]),
    }
)
scores = st.one_of(st.none(), st.integers(0, 10))


@given(answers, scores, scores)
def test_never_advances_past_a_failed_criterion(data, nprs_first, nprs_last):
    history = visits(
        {"date": "2026-11-01", "nprs": nprs_first}, {"date": "2026-11-20", "nprs": nprs_last}
    )
    progress = decide_progress(FollowUp.model_validate(data), history, TODAY)
    failed = (
        data["pain_during"] > 3
        or data["next_morning"] == "worse"
        or data["new_nerve_signs"] != "no"
        or data["days_done_percent"] < 70
        or data["weeks_on_step"] < 1
        or (nprs_first is not None and nprs_last is not None and nprs_last - nprs_first >= 2)
    )
    moved_on = progress.decision in ("advance", "maintain")
    assert not (failed and moved_on)
    assert progress.to_step <= progress.from_step + (0 if failed else 1)
    assert 1 <= progress.to_step <= 3


# --- the profile keys (CONTRACT.md §5) ------------------------------------------------------


def with_follow_up(**sections):
    data = profile_data()
    data.update(sections)
    return data


def test_a_follow_up_profile_reads_as_written():
    data = with_follow_up(
        follow_up=WELL,
        outcomes=[
            {"date": "2026-11-01", "nprs": 6, "psfs": {"sitting at work": 3}, "odi": 42},
            {"date": "2026-11-20", "nprs": 3},
        ],
    )
    profile = parse_profile(data, "p.yaml", today=TODAY)
    assert profile.follow_up.step_reached == 1
    assert profile.outcomes[0].psfs == {"sitting at work": 3}
    assert profile.outcomes[1].odi is None


@pytest.mark.parametrize(
    ("sections", "problem"),
    [
        (
            {"follow_up": {**WELL, "step_reached": 4}},
            "p.yaml: follow_up.step_reached: 4 is out of range; allowed: whole numbers 1 to 3",
        ),
        (
            {"follow_up": {**WELL, "next_morning": "better"}},
            "p.yaml: follow_up.next_morning: 'better' is not allowed; allowed: usual or worse",
        ),
        (
            {"follow_up": {**WELL, "days_done_percent": 101}},
            "p.yaml: follow_up.days_done_percent: 101 is out of range; allowed: whole numbers "
            "0 to 100",
        ),
        (
            {"outcomes": [{"date": "2026-11-21", "nprs": 3}]},
            "p.yaml: outcomes[0].date: 2026-11-21 is after the assessment (2026-11-20); "
            "outcomes are from this visit or earlier ones",
        ),
        (
            {"outcomes": [{"date": "2026-11-10", "nprs": 3}, {"date": "2026-11-10", "nprs": 2}]},
            "p.yaml: outcomes[1].date: 2026-11-10 is not after the visit before it "
            "(2026-11-10); list visits oldest first, one per day",
        ),
        (
            {"outcomes": [{"date": "2026-11-10", "odi": 101}]},
            "p.yaml: outcomes[0].odi: 101 is out of range; allowed: whole numbers 0 to 100",
        ),
        (
            {"outcomes": [{"date": "2026-11-10", "psfs": {"my secret hobby": 11}}]},
            "p.yaml: outcomes[0].psfs: activity 1: 11 is not a score; allowed: whole numbers "
            "0 to 10",
        ),
        (
            {"outcomes": [{"date": "2026-11-10", "psfs": {f"a{i}": 5 for i in range(6)}}]},
            "p.yaml: outcomes[0].psfs: lists 6 activities; allowed: 1 to 5",
        ),
    ],
)
def test_follow_up_keys_are_checked_with_one_line_each(sections, problem):
    with pytest.raises(InputError) as refused:
        parse_profile(with_follow_up(**sections), "p.yaml", today=TODAY)
    assert problem in str(refused.value).splitlines()
    assert "secret" not in str(refused.value)
