"""Red-flag screening, rule by rule, as CLINICAL.md §1 states it."""

from __future__ import annotations

import pytest

from hepplan.domain.profile import parse_profile
from hepplan.domain.redflags import Level
from hepplan.domain.screening import screen

from .conftest import RED_FLAG_KEYS, make_profile, profile_data

# key → (level alone at age 40, status)
LEVELS = [
    ("bladder_dysfunction", "emergency", "refused"),
    ("bowel_bladder_incontinence", "emergency", "refused"),
    ("saddle_anesthesia", "emergency", "refused"),
    ("bilateral_leg_symptoms", "emergency", "refused"),
    ("progressive_weakness", "emergency", "refused"),
    ("fever_or_systemically_unwell", "emergency", "refused"),
    ("major_trauma", "emergency", "refused"),
    ("sexual_dysfunction", "urgent", "refused"),
    ("cancer_history", "urgent", "refused"),
    ("unexplained_weight_loss", "urgent", "refused"),
    ("infection_risk", "urgent", "refused"),
    ("fracture_risk", "urgent", "refused"),
    ("unrelenting_night_pain", "routine", "prescribed"),
]


def test_the_table_covers_every_key():
    assert [row[0] for row in LEVELS] == list(RED_FLAG_KEYS)


def test_all_no_is_disposition_none():
    result = screen(make_profile())
    assert (result.status, result.disposition, result.triggered) == ("prescribed", Level.NONE, ())


@pytest.mark.parametrize("answer", ["yes", "unsure", "YES", "Unsure", True])
@pytest.mark.parametrize(("key", "level", "status"), LEVELS)
def test_each_key_alone_counts_at_its_level(key, level, status, answer):
    result = screen(make_profile(red_flags={key: answer}))
    assert result.disposition.word == level
    assert result.status == status
    assert result.triggered == (key,)


@pytest.mark.parametrize("answer", ["no", "NO", False])
def test_no_counts_as_no(answer):
    assert screen(make_profile(red_flags={"saddle_anesthesia": answer})).triggered == ()


# --- combination rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "assessment", "flags", "expected", "rule"),
    [
        (
            "1: cancer + radicular level",
            {"radicular_level": "L5"},
            {"cancer_history": "yes"},
            "emergency",
            "RF-COMBO-1",
        ),
        (
            "1: cancer + emergency key",
            {},
            {"cancer_history": "yes", "major_trauma": "yes"},
            "emergency",
            "RF-COMBO-1",
        ),
        ("1: cancer alone, no nerve signs", {}, {"cancer_history": "yes"}, "urgent", None),
        (
            "2: infection + fever",
            {},
            {"infection_risk": "yes", "fever_or_systemically_unwell": "unsure"},
            "emergency",
            "RF-COMBO-2",
        ),
        (
            "3: sexual dysfunction + saddle",
            {},
            {"sexual_dysfunction": "yes", "saddle_anesthesia": "yes"},
            "emergency",
            "RF-COMBO-3",
        ),
        ("3: sexual dysfunction alone", {}, {"sexual_dysfunction": "yes"}, "urgent", None),
        (
            "4: two contextual keys",
            {},
            {"unrelenting_night_pain": "yes", "unexplained_weight_loss": "yes"},
            "urgent",
            "RF-COMBO-4",
        ),
        ("4: night pain alone at 40", {}, {"unrelenting_night_pain": "yes"}, "routine", None),
    ],
)
def test_combination_rules(case, assessment, flags, expected, rule):
    result = screen(make_profile(assessment=assessment, red_flags=flags))
    assert result.disposition.word == expected, case
    if rule:
        assert any(line.startswith(rule + ":") for line in result.trace), result.trace
    else:
        assert not any(line.startswith("RF-COMBO") for line in result.trace)


