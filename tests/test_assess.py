"""`hepplan assess`: the interview a clinician answers instead of writing YAML, through click's
runner (answers piped on stdin) and through a real pseudo-terminal."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time

import pytest
import yaml

from hepplan.assess.interview import encode_profile, profile_document
from hepplan.cli import cli
from hepplan.domain.profile import parse_profile
from hepplan.domain.redflags import RED_FLAGS
from hepplan.io.loading import decode_document
from hepplan.io.profiles import load_profile

from .conftest import EXAMPLES, RED_FLAG_KEYS, SECTIONS, TODAY, profile_data

EOF_ERROR = "error: input ended before every question was answered; nothing was written\n"

#: The questions before the red flags, in the order they are asked.
QUESTIONS = (
    "id",
    "name",
    "email",
    "age",
    "date",
    "clinician",
    "side",
    "piriformis",
    "medius",
    "maximus",
    "radicular_level",
    "irritability",
    "pain_now",
    "directional_preference",
    "conditions",
    "equipment",
)

#: Answers as a clinician types them: numbers, words in any case, Enter for a default.
FINDINGS = {
    "id": "P-2001",
    "name": "Ana Souza",
    "email": "ana@example.org",
    "age": "38",
    "date": "",
    "clinician": "Sam Lee, DPT",
    "side": "1",
    "piriformis": "overstretched",
    "medius": "3.5",
    "maximus": "4",
    "radicular_level": "3",
    "irritability": "MODERATE",
    "pain_now": "5",
    "directional_preference": "",
    "conditions": "4",
    "equipment": "resistance_band, 4",
}
NO_PLAN = ("", "", "")


def answers(
    flags: dict[str, str] | None = None, clearances=(), plan=NO_PLAN, **findings: str
) -> list[str]:
    """Every line typed for a new profile: findings, all 13 red flags (no unless given),
    the clearance questions, then include, exclude and note."""
    given = {**FINDINGS, **findings}
    flags = flags or {}
    asked = [given[name] for name in QUESTIONS]
    if "radicular_side" in given:  # asked only when the side is both and a level was found
        asked.insert(QUESTIONS.index("radicular_level") + 1, given["radicular_side"])
    return asked + [flags.get(key, "no") for key in RED_FLAG_KEYS] + list(clearances) + list(plan)


def typed(lines) -> str:
    return "".join(f"{line}\n" for line in lines)


def all_no() -> str:
    return "".join(f"  {key}: no\n" for key in RED_FLAG_KEYS)


EXPECTED_YAML = f"""\
format: 1
patient:
  id: P-2001
  name: Ana Souza
  email: ana@example.org
  age: 38
assessment:
  date: {TODAY.isoformat()}
  clinician: Sam Lee, DPT
  side: left
  piriformis: overstretched
  glute_strength:
    medius: 3.5
    maximus: 4
  radicular_level: L5
  irritability: moderate
  pain_now: 5
  directional_preference: none
  conditions: [gtps]
  equipment: [resistance_band, step]
