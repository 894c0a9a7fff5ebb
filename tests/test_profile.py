"""Reading profiles: the contract's format, and one clear line per problem."""

from __future__ import annotations

import datetime as dt

import pytest

from hepplan.errors import InputError
from hepplan.io.profiles import load_profile

from .conftest import EXAMPLES, profile_data


def problems_of(path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_profile(path, today=dt.date(2026, 11, 21))
    return info.value.problems


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_profile_loads(path):
    profile = load_profile(path, today=dt.date(2026, 11, 21))
    assert profile.patient.id.startswith("P-")


def test_case_insensitive_words_are_written_back_canonically(write_profile):
    path = write_profile(
        profile_data(
            assessment={
                "side": "LEFT",
                "piriformis": "Tight",
                "radicular_level": "l5",
                "irritability": "HIGH",
                "conditions": ["GTPS"],
                "equipment": ["Step"],
            },
            red_flags={"saddle_anesthesia": "No"},
        )
    )
    a = load_profile(path).assessment
    assert (a.side.value, a.piriformis.value, a.radicular_level.value, a.irritability.value) == (
        "left",
        "tight",
        "L5",
        "high",
    )
    assert [c.value for c in a.conditions] == ["gtps"]
    assert [e.value for e in a.equipment] == ["step"]


def test_yaml_true_and_false_are_yes_and_no(write_profile):
    path = write_profile(
        "format: 1\npatient: {id: A-1, name: Ann}\n"
        "assessment: {date: 2026-11-20, clinician: Sam, side: left, piriformis: tight,\n"
        "  radicular_level: none, irritability: low}\n"
        "red_flags:\n"
        + "".join(f"  {k}: false\n" for k in profile_data()["red_flags"] if k != "major_trauma")
        + "  major_trauma: true\n"
    )
    flags = load_profile(path).red_flags
    assert flags.major_trauma.value == "yes"
    assert flags.saddle_anesthesia.value == "no"


def test_json_profiles_are_read(write_profile):
    path = write_profile(profile_data(), name="p.json")
    assert load_profile(path).patient.name == "Test Patient"


def test_an_unknown_key_names_the_path_and_the_allowed_keys(write_profile):
    path = write_profile(profile_data(assessment={"piriformus": "tight"}))
    assert problems_of(path) == [
        f"{path}: assessment.piriformus: is not a known key; allowed here: date, clinician, "
        "side, piriformis, glute_strength, radicular_level, radicular_side, irritability, "
        "pain_now, directional_preference, conditions, equipment"
    ]


def test_a_bad_word_names_what_was_given_and_what_is_allowed(write_profile):
    path = write_profile(profile_data(assessment={"piriformis": "tigt"}))
    assert problems_of(path) == [
        f"{path}: assessment.piriformis: 'tigt' is not allowed; "
        "allowed: tight, overstretched, normal or not_assessed"
    ]


def test_every_problem_is_its_own_line(write_profile):
    path = write_profile(
        profile_data(
            patient={"id": "../etc", "name": "A"},
            assessment={"side": "up", "pain_now": 11},
            red_flags={"bladder_dysfunction": "maybe"},
        )
    )
    problems = problems_of(path)
    assert [p.split(": ")[1] for p in problems] == [
        "patient.id",
        "assessment.side",
        "assessment.pain_now",
        "red_flags.bladder_dysfunction",
    ]
    assert all(p.startswith(f"{path}: ") for p in problems)


def test_a_duplicate_key_is_refused(write_profile):
    text = (EXAMPLES / "tight-piriformis.yaml").read_text()
    path = write_profile(
        text.replace(
            "  saddle_anesthesia: no\n", "  saddle_anesthesia: yes\n  saddle_anesthesia: no\n"
        )
    )
    [problem] = problems_of(path)
    assert "key 'saddle_anesthesia' is given twice" in problem
    assert problem.startswith(f"{path}: line ")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"format": 2}, "format: format 2 is not known; known formats: 1"),
        ({"assessment": {"date": "2999-01-01"}}, "assessment.date: 2999-01-01 is in the future"),
        (
            {"assessment": {"date": "2026-02-30"}},
            "assessment.date: '2026-02-30' is not a real date",
        ),
        ({"patient": {"id": "P 1", "name": "A"}}, "patient.id: 'P 1' is not a valid id"),
        (
            {"patient": {"id": "P-1", "name": "A", "age": 121}},
            "patient.age: the value is out of range; allowed: whole numbers 0 to 120",
        ),
        (
            {"patient": {"id": "P-1", "name": "A", "email": "not-an-address"}},
            "patient.email: the value is not an e-mail address",
        ),  # the address itself is never repeated
        (
            {"assessment": {"glute_strength": {"medius": 3.3}}},
            "assessment.glute_strength.medius: 3.3 is not a muscle grade",
        ),
        (
            {"red_flags": {"fever_or_systemically_unwell": "maybe"}},
            "red_flags.fever_or_systemically_unwell: 'maybe' is not allowed; "
            "allowed: yes, no or unsure",
        ),
    ],
)
def test_invalid_values(write_profile, change, fragment):
    path = write_profile(profile_data(**change))
    problems = problems_of(path)
    assert any(fragment in p for p in problems), problems


def test_red_flags_section_is_required(write_profile):
    data = profile_data()
    del data["red_flags"]
    assert problems_of(write_profile(data)) == [
        f"{write_profile(data)}: red_flags: is required but missing"
    ]


@pytest.mark.parametrize(
    ("flags", "entry", "fragment"),
    [
        (
            {"saddle_anesthesia": "yes"},
            {"flag": "saddle_anesthesia"},
            "saddle_anesthesia is an emergency-level sign and cannot be cleared",
        ),
        (
            {},
            {"flag": "cancer_history"},
            "cancer_history is answered no; only a flag answered yes or unsure can be cleared",
        ),
        (
            {"cancer_history": "yes"},
            {"flag": "cancer_history", "date": "2026-11-21"},
            "2026-11-21 is after the assessment (2026-11-20)",
        ),
        ({"cancer_history": "yes"}, {"flag": "cancer"}, "'cancer' is not a red-flag key"),
    ],
)
def test_clearance_errors(write_profile, flags, entry, fragment):
    clearance = {"cleared_by": "Dr. Shah", "date": "2026-11-01", **entry}
    path = write_profile(profile_data(red_flags=flags, medical_clearance=[clearance]))
    problems = problems_of(path)
    assert any(fragment in p and "medical_clearance[0]" in p for p in problems), problems


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "the profile must be a mapping of keys to values; it is empty"),
        ("- a\n- b\n", "the profile must be a mapping of keys to values; it is a list"),
        ("a: &x [1]\nb: *x\n", "anchors (&name) are not allowed"),
        ("format: 1\n  bad: indent\n", "line 2"),
        ("\ufeffformat: 1\r\n", "patient: is required but missing"),
    ],
)
def test_odd_documents(write_profile, text, fragment):
    problems = problems_of(write_profile(text))
    assert any(fragment in p for p in problems), problems


def test_not_utf8(write_profile, tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Zo\xeb\n".encode("latin-1"))
    assert problems_of(path) == [
        f"{path}: not UTF-8 text (byte 9 cannot be read); save it as UTF-8"
    ]


def test_missing_file_and_folder(tmp_path):
    assert problems_of(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    assert problems_of(tmp_path) == [f"{tmp_path}: is a folder, not a file"]