@pytest.mark.parametrize(("age", "expected"), [(50, "routine"), (51, "urgent"), (None, "routine")])
def test_one_contextual_key_over_50_is_urgent(age, expected):
    patient = (
        {"id": "T-1", "name": "A", "age": age} if age is not None else {"id": "T-1", "name": "A"}
    )
    result = screen(make_profile(patient=patient, red_flags={"unrelenting_night_pain": "yes"}))
    assert result.disposition.word == expected


def test_contextual_keys_alone_never_reach_emergency():
    flags = {
        k: "yes"
        for k in (
            "cancer_history",
            "unexplained_weight_loss",
            "infection_risk",
            "fracture_risk",
            "unrelenting_night_pain",
        )
    }
    result = screen(make_profile(patient={"id": "T-1", "name": "A", "age": 80}, red_flags=flags))
    assert result.disposition is Level.URGENT


def test_triggered_is_most_serious_first():
    result = screen(
        make_profile(
            red_flags={
                "unrelenting_night_pain": "yes",
                "sexual_dysfunction": "yes",
                "major_trauma": "yes",
            }
        )
    )
    assert result.triggered == ("major_trauma", "sexual_dysfunction", "unrelenting_night_pain")


def test_cancer_raised_by_combination_sorts_with_emergencies():
    result = screen(
        make_profile(
            assessment={"radicular_level": "S1"},
            red_flags={"cancer_history": "yes", "fracture_risk": "yes"},
        )
    )
    assert result.triggered == ("cancer_history", "fracture_risk")
    assert result.levels["cancer_history"] is Level.EMERGENCY


# --- clearance and missing answers ----------------------------------------------------------------


def clearance(flag, date="2026-11-01"):
    return [{"flag": flag, "cleared_by": "Dr. Priya Shah, MD", "date": date, "note": "Checked."}]


@pytest.mark.parametrize("flag", ["cancer_history", "sexual_dysfunction", "unrelenting_night_pain"])
def test_clearance_removes_an_urgent_or_routine_key(flag):
    result = screen(make_profile(red_flags={flag: "yes"}, medical_clearance=clearance(flag)))
    assert (result.status, result.disposition, result.triggered) == ("prescribed", Level.NONE, ())
    assert result.cleared == (flag,)
    assert any(line.startswith("RF-CLEARED: " + flag) for line in result.trace)


def test_clearance_takes_a_key_out_of_the_contextual_count():
    result = screen(
        make_profile(
            patient={"id": "T-1", "name": "A", "age": 60},
            red_flags={"cancer_history": "yes", "unrelenting_night_pain": "yes"},
            medical_clearance=clearance("cancer_history"),
        )
    )
    # night pain alone, but at 60: rule 4 still raises it to urgent
    assert result.disposition is Level.URGENT
    assert result.triggered == ("unrelenting_night_pain",)


@pytest.mark.parametrize("missing", ["saddle_anesthesia", "unrelenting_night_pain"])
def test_a_missing_answer_makes_screening_incomplete(missing):
    data = profile_data()
    del data["red_flags"][missing]
    result = screen(parse_profile(data, "test.yaml"))
    assert result.status == "incomplete"
    assert result.missing == (missing,)


def test_a_missing_answer_never_holds_back_a_known_emergency():
    """CLINICAL.md §1: the answers given already need emergency care, so the screening is
    refused at that level, and the unasked question is still listed."""
    data = profile_data(red_flags={"saddle_anesthesia": "yes"})
    del data["red_flags"]["fever_or_systemically_unwell"]
    result = screen(parse_profile(data, "test.yaml"))
    assert result.status == "refused"
    assert result.missing == ("fever_or_systemically_unwell",)
    assert result.disposition is Level.EMERGENCY
    assert result.triggered == ("saddle_anesthesia",)
    assert result.trace[-2:] == (
        "RF-MISSING: the answers given already need emergency care (saddle_anesthesia); "
        "refused now, without waiting for the rest",
        "RF-DISPOSITION: emergency → refused",
    )
