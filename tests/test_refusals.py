"""A likely nerve emergency never gets a program, and every refusal reaches the people who must
act on it (CLINICAL.md §1, CONTRACT.md §1-§4): each case stated as the clinical rule."""

from __future__ import annotations

import io
import json
import re
import shutil

import pypdf
import pytest
import yaml

from hepplan.cli import cli
from hepplan.domain.redflags import BY_KEY, RED_FLAGS
from hepplan.words.catalog import words

from .conftest import REPO, profile_data

CLINIC = REPO / "examples" / "clinic.yaml"


def pdf_text(data: bytes) -> str:
    pages = pypdf.PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def page_count(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def plan(runner, path, out, *args):
    result = runner.invoke(cli, ["plan", str(path), "-o", str(out), "--json", *args])
    decision = json.loads(result.stdout) if result.stdout.startswith("{") else None
    return result, decision


def cleared(flag="cancer_history", date="2026-10-02"):
    return [
        {"flag": flag, "cleared_by": "Dr. Priya Shah, MD", "date": date, "note": "In remission."}
    ]


def unasked(data, *keys):
    for key in keys:
        del data["red_flags"][key]
    return data


# --- 1. a clearance never switches off rule 1 ---------------------------------------------------

RULE_1 = [
    # (case, assessment, other answers, expected disposition)
    ("the review's vignette: age 60, cleared prostate cancer, new S1", {"radicular_level": "S1"},
     {}, "emergency"),
    ("cleared, answered unsure, L4", {"radicular_level": "L4"}, {"cancer_history": "unsure"},
     "emergency"),
    ("cleared, L5", {"radicular_level": "L5"}, {}, "emergency"),
    ("cleared, no root level but an emergency-level sign", {}, {"progressive_weakness": "yes"},
     "emergency"),
    ("cleared, root signs in both legs", {"side": "both", "radicular_level": "L5",
     "radicular_side": "both"}, {}, "emergency"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "assessment", "answers", "disposition"), RULE_1)
def test_cancer_with_nerve_signs_is_an_emergency_whatever_the_clearance(
    runner, write_profile, tmp_path, case, assessment, answers, disposition
):
    data = profile_data(
        patient={"id": "P-60", "name": "Robert Hale", "age": 60},
        assessment=assessment,
        red_flags={"cancer_history": "yes", **answers},
        medical_clearance=cleared(),
    )
    out = tmp_path / "out.pdf"
    result, decision = plan(runner, write_profile(data), out)
    assert result.exit_code == 3, case
    assert (decision["status"], decision["disposition"]) == ("refused", disposition), case
    assert "cancer_history" in decision["triggered"], case
    assert decision["phases"] == []
    assert any(
        line.startswith("RF-COMBO-1:") and line.endswith("whether or not medically cleared")
        for line in decision["trace"]
    ), decision["trace"]
    text = pdf_text(out.read_bytes())
    assert "The earlier medical clearance of the cancer history cannot rule out new spread" in (
        text
    )


@pytest.mark.parametrize(("age", "disposition"), [(40, "none"), (60, "none")])
def test_a_clearance_still_removes_cancer_history_without_nerve_signs(
    runner, write_profile, tmp_path, age, disposition
):
    data = profile_data(
        patient={"id": "P-61", "name": "A", "age": age},
        red_flags={"cancer_history": "yes"},
        medical_clearance=cleared(),
    )
    result, decision = plan(runner, write_profile(data), tmp_path / "out.pdf")
    assert result.exit_code == 0
    assert (decision["status"], decision["disposition"]) == ("prescribed", disposition)


# --- 2. both legs with a radicular level --------------------------------------------------------

RADICULAR_SIDE = [
    # (side, level, radicular_side or None, exit code, disposition or the exit-2 message)
    ("both", "L5", "both", 3, "emergency"),
    ("both", "S1", "both", 3, "emergency"),
    ("both", "L4", "BOTH", 3, "emergency"),
    ("both", "L5", "left", 0, "none"),
    ("both", "L5", "right", 0, "none"),
    ("left", "L5", None, 0, "none"),
    ("left", "L5", "left", 0, "none"),
    ("both", "none", None, 0, "none"),
    ("both", "L5", None, 2,
     "assessment.radicular_side: is required when side is both and radicular_level is L5; say "
     "which leg has the nerve signs: left, right or both (both legs need emergency care)"),
    ("left", "L5", "right", 2,
     "assessment.radicular_side: right is not within the painful side (left); allowed: left, "
     "or change side to both"),
    ("right", "S1", "both", 2,
     "assessment.radicular_side: both is not within the painful side (right); allowed: right, "
     "or change side to both"),
    ("left", "none", "left", 2,
     "assessment.radicular_side: left is given but radicular_level is none; give the nerve root "
     "level (L4, L5 or S1), or remove radicular_side"),
]  # fmt: skip


@pytest.mark.parametrize(("side", "level", "legs", "code", "expected"), RADICULAR_SIDE)
def test_radicular_signs_in_both_legs_count_as_bilateral_leg_symptoms(
    runner, write_profile, tmp_path, side, level, legs, code, expected
):
    found = {"side": side, "radicular_level": level}
    if legs is not None:
        found["radicular_side"] = legs
    path = write_profile(profile_data(assessment=found, red_flags={"bilateral_leg_symptoms": "no"}))
    out = tmp_path / "out.pdf"
    result, decision = plan(runner, path, out)
    assert result.exit_code == code, result.output
    if code == 2:
        assert result.stderr == f"error: {path}: {expected}\n"
        assert not out.exists()
        return
    assert decision["disposition"] == expected
    if code == 3:
        assert decision["triggered"] == ["bilateral_leg_symptoms"]
        assert any(line.startswith("RF-COMBO-5:") for line in decision["trace"])
        text = pdf_text(out.read_bytes())
        assert "Your therapist found signs of a pressed nerve in both legs." in text
        assert "in both legs: counted as bilateral leg symptoms, emergency" in text


def test_radicular_side_is_in_the_schema_and_assess_writes_it_back(runner, tmp_path):
    schema = json.loads(runner.invoke(cli, ["schema"]).stdout)
    field = schema["$defs"]["Assessment"]["properties"]["radicular_side"]
    assert "both legs count as bilateral leg symptoms" in field["description"].lower()
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema)
    missing = profile_data(assessment={"side": "both", "radicular_level": "L5"})
    outside = profile_data(
        assessment={"side": "left", "radicular_level": "L5", "radicular_side": "right"}
    )
    fine = profile_data(
        assessment={"side": "both", "radicular_level": "L5", "radicular_side": "left"}
    )
    assert not validator.is_valid(missing)
    assert not validator.is_valid(outside)
    assert validator.is_valid(fine)