red_flags:
{all_no()}"""


def expected_profile(**sections):
    data = profile_data(**sections)
    return parse_profile(data, "expected")


BASE_SECTIONS = {
    "patient": {"id": "P-2001", "name": "Ana Souza", "email": "ana@example.org", "age": 38},
    "assessment": {
        "date": TODAY.isoformat(),
        "clinician": "Sam Lee, DPT",
        "side": "left",
        "piriformis": "overstretched",
        "glute_strength": {"medius": 3.5, "maximus": 4},
        "radicular_level": "L5",
        "irritability": "moderate",
        "pain_now": 5,
        "directional_preference": "none",
        "conditions": ["gtps"],
        "equipment": ["resistance_band", "step"],
    },
}


def run(runner, path, lines, *options):
    return runner.invoke(cli, ["assess", "-o", str(path), *options], input=typed(lines))


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- a whole interview -----------------------------------------------------------------------


def test_a_new_profile_is_written_in_the_contract_order(runner, tmp_path):
    out = tmp_path / "P-2001.yaml"
    result = run(runner, out, answers())
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert out.read_text(encoding="utf-8") == EXPECTED_YAML
    assert load_profile(out) == expected_profile(**BASE_SECTIONS)
    assert out.stat().st_mode & 0o777 == 0o600
    assert result.stdout.splitlines()[-4:] == [
        "Note for the handout (optional): ",
        "Screening: NONE — a program may be prescribed",
        f"Wrote {out}.",
        f"Next: hepplan plan {out} writes the handout.",
    ]


def test_the_prompts_in_order(runner, tmp_path):
    """The transcript of a piped session: each prompt followed by the answer it got."""
    result = run(runner, tmp_path / "p.yaml", answers())
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:26] == [
        "Enter skips an optional question. Ctrl-C stops without writing anything.",
        "Patient",
        "Patient id: P-2001",
        "Name: Ana Souza",
        "E-mail (optional): ana@example.org",
        "Age in years (optional): 38",
        "Assessment",
        f"Assessment date (YYYY-MM-DD) [{TODAY.isoformat()}]: ",
        "Clinician: Sam Lee, DPT",
        "Painful side (1 left, 2 right, 3 both): 1",
        "Piriformis (1 tight, 2 overstretched, 3 normal, 4 not_assessed): overstretched",
        "Gluteus medius grade, 0-5 (optional): 3.5",
        "Gluteus maximus grade, 0-5 (optional): 4",
        "Radicular level (1 none, 2 L4, 3 L5, 4 S1): 3",
        "Irritability (1 high, 2 moderate, 3 low): MODERATE",
        "Pain now, 0-10 (optional): 5",
        "Directional preference (1 none, 2 extension, 3 flexion) [none]: ",
        "Conditions: 1 lumbar_stenosis, 2 spondylolisthesis, 3 hip_osteoarthritis,",
        "  4 gtps, 5 hip_labral_fai, 6 pregnancy, 7 osteoporosis",
        "  Choose any, comma-separated (Enter for none): 4",
        "Equipment (a chair, a wall and floor space are assumed): 1 resistance_band,",
        "  2 foam_roller, 3 massage_ball, 4 step, 5 chair, 6 wall, 7 mat,",
        "  8 exercise_bike",
        "  Choose any, comma-separated (Enter for none): resistance_band, 4",
        "Red flags: ask all 13 questions; none can be skipped, and unsure counts as yes.",
        f"[1/13] {RED_FLAGS[0].question}?",
    ]
    asked = [line for line in lines if line.startswith("[")]
    assert asked == [f"[{n}/13] {flag.question}?" for n, flag in enumerate(RED_FLAGS, 1)]
    assert lines.count("  Answer (1 yes, 2 no, 3 unsure): no") == 13
    plan = lines.index("Plan (optional): exercise ids from the library; ? lists them.")
    assert lines[plan : plan + 4] == [
        "Plan (optional): exercise ids from the library; ? lists them.",
        "Exercises to include (optional): ",
        "Exercises to exclude (optional): ",
        "Note for the handout (optional): ",
    ]


def test_optional_questions_can_be_skipped(runner, tmp_path):
    out = tmp_path / "p.yaml"
    result = run(
        runner,
        out,
        answers(email="", age="", medius="", maximus="", pain_now="", conditions="", equipment=""),
    )
    assert result.exit_code == 0, result.output
    assessment = yaml.safe_load(out.read_text())["assessment"]
    assert list(yaml.safe_load(out.read_text())["patient"]) == ["id", "name"]
    assert list(assessment) == [
        "date",
        "clinician",
        "side",
        "piriformis",
        "radicular_level",
        "irritability",
        "directional_preference",
    ]


def test_a_json_name_gets_a_json_profile(runner, tmp_path):
    out = tmp_path / "P-2001.json"
    result = run(runner, out, answers())
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith('{\n  "format": 1,\n  "patient": {\n    "id": "P-2001",')
    assert load_profile(out) == expected_profile(**BASE_SECTIONS)


# --- the screening result --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "screening", "action"),
    [
        (
            {"saddle_anesthesia": "yes", "bladder_dysfunction": "unsure"},
            "EMERGENCY — do not prescribe: bladder_dysfunction, saddle_anesthesia",
            "go to the emergency department now",
        ),
        (
            {"major_trauma": "1"},
            "EMERGENCY — do not prescribe: major_trauma",
            "go to the emergency department now",
        ),
        (
            {"unexplained_weight_loss": "yes", "infection_risk": "3"},
            "URGENT — do not prescribe: unexplained_weight_loss, infection_risk",
            "see a doctor within 24 hours",
        ),
    ],
    ids=["cauda-equina", "trauma", "two-contextual"],
)
def test_a_refused_screening_is_written_and_says_do_not_prescribe(
    runner, tmp_path, flags, screening, action
):
    out = tmp_path / "p.yaml"
    clearable = [key for key in ("unexplained_weight_loss", "infection_risk") if key in flags]
    result = run(runner, out, answers(flags=flags, clearances=[""] * len(clearable)))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        f"Screening: {screening}",
        f"Wrote {out}.",
        (
            f"Do not prescribe a program: the patient must {action}. Run hepplan plan {out} now; "
            "it writes the redirect document to give them."
        ),
    ]
    written = load_profile(out).red_flags
    for key, answer in flags.items():
        assert written.answer(key).value == {"1": "yes", "3": "unsure"}.get(answer, answer)
    planned = runner.invoke(cli, ["plan", str(out), "-o", str(tmp_path / "redirect.pdf")])
    assert planned.exit_code == 3  # the redirect the message promises


def test_a_routine_flag_may_be_prescribed_with_a_doctors_check(runner, tmp_path):
    out = tmp_path / "p.yaml"
    result = run(runner, out, answers(flags={"unrelenting_night_pain": "yes"}, clearances=[""]))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        (
            "Screening: ROUTINE — a program may be prescribed; book a routine doctor's check: "
            "unrelenting_night_pain"
        ),
        f"Wrote {out}.",
        f"Next: hepplan plan {out} writes the handout.",
    ]


def test_a_path_with_spaces_is_quoted_in_the_next_step(runner, tmp_path):
    out = tmp_path / "Ana Souza.yaml"
    result = run(runner, out, answers())
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"Next: hepplan plan '{out}' writes the handout."


# --- medical clearance and plan choices ------------------------------------------------------


def test_a_cleared_flag_is_recorded_and_not_counted(runner, tmp_path):
    out = tmp_path / "p.yaml"
    cleared = (TODAY - dt.timedelta(days=19)).isoformat()
    later = (TODAY + dt.timedelta(days=1)).isoformat()
    lines = answers(
        radicular_level="none",  # with root signs a clearance would not lower rule 1
        flags={"cancer_history": "yes", "unrelenting_night_pain": "2"},
        clearances=["Dr. Helen Cho, MD", later, cleared, "In remission since 2016."],
        plan=["single_leg_bridge", "clamshell, side_plank_knees", "Walk 10 minutes after lunch."],
    )
    result = run(runner, out, lines)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"{later} is after the assessment ({TODAY.isoformat()}); a clearance must come before it\n"
    )
    assert (
        "Medical clearance at this visit: a flag a doctor has cleared is not\n"
        "counted, except a cancer history with nerve signs. Enter if none.\n"
        "cancer_history (urgent) was answered yes: Cancer now or in the past.\n"
        "  Cleared by (optional): Dr. Helen Cho, MD\n" in result.stdout
    )
    text = out.read_text()
    assert text.endswith(
        "  cancer_history: yes\n"
        "  unexplained_weight_loss: no\n"
        "  infection_risk: no\n"
        "  fracture_risk: no\n"
        "  unrelenting_night_pain: no\n"
        "medical_clearance:\n"
        "  - flag: cancer_history\n"
        "    cleared_by: Dr. Helen Cho, MD\n"
        f"    date: {cleared}\n"
        "    note: In remission since 2016.\n"
        "plan:\n"
        "  include: [single_leg_bridge]\n"
        "  exclude: [clamshell, side_plank_knees]\n"
        "  notes: Walk 10 minutes after lunch.\n"
    )
    assert result.stdout.splitlines()[-4:-2] == [
        "Screening: NONE — a program may be prescribed",
        "  medically cleared: cancer_history",
    ]
    profile = load_profile(out)
    assert profile.cleared == {"cancer_history"}
    assert profile.plan.exclude == ("clamshell", "side_plank_knees")


def test_clearance_is_asked_only_for_urgent_and_routine_flags_answered_yes_or_unsure(
    runner, tmp_path
):
    flags = {key: "yes" for key in RED_FLAG_KEYS}
    clearable = [flag.key for flag in RED_FLAGS if flag.level.word != "emergency"]
    result = run(
        runner, tmp_path / "p.yaml", answers(flags=flags, clearances=[""] * len(clearable))
    )
    assert result.exit_code == 0, result.output
    offered = [
        line.split(" ")[0] for line in result.stdout.splitlines() if " was answered yes: " in line
    ]
    assert offered == [
        "sexual_dysfunction",
        "cancer_history",
        "unexplained_weight_loss",
        "infection_risk",
        "fracture_risk",
        "unrelenting_night_pain",
    ]

    none = run(runner, tmp_path / "q.yaml", answers(flags={"saddle_anesthesia": "yes"}))
    assert none.exit_code == 0, none.output
    assert "Medical clearance" not in none.stdout and "Cleared by" not in none.stdout


def test_exercise_ids_are_checked_against_the_library(runner, tmp_path):
    out = tmp_path / "p.yaml"
    lines = answers(plan=["clamshel", "?", "clamshell", "bridge, clamshell", "bridge", ""])
    result = run(runner, out, lines)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        ("'clamshel' is not an exercise in the library; did you mean clamshell, banded_clamshell?"),
        "clamshell is already included; an exercise cannot be both included and excluded",
    ]
    assert "  abdominal_bracing, band_side_steps, banded_clamshell," in result.stdout
    assert yaml.safe_load(out.read_text())["plan"] == {
        "include": ["clamshell"],
        "exclude": ["bridge"],
    }


# --- wrong answers ---------------------------------------------------------------------------

TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("question", "wrong", "message"),
    [
        ("id", "P 1", "'P 1' is not a valid id; use 1-64 characters of A-Z a-z 0-9 . _ -"),
        ("id", "", "an answer is needed here"),
        (
            "name",
            "\x1b[A",
            ("the answer must be one line of text (no line breaks or control characters)"),
        ),
        ("name", "x" * 201, "the answer is 201 characters long; at most 200 are allowed"),
        ("email", "ana.example.org", "the answer is not an e-mail address like name@example.org"),
        ("age", "old", "'old' is not an age in whole years; allowed: whole numbers 0 to 120"),
        ("age", "121", "121 is out of range; allowed: whole numbers 0 to 120"),
        (
            "date",
            "20.11.2026",
            ("'20.11.2026' is not an ISO date; write it as YYYY-MM-DD, e.g. 2026-11-20"),
        ),
        ("date", "2026-02-30", "'2026-02-30' is not a real date"),
        (
            "date",
            TOMORROW,
            (
                f"{TOMORROW} is in the future; the assessment must have happened by "
                f"today ({TODAY.isoformat()})"
            ),
        ),
        (
            "side",
            "4",
            ("'4' is not one of the choices; type a number 1-3 or a word: left, right, both"),
        ),
        (
            "side",
            "l",
            ("'l' is not one of the choices; type a number 1-3 or a word: left, right, both"),
        ),
        ("medius", "3.25", "3.25 is not a muscle grade; allowed: 0 to 5, in steps of 0.5"),
        ("medius", "strong", "'strong' is not a muscle grade; allowed: 0 to 5, in steps of 0.5"),
        ("pain_now", "11", "11 is out of range; allowed: whole numbers 0 to 10"),
        (
            "radicular_level",
            "L3",
            ("'L3' is not one of the choices; type a number 1-4 or a word: none, L4, L5, S1"),
        ),
        (
            "conditions",
            "4, 8",
            (
                "'8' is not one of the choices; type a number 1-7 or a word: "
                "lumbar_stenosis, spondylolisthesis, hip_osteoarthritis, gtps, "
                "hip_labral_fai, pregnancy, osteoporosis"
            ),
        ),
        (
            "equipment",
            "-1",
            (
                "'-1' is not one of the choices; type a number 1-8 or a word: "
                "resistance_band, foam_roller, massage_ball, step, chair, wall, mat, "
                "exercise_bike"
            ),
        ),
    ],
)
def test_a_wrong_answer_is_explained_in_one_line_and_asked_again(
    runner, tmp_path, question, wrong, message
):
    lines = answers()
    index = QUESTIONS.index(question)
    lines.insert(index, wrong)
    out = tmp_path / "p.yaml"
    result = run(runner, out, lines)
    assert result.exit_code == 0, result.output
    assert result.stderr == message + "\n"
    assert load_profile(out) == expected_profile(**BASE_SECTIONS)


@pytest.mark.parametrize("wrong", ["", "maybe", "4", "y", "-"])
def test_a_red_flag_cannot_be_skipped_or_answered_otherwise(runner, tmp_path, wrong):
    lines = answers(flags={"fracture_risk": "no"})
    lines.insert(len(QUESTIONS) + RED_FLAG_KEYS.index("fracture_risk"), wrong)
    out = tmp_path / "p.yaml"
    result = run(runner, out, lines)
    assert result.exit_code == 0, result.output
    expected = (
        "an answer is needed here"
        if wrong == ""
        else f"{wrong!r} is not one of the choices; type a number 1-3 or a word: yes, no, unsure"
    )
    assert result.stderr == expected + "\n"
    assert load_profile(out).red_flags.fracture_risk.value == "no"


def test_menus_take_numbers_or_words_in_any_case(runner, tmp_path):
    out = tmp_path / "p.yaml"
    lines = answers(
        side="BOTH",
        piriformis="4",
        radicular_level="s1",
        radicular_side="Right",
        irritability="1",
        directional_preference="Extension",
        conditions="Pregnancy 1, GTPS, 4",
        equipment="7,6 , Step",
        flags={"cancer_history": "UNSURE"},
        clearances=[""],
    )
    result = run(runner, out, lines)
    assert result.exit_code == 0, result.output
    found = load_profile(out).assessment
    assert (
        found.side.value,
        found.piriformis.value,
        found.radicular_level.value,
        found.irritability.value,
        found.directional_preference.value,
        found.radicular_side.value,
    ) == ("both", "not_assessed", "S1", "high", "extension", "right")
    assert [c.value for c in found.conditions] == ["gtps", "lumbar_stenosis", "pregnancy"]
    assert [e.value for e in found.equipment] == ["mat", "step", "wall"]
    assert load_profile(out).red_flags.cancer_history.value == "unsure"


# --- nothing is written unless every question is answered ------------------------------------


@pytest.mark.parametrize("answered", [0, 3, len(QUESTIONS) + 12, len(answers()) - 1])
def test_input_ending_early_writes_nothing(runner, tmp_path, answered):
    out = tmp_path / "p.yaml"
    result = run(runner, out, answers()[:answered])
    assert result.exit_code == 2
    assert result.stderr == EOF_ERROR
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_refused_before_any_question(runner, tmp_path):
    out = tmp_path / "p.yaml"
    out.write_text("keep me")
    result = run(runner, out, answers())
    assert result.exit_code == 2
    assert result.stderr == f"error: {out}: already exists; use --force to replace it\n"
    assert result.stdout == ""
    assert out.read_text() == "keep me"

    replaced = run(runner, out, answers(), "--force")
    assert replaced.exit_code == 0, replaced.output
    assert out.read_text() == EXPECTED_YAML
    assert leftovers(tmp_path) == ["p.yaml"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("missing/p.yaml", "error: {path}: the folder {parent} does not exist\n"),
        (".", "error: {path}: is a folder; give a file name such as {path}/program.pdf\n"),
    ],
)
def test_a_bad_output_path_is_refused_before_any_question(runner, tmp_path, target, message):
    path = tmp_path / target
    result = run(runner, path, answers())
    assert result.exit_code == 2
    assert result.stderr == message.format(path=path, parent=path.parent)
    assert result.stdout == ""


def test_the_output_option_is_required(runner):
    result = runner.invoke(cli, ["assess"], input=typed(answers()))
    assert result.exit_code == 2
    assert "Missing option '-o' / '--output'" in result.stderr


# --- a follow-up visit -----------------------------------------------------------------------

PREVIOUS = EXAMPLES / "tight-piriformis.yaml"
#: The follow-up questions: step and weeks kept, the log, the pain, the morning, nerve signs;
#: then today's measures all skipped (pain now offered from the assessment, removed with -).
FOLLOW_UP = ("", "", "80", "2", "1", "no")
NO_MEASURES = ("-", "", "")
FOLLOW_UP_DATA = {
    "step_reached": 1,
    "weeks_on_step": 1,  # 2026-11-18 to 2026-11-30
    "days_done_percent": 80,
    "pain_during": 2,
    "next_morning": "usual",
    "new_nerve_signs": "no",
}


def test_from_offers_every_previous_answer_but_not_the_red_flags_or_the_date(runner, tmp_path):
    out = tmp_path / "P-1001-followup.yaml"
    keep = [""] * len(QUESTIONS)
    flags = ["", "no"] + ["no"] * 12  # Enter on a red flag is refused: asked again
    result = runner.invoke(
        cli,
        ["assess", "--from", str(PREVIOUS), "-o", str(out)],
        input=typed(keep + flags + ["", "", ""] + [*FOLLOW_UP, *NO_MEASURES]),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == "an answer is needed here\n"
    stdout = result.stdout
    assert stdout.startswith(
        f"Answers from {PREVIOUS} are shown in [brackets]: Enter keeps one, - removes an "
        "optional one. The red flags and medical clearances are asked afresh.\n"
        "Patient\n"
        "Patient id [P-1001]: \n"
        "Name [Jordan Avery]: \n"
        "E-mail (optional) [jordan.avery@example.org]: \n"
        "Age in years (optional) [34]: \n"
        "Assessment\n"
        f"Assessment date (YYYY-MM-DD) [{TODAY.isoformat()}]: \n"
        "Clinician [Sam Lee, DPT]: \n"
        "Painful side (1 left, 2 right, 3 both) [right]: \n"
    )
    assert "  Choose any, comma-separated [foam_roller, massage_ball]: \n" in stdout
    assert "  Answer (1 yes, 2 no, 3 unsure): \n" in stdout  # no default shown
    assert (
        "Note for the handout (optional) [Take a short walk every hour when you sit at "
        "work.]: \n" in stdout
    )

    data = yaml.safe_load(PREVIOUS.read_text())
    data["assessment"]["date"] = TODAY.isoformat()
    data["follow_up"] = FOLLOW_UP_DATA
    assert load_profile(out) == parse_profile(data, "expected")


def test_from_answers_can_be_changed_or_removed(runner, tmp_path):
    out = tmp_path / "p.yaml"
    keep = [""] * len(QUESTIONS)
    changes = {
        "email": "-",
        "medius": "4.5",
        "pain_now": "-",
        "equipment": "-",
        "irritability": "low",
    }
    lines = [changes.get(q, "") for q in QUESTIONS] + ["no"] * 13 + ["", "", "-"]
    assert len(lines) == len(keep) + 16
    lines += [*FOLLOW_UP, *NO_MEASURES]
    result = runner.invoke(
        cli, ["assess", "--from", str(PREVIOUS), "-o", str(out)], input=typed(lines)
    )
    assert result.exit_code == 0, result.output
    profile = load_profile(out)
    assert profile.patient.email is None
    assert profile.assessment.glute_strength.medius == 4.5
    assert profile.assessment.pain_now is None
    assert profile.assessment.equipment == ()
    assert profile.assessment.irritability.value == "low"
    assert "plan" not in yaml.safe_load(out.read_text())


def test_from_asks_every_clearance_afresh_with_no_default(runner, tmp_path):
    """CLINICAL.md §1: clearances belong to one visit; an earlier one is never carried over."""
    previous = EXAMPLES / "cleared-cancer-history.yaml"
    keep = [""] * len(QUESTIONS)
    flags = answers(flags={"cancer_history": "yes"})[len(QUESTIONS) : -3]
    result = runner.invoke(
        cli,
        ["assess", "--from", str(previous), "-o", str(tmp_path / "a.yaml")],
        input=typed([*keep, *flags, "", *NO_PLAN, *FOLLOW_UP, *NO_MEASURES]),  # no clearance
    )
    assert result.exit_code == 0, result.output
    assert "  Cleared by (optional): \n" in result.stdout
    assert "Dr. Helen Cho" not in result.stdout
    assert load_profile(tmp_path / "a.yaml").medical_clearance == ()
    assert "Screening: URGENT — do not prescribe: cancer_history" in result.stdout


def test_an_invalid_from_profile_is_refused_before_any_question(runner, tmp_path, write_profile):
    bad = write_profile(profile_data(assessment={"side": "up"}))
    result = runner.invoke(
        cli, ["assess", "--from", str(bad), "-o", str(tmp_path / "p.yaml")], input=typed(answers())
    )
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {bad}: assessment.side: 'up' is not allowed; allowed: left, right or both\n"
    )
    assert result.stdout == ""


# --- the written file ------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
@pytest.mark.parametrize("as_json", [False, True], ids=["yaml", "json"])
def test_every_example_is_written_back_to_an_equal_profile(path, as_json):
    today = dt.date(2026, 11, 21)
    profile = load_profile(path, today=today)
    raw = encode_profile(profile, as_json=as_json)
    again = parse_profile(
        decode_document(raw, "written", json_only=as_json), "written", today=today
    )
    assert again == profile
    assert list(profile_document(profile)) == [
        key for key in SECTIONS if key in yaml.safe_load(path.read_text())
    ]


@pytest.mark.parametrize(
    "name",
    [
        "No",
        "yes",
        "null",
        "~",
        "123",
        "1.5",
        "2026-11-20",
        "true",
        "#1 fan",
        "a: b",
        "- dash",
        "[x]",
        "{y}",
        "O'Brien",
        'Say "hi"',
        "Zoë Łukasz-Ñúñez",
        "Ελένη",
        "Дмитрий",
        "  ",
        "%x",
    ],
)
def test_any_name_is_written_so_it_reads_back_the_same(name):
    data = profile_data(patient={"name": name.strip() or "x", "id": "007"})
    profile = parse_profile(data, "test")
    raw = encode_profile(profile)
    assert parse_profile(decode_document(raw, "written"), "written") == profile
    assert "  id: '007'\n" in raw.decode()


def test_words_are_written_as_in_the_contract():
    profile = parse_profile(profile_data(red_flags={"major_trauma": True}), "test")
    text = encode_profile(profile).decode()
    assert "  major_trauma: yes\n  sexual_dysfunction: no\n" in text
    assert "  date: 2026-11-20\n" in text


# --- in a real terminal ----------------------------------------------------------------------


def _take_terminal() -> None:  # runs in the child, after setsid: the pty becomes its terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """``hepplan assess`` in a pseudo-terminal, typed at like a person at a keyboard: each
    answer is sent only once its prompt has appeared, and every wait has a deadline."""

    def __init__(self, *args: str, cwd, timeout: float = 30):
        self.timeout = timeout
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hepplan", "assess", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self.screen = ""  # what has been shown and not yet matched

    def _read(self, deadline: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the program has closed the terminal
            chunk = b""
        self.screen += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(chunk)

    def expect(self, text: str) -> str:
        deadline = time.monotonic() + self.timeout
        while text not in self.screen:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"waited for {text!r}; the screen shows {self.screen!r}")
        shown, _, self.screen = self.screen.partition(text)
        return shown + text

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def answer(self, prompt: str, line: str) -> None:
        self.expect(prompt)
        self.type(line + "\n")

    def finish(self) -> int:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self._read(deadline):
            pass
        return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal(tmp_path):
    opened = []

    def open_terminal(*args: str) -> Terminal:
        opened.append(Terminal(*args, cwd=tmp_path))
        return opened[-1]

    yield open_terminal
    for session in opened:
        session.close()


PROMPTS = {
    "id": "Patient id: ",
    "name": "Name: ",
    "email": "E-mail (optional): ",
    "age": "Age in years (optional): ",
    "date": f"Assessment date (YYYY-MM-DD) [{TODAY.isoformat()}]: ",
    "clinician": "Clinician: ",
    "side": "Painful side (1 left, 2 right, 3 both): ",
    "piriformis": "Piriformis (1 tight, 2 overstretched, 3 normal, 4 not_assessed): ",
    "medius": "Gluteus medius grade, 0-5 (optional): ",
    "maximus": "Gluteus maximus grade, 0-5 (optional): ",
    "radicular_level": "Radicular level (1 none, 2 L4, 3 L5, 4 S1): ",
    "irritability": "Irritability (1 high, 2 moderate, 3 low): ",
    "pain_now": "Pain now, 0-10 (optional): ",
    "directional_preference": "Directional preference (1 none, 2 extension, 3 flexion) [none]: ",
    "conditions": "  Choose any, comma-separated (Enter for none): ",
    "equipment": "  Choose any, comma-separated (Enter for none): ",
}


def _prompts() -> list[str]:
    """The prompt before each answer of ``answers()``, exactly as a terminal shows it."""
    return (
        [PROMPTS[q] for q in QUESTIONS]
        + ["  Answer (1 yes, 2 no, 3 unsure): "] * 13
        + [
            "Exercises to include (optional): ",
            "Exercises to exclude (optional): ",
            "Note for the handout (optional): ",
        ]
    )


def test_a_whole_interview_in_a_terminal(terminal, tmp_path):
    session = terminal("-o", "P-2001.yaml")
    for prompt, line in zip(_prompts(), answers(), strict=True):
        session.answer(prompt, line)
    shown = session.expect("Next: hepplan plan P-2001.yaml writes the handout.")
    assert "Screening: NONE — a program may be prescribed\nWrote P-2001.yaml.\n" in shown
    assert session.finish() == 0
    assert (tmp_path / "P-2001.yaml").read_text() == EXPECTED_YAML


def test_a_wrong_answer_in_a_terminal_is_asked_again(terminal, tmp_path):
    session = terminal("-o", "p.yaml")
    session.answer("Patient id: ", "P 1")
    shown = session.expect("Patient id: ")
    assert shown == (
        "P 1\n'P 1' is not a valid id; use 1-64 characters of A-Z a-z 0-9 . _ -\nPatient id: "
    )
    session.type("P-1\n")
    session.expect("Name: ")
    session.type("\x03")
    assert session.finish() == 130


def test_ctrl_c_in_a_terminal_writes_nothing(terminal, tmp_path):
    session = terminal("-o", "p.yaml")
    prompts, lines = _prompts(), answers()
    for prompt, line in zip(prompts[:20], lines[:20], strict=False):
        session.answer(prompt, line)
    session.expect(prompts[20])
    session.type("\x03")
    assert session.finish() == 130
    assert session.screen.replace("^C", "").strip() == "interrupted; nothing was written"
    assert leftovers(tmp_path) == []


def test_ctrl_d_in_a_terminal_ends_the_input(terminal, tmp_path):
    session = terminal("-o", "p.yaml")
    session.answer("Patient id: ", "P-1")
    session.expect("Name: ")
    session.type("\x04")
    assert session.finish() == 2
    assert session.screen.replace("^D", "").strip() == EOF_ERROR.strip()
    assert leftovers(tmp_path) == []


def test_interrupted_means_exit_130_even_when_piped(tmp_path):
    """SIGINT from outside (a supervisor, a shell's kill -INT) is Ctrl-C too."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hepplan", "assess", "-o", "p.yaml"],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        process.stdin.write(b"P-1\n")
        process.stdin.flush()
        deadline = time.monotonic() + 30
        shown = b""
        while b"Name: " not in shown and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 1)
            if ready:
                shown += os.read(process.stdout.fileno(), 4096)
        assert b"Name: " in shown
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert stderr.decode().strip() == "interrupted; nothing was written"
    assert leftovers(tmp_path) == []