# --- 3. missing answers never hide a known emergency --------------------------------------------

MISSING = [
    # (case, answers given, unasked, exit code, status, disposition)
    ("bladder yes", {"bladder_dysfunction": "yes"}, ["saddle_anesthesia"], 3, "refused",
     "emergency"),
    ("saddle unsure", {"saddle_anesthesia": "unsure"}, ["fever_or_systemically_unwell",
     "unrelenting_night_pain"], 3, "refused", "emergency"),
    ("cancer at 40: urgent", {"cancer_history": "yes"}, ["major_trauma"], 3, "refused", "urgent"),
    ("night pain: routine", {"unrelenting_night_pain": "yes"}, ["major_trauma"], 4, "incomplete",
     "routine"),
    ("all no", {}, ["progressive_weakness"], 4, "incomplete", "none"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "given", "keys", "code", "status", "disposition"), MISSING)
def test_a_known_urgent_or_emergency_answer_is_refused_at_once_whatever_is_unasked(
    runner, write_profile, tmp_path, case, given, keys, code, status, disposition
):
    path = write_profile(unasked(profile_data(red_flags=given), *keys))
    out = tmp_path / "out.pdf"
    result, decision = plan(runner, path, out)
    assert result.exit_code == code, case
    assert (decision["status"], decision["disposition"]) == (status, disposition), case
    assert decision["missing"] == keys
    questions = [f"  red_flags.{key}: {BY_KEY[key].question}?" for key in keys]
    if code == 4:
        assert not out.exists()
        assert result.stderr.splitlines() == [
            "T-0001: screening incomplete; no program was written. Ask these red-flag questions "
            "and record the answers:",
            *questions,
        ]
        return
    assert result.stderr.splitlines()[1:] == [
        "T-0001: not yet asked (listed on the redirect for the doctor too):",
        *questions,
    ]
    text = pdf_text(out.read_bytes())
    assert "Red-flag questions not yet asked" in text
    for key in keys:
        assert BY_KEY[key].question in text


def test_screen_and_email_refuse_a_known_emergency_with_questions_unasked(
    runner, write_profile, tmp_path
):
    path = write_profile(
        unasked(profile_data(red_flags={"bladder_dysfunction": "yes"}), "major_trauma")
    )
    screened = runner.invoke(cli, ["screen", str(path)])
    assert screened.exit_code == 3
    assert screened.stdout.splitlines() == [
        "T-0001: EMERGENCY — do not prescribe",
        "  bladder_dysfunction (emergency, answered yes): "
        + BY_KEY["bladder_dysfunction"].question,
        "  not yet asked:",
        f"    red_flags.major_trauma: {BY_KEY['major_trauma'].question}?",
    ]
    out = tmp_path / "redirect.pdf"
    mailed = runner.invoke(
        cli,
        [
            "email",
            str(path),
            "--clinic",
            str(CLINIC),
            "--eml",
            str(tmp_path / "m.eml"),
            "-o",
            str(out),
        ],
    )
    assert mailed.exit_code == 3
    assert not (tmp_path / "m.eml").exists()
    assert "Red-flag questions not yet asked" in pdf_text(out.read_bytes())


# --- 4. screening before the library ------------------------------------------------------------


def broken_library(tmp_path):
    folder = tmp_path / "library"
    shutil.copytree(REPO / "exercises", folder)
    (folder / "clamshell.yaml").write_text("id: clamshell\nname: [unclosed\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize("kind", ["missing", "broken"])
def test_a_refusal_is_written_even_when_the_library_is_unusable(
    runner, write_profile, tmp_path, kind
):
    library = tmp_path / "nowhere" if kind == "missing" else broken_library(tmp_path)
    path = write_profile(profile_data(red_flags={"saddle_anesthesia": "yes"}))
    out = tmp_path / "out.pdf"
    result, decision = plan(runner, path, out, "--library", str(library))
    assert result.exit_code == 3
    assert decision["status"] == "refused" and decision["library_version"] is None
    assert "Go to the emergency department now." in pdf_text(out.read_bytes())
    lines = result.stderr.splitlines()
    assert lines[0].startswith("T-0001: EMERGENCY — do not prescribe (saddle_anesthesia)")
    assert any(line.startswith(f"error: {library}") for line in lines), lines
    assert lines[-1] == "T-0001: the redirect needs no exercise library, so it was written anyway"


@pytest.mark.parametrize("kind", ["missing", "broken"])
def test_an_unusable_library_still_stops_a_program_and_an_incomplete_screening(
    runner, write_profile, tmp_path, kind
):
    """A --library that is not a folder is the user's input (exit 2); a broken one exit 1.
    Either outranks an incomplete screening (4), and neither lets a program through."""
    library = tmp_path / "nowhere" if kind == "missing" else broken_library(tmp_path)
    code = 2 if kind == "missing" else 1
    fine = write_profile(profile_data(), "fine.yaml")
    result, _ = plan(runner, fine, tmp_path / "a.pdf", "--library", str(library))
    assert result.exit_code == code
    if kind == "missing":
        assert (
            result.stderr == f"error: {library}: no such library folder; give the folder "
            "that holds the exercise files\n"
        )
    gaps = write_profile(unasked(profile_data(), "major_trauma"), "gaps.yaml")
    result, decision = plan(runner, gaps, tmp_path / "b.pdf", "--library", str(library))
    assert result.exit_code == code
    assert decision["status"] == "incomplete"
    assert f"  red_flags.major_trauma: {BY_KEY['major_trauma'].question}?" in result.stderr
    assert list(tmp_path.glob("*.pdf")) == []


def test_email_writes_the_redirect_even_when_the_library_is_missing(
    runner, write_profile, tmp_path
):
    path = write_profile(profile_data(red_flags={"major_trauma": "yes"}))
    out = tmp_path / "redirect.pdf"
    result = runner.invoke(
        cli,
        ["email", str(path), "--clinic", str(CLINIC), "--eml", str(tmp_path / "m.eml"),
         "-o", str(out), "--library", str(tmp_path / "nowhere")],
    )  # fmt: skip
    assert result.exit_code == 3
    assert out.exists() and not (tmp_path / "m.eml").exists()


# --- 5. new sexual dysfunction with a root level; new or worsening both-leg symptoms ------------


@pytest.mark.parametrize("answer", ["yes", "unsure"])
@pytest.mark.parametrize("level", ["L4", "L5", "S1"])
def test_new_sexual_dysfunction_with_any_radicular_level_is_an_emergency(
    runner, write_profile, tmp_path, level, answer
):
    data = profile_data(
        assessment={"radicular_level": level}, red_flags={"sexual_dysfunction": answer}
    )
    result, decision = plan(runner, write_profile(data), tmp_path / "out.pdf")
    assert result.exit_code == 3
    assert (decision["disposition"], decision["triggered"]) == ("emergency", ["sexual_dysfunction"])
    assert any(line.startswith("RF-COMBO-3:") for line in decision["trace"])


def test_new_sexual_dysfunction_without_root_signs_stays_urgent(runner, write_profile, tmp_path):
    data = profile_data(red_flags={"sexual_dysfunction": "yes"})
    result, decision = plan(runner, write_profile(data), tmp_path / "out.pdf")
    assert (result.exit_code, decision["disposition"]) == (3, "urgent")


def test_the_both_legs_question_asks_about_new_or_worsening_symptoms(runner, library):
    question = BY_KEY["bilateral_leg_symptoms"].question
    assert question == "New or worsening pain, numbness or weakness in both legs"
    schema = json.loads(runner.invoke(cli, ["schema"]).stdout)
    described = schema["$defs"]["RedFlags"]["properties"]["bilateral_leg_symptoms"]
    assert described["description"].startswith(f"Asked: {question}?")
    told = words().say(BY_KEY["bilateral_leg_symptoms"].told("yes"))
    assert told.startswith("You have new or worse pain")


# --- 7. the redirect says what was answered, in each reader's words -----------------------------


def test_the_redirect_says_you_may_have_for_unsure_and_you_have_for_yes(
    runner, write_profile, tmp_path
):
    data = profile_data(
        red_flags={"saddle_anesthesia": "unsure", "bladder_dysfunction": "yes"},
    )
    out = tmp_path / "out.pdf"
    result, _ = plan(runner, write_profile(data), out)
    assert result.exit_code == 3
    text = pdf_text(out.read_bytes())
    assert "You may have new numbness between your legs, where you sit on a bike seat." in text
    assert "You have new numbness" not in text
    assert "You have new trouble when you pee." in text


def test_the_doctors_section_is_in_clinical_words(runner, write_profile, tmp_path):
    data = unasked(
        profile_data(
            patient={"id": "P-60", "name": "Robert Hale", "age": 60},
            assessment={"radicular_level": "S1", "pain_now": 6},
            red_flags={"cancer_history": "yes", "saddle_anesthesia": "unsure"},
            medical_clearance=cleared(),
        ),
        "fever_or_systemically_unwell",
    )
    out = tmp_path / "out.pdf"
    result, _ = plan(runner, write_profile(data), out, "--clinic", str(CLINIC))
    assert result.exit_code == 3
    pdf = out.read_bytes()
    text = pdf_text(pdf)
    assert page_count(pdf) <= 2
    for expected in (
        "For the receiving doctor",
        "Referred as emergency: same-day assessment in the emergency department; no exercise "
        "program was given.",
        "radicular signs at S1, left leg",
        "Red-flag questions answered yes or unsure",
        f"{BY_KEY['saddle_anesthesia'].question}: unsure",
        f"{BY_KEY['cancer_history'].question}: yes; medically cleared by Dr. Priya Shah, MD on "
        "October 2, 2026 (In remission.); still counted",
        "Why this level",
        "suspected metastatic spinal cord compression (NICE NG234), emergency",
        "Red-flag questions not yet asked",
        f"{BY_KEY['fever_or_systemically_unwell'].question}?",
    ):
        assert expected in text, expected
    for flag in RED_FLAGS:  # no key, rule id or trace line
        assert flag.key not in text, flag.key
    assert not re.search(r"RF-[A-Z]", text)


def test_the_patients_reasons_read_at_grade_7_or_below():
    from hepplan.assess.library_check import reading_grade
    from hepplan.domain.screening import RULE_REASONS

    said = [words().say(flag.told(answer)) for flag in RED_FLAGS for answer in ("yes", "unsure")]
    assert reading_grade([*said, *(words().say(key) for key in RULE_REASONS.values())]) <= 7
    for flag in RED_FLAGS:
        assert words().say(flag.told("yes")).startswith(("You have", "You ", "Your "))
        assert " may " in words().say(flag.told("unsure"))


# --- 8. batch exit codes: 1 over 2 over 3 over 4 over 0 -----------------------------------------

EMERGENCY = {"red_flags": {"saddle_anesthesia": "yes"}}
INCOMPLETE = "incomplete"
INVALID = {"assessment": {"side": "up"}}

BATCH = [
    # (case, profiles in the folder, exit code of a first run, of a rerun with nothing changed)
    ("programs only", [{}], 0, 0),
    ("a screening incomplete", [{}, INCOMPLETE], 4, 4),
    ("a new redirect", [{}, EMERGENCY], 3, 0),
    ("a new redirect over an incomplete screening", [{}, EMERGENCY, INCOMPLETE], 3, 4),
    ("an invalid profile over a new redirect", [{}, EMERGENCY, INVALID], 2, 2),
]


def write_folder(folder, kinds):
    folder.mkdir()
    for number, kind in enumerate(kinds):
        data = profile_data(
            **({} if kind == INCOMPLETE else kind), patient={"id": f"B-{number}", "name": "B"}
        )
        if kind == INCOMPLETE:
            del data["red_flags"]["major_trauma"]
        (folder / f"b-{number}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")


@pytest.mark.parametrize(("case", "kinds", "first", "rerun"), BATCH, ids=[b[0] for b in BATCH])
def test_batch_exits_with_the_most_pressing_code(runner, tmp_path, case, kinds, first, rerun):
    write_folder(tmp_path / "in", kinds)
    args = ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1"]
    assert runner.invoke(cli, args).exit_code == first, case
    assert runner.invoke(cli, args).exit_code == rerun, case  # an unchanged redirect: no 3


def test_a_changed_redirect_raises_3_again(runner, tmp_path):
    write_folder(tmp_path / "in", [{}, EMERGENCY])
    args = ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--jobs", "1"]
    assert runner.invoke(cli, args).exit_code == 3
    assert runner.invoke(cli, args).exit_code == 0
    path = tmp_path / "in" / "b-1.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["red_flags"]["major_trauma"] = "yes"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(cli, args)
    assert result.exit_code == 3
    assert "B-1: EMERGENCY — do not prescribe; contact the patient directly" in result.stderr


def test_batch_names_the_questions_still_to_ask_after_a_refusal(runner, tmp_path):
    """A refusal made before every question was asked: the nightly report says which are left,
    as plan does, and its JSON item lists them."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    data = unasked(profile_data(red_flags={"bladder_dysfunction": "yes"}), "major_trauma")
    (folder / "p.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["batch", str(folder), "-o", str(out), "--json"])
    assert result.exit_code == 3, result.output
    [item] = json.loads(result.stdout)["items"]
    assert (item["status"], item["missing"]) == ("refused", ["major_trauma"])
    lines = result.stderr.splitlines()
    assert lines[1:3] == [
        "T-0001: not yet asked (listed on the redirect for the doctor too):",
        f"  red_flags.major_trauma: {BY_KEY['major_trauma'].question}?",
    ]