# --- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["assess", "schema"])
def test_the_new_commands_have_help_with_an_example(runner, command):
    result = runner.invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout


# --- the follow-up questions and today's outcome measures (CONTRACT.md §5) -------------------

THIRD_VISIT = EXAMPLES / "follow-up-3.yaml"  # step 2 held; three earlier visits measured


def test_from_asks_the_follow_up_questions_and_todays_measures_by_activity(runner, tmp_path):
    out = tmp_path / "P-3001-V4.yaml"
    keep = [""] * len(QUESTIONS)
    follow_up = ["", "", "90", "2", "usual", "no"]
    measures = ["", "5", "", "4", "", "20"]  # pain kept; PSFS by name, one skipped; ODI
    result = runner.invoke(
        cli,
        ["assess", "--from", str(THIRD_VISIT), "-o", str(out)],
        input=typed([*keep, *["no"] * 13, *NO_PLAN, *follow_up, *measures]),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    tail = result.stdout.split("Note for the handout (optional)")[1].splitlines()[1:]
    assert tail == [
        "Follow-up: how the last step went",
        "Step the patient has been doing, 1-3 [2]: ",  # the step the third visit held
        "Whole weeks on that step, 0-52 [3]: ",  # 2026-11-09 to today
        "Share of the prescribed days done, from the log, 0-100 (%): 90",
        "Worst pain during the exercises this week, 0-10: 2",
        "Symptoms back to usual by the next morning? (1 usual, 2 worse): usual",
        "New or spreading numbness, tingling or weakness? Unsure counts as yes (1 yes, 2 no, "
        "3 unsure): no",
        "Outcome measures today (3 earlier visits kept); Enter skips one.",
        "Pain now, NPRS 0-10 (optional) [3]: ",
        "Patient-Specific Functional Scale: each activity 0-10 (10 = able to do it as before); "
        "Enter skips one.",
        "  sitting at work, 0-10: 5",
        "  walking the dog, 0-10: ",
        "  gardening, 0-10: 4",
        "  Another activity (optional): ",
        "Oswestry Disability Index, 0-100 (optional): 20",
        "Screening: NONE — a program may be prescribed",
        f"Wrote {out}.",
        f"Next: hepplan plan {out} writes the handout.",
    ]
    # every red flag asked afresh, none offered from the earlier visit
    assert result.stdout.count("  Answer (1 yes, 2 no, 3 unsure): no\n") == 13
    written = yaml.safe_load(out.read_text())
    earlier = yaml.safe_load(THIRD_VISIT.read_text())
    assert load_profile(out).follow_up.model_dump(mode="json") == {
        "step_reached": 2,
        "weeks_on_step": 3,
        "days_done_percent": 90,
        "pain_during": 2,
        "next_morning": "usual",
        "new_nerve_signs": "no",
    }
    assert written["outcomes"] == [
        *earlier["outcomes"],
        {
            "date": TODAY,
            "nprs": 3,
            "psfs": {"sitting at work": 5, "gardening": 4},
            "odi": 20,
        },
    ]
    planned = runner.invoke(cli, ["plan", str(out), "--json", "-o", str(tmp_path / "v4.pdf")])
    assert planned.exit_code == 0, planned.output
    progress = json.loads(planned.stdout)["progress"]
    assert (progress["decision"], progress["from_step"], progress["to_step"]) == (
        "advance",
        2,
        3,
    )
    # an activity is compared only with itself: sitting 3 → 5, gardening 2 → 4
    assert progress["outcomes"]["psfs"]["first"] == 2.5
    assert progress["outcomes"]["psfs"]["last"] == 4.5


def test_a_follow_up_with_a_red_flag_is_refused_whatever_the_progress(runner, tmp_path):
    """Screening runs first at every visit: a step that went well never outranks a red flag."""
    out = tmp_path / "v4.yaml"
    flags = ["yes" if key == "saddle_anesthesia" else "no" for key in RED_FLAG_KEYS]
    follow_up = ["", "", "90", "2", "1", "no"]
    measures = [""] * 6  # pain kept, three activities and a new one skipped, no ODI
    lines = [*[""] * len(QUESTIONS), *flags, *NO_PLAN, *follow_up, *measures]
    result = runner.invoke(
        cli, ["assess", "--from", str(THIRD_VISIT), "-o", str(out)], input=typed(lines)
    )
    assert result.exit_code == 0, result.output
    assert "Screening: EMERGENCY — do not prescribe: saddle_anesthesia" in result.stdout
    planned = runner.invoke(cli, ["plan", str(out), "--json", "-o", str(tmp_path / "r.pdf")])
    assert planned.exit_code == 3
    decision = json.loads(planned.stdout)
    assert (decision["status"], decision["progress"], decision["phases"]) == ("refused", None, [])


def test_follow_up_answers_out_of_range_are_asked_again(runner, tmp_path):
    out = tmp_path / "p.yaml"
    follow_up = ["4", "", "", "101", "80", "11", "2", "sometimes", "worse", "maybe", "unsure"]
    lines = [*[""] * len(QUESTIONS), *["no"] * 13, *NO_PLAN, *follow_up, *NO_MEASURES]
    result = runner.invoke(
        cli, ["assess", "--from", str(PREVIOUS), "-o", str(out)], input=typed(lines)
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "4 is out of range; allowed: whole numbers 1 to 3",
        "101 is out of range; allowed: whole numbers 0 to 100",
        "11 is out of range; allowed: whole numbers 0 to 10",
        "'sometimes' is not one of the choices; type a number 1-2 or a word: usual, worse",
        "'maybe' is not one of the choices; type a number 1-3 or a word: yes, no, unsure",
    ]
    assert load_profile(out).follow_up.model_dump(mode="json") == {
        "step_reached": 1,
        "weeks_on_step": 1,
        "days_done_percent": 80,
        "pain_during": 2,
        "next_morning": "worse",
        "new_nerve_signs": "unsure",
    }


def test_new_psfs_activities_are_named_once_and_at_most_five(runner, tmp_path):
    out = tmp_path / "p.yaml"
    activities = ["walking", "6", "walking", "stairs", "x", "4", "sitting", "5"]
    activities += ["lifting", "3", "driving", "7", "gardening", "2"]
    lines = [*[""] * len(QUESTIONS), *["no"] * 13, *NO_PLAN, *FOLLOW_UP, "-", *activities, ""]
    result = runner.invoke(
        cli, ["assess", "--from", str(PREVIOUS), "-o", str(out)], input=typed(lines)
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "that activity is already scored today; name another, or Enter",
        "'x' is not a score; allowed: whole numbers 0 to 10",
        "'gardening' is not an Oswestry score; allowed: whole numbers 0 to 100",
    ]
    assert result.stdout.count("  Another activity (optional): ") == 6  # 5 named + a repeat
    visit = load_profile(out).outcomes[-1]
    assert visit.date == TODAY
    assert visit.psfs == {"walking": 6, "stairs": 4, "sitting": 5, "lifting": 3, "driving": 7}
    # "gardening" and "2" answered the ODI question: the first is refused, the second taken
    assert visit.odi == 2


@pytest.mark.parametrize(
    ("earlier", "step", "weeks"),
    [
        ("follow-up-1.yaml", 1, 8),  # a first visit: step 1, 2026-10-05 to today
        ("follow-up-2.yaml", 2, 6),  # that visit moved the patient on to step 2
        ("follow-up-3.yaml", 2, 3),  # that visit held step 2
    ],
)
def test_from_offers_the_step_the_earlier_visit_started(runner, tmp_path, earlier, step, weeks):
    result = runner.invoke(
        cli,
        ["assess", "--from", str(EXAMPLES / earlier), "-o", str(tmp_path / "p.yaml")],
        input=typed([*[""] * len(QUESTIONS), *["no"] * 13, *NO_PLAN, ""]),
    )
    assert result.exit_code == 2  # the input ends at the follow-up questions: nothing written
    assert f"Step the patient has been doing, 1-3 [{step}]: \n" in result.stdout
    assert f"Whole weeks on that step, 0-52 [{weeks}]: \n" in result.stdout
    assert not (tmp_path / "p.yaml").exists()


def test_a_same_day_follow_up_replaces_that_days_measures(runner, tmp_path, write_profile):
    """Earlier outcomes are kept, except one dated today: today's answers replace it."""
    data = profile_data(assessment={"date": TODAY.isoformat()})
    data["outcomes"] = [{"date": "2026-11-02", "nprs": 6}, {"date": TODAY.isoformat(), "nprs": 5}]
    earlier = write_profile(data)
    out = tmp_path / "p.yaml"
    lines = [*[""] * len(QUESTIONS), *["no"] * 13, *NO_PLAN, *FOLLOW_UP, "4", "", ""]
    result = runner.invoke(
        cli, ["assess", "--from", str(earlier), "-o", str(out)], input=typed(lines)
    )
    assert result.exit_code == 0, result.output
    assert "Outcome measures today (1 earlier visits kept); Enter skips one." in result.stdout
    assert [(v.date.isoformat(), v.nprs) for v in load_profile(out).outcomes] == [
        ("2026-11-02", 6),
        (TODAY.isoformat(), 4),
    ]
