"""The command line as a clinician uses it: exit codes, messages, files written (or not)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hepplan.cli import cli

from .conftest import EXAMPLES, profile_data

EXAMPLE_OUTCOMES = [
    # file, exit code, status, disposition
    ("cauda-equina-emergency.yaml", 3, "refused", "emergency"),
    ("cleared-cancer-history.yaml", 0, "prescribed", "none"),
    ("follow-up-1.yaml", 0, "prescribed", "none"),
    ("follow-up-2.yaml", 0, "prescribed", "none"),
    ("follow-up-3.yaml", 0, "prescribed", "none"),
    ("l5-radiculopathy.yaml", 0, "prescribed", "none"),
    ("overstretched-weak-glutes.yaml", 0, "prescribed", "none"),
    ("screening-incomplete.yaml", 4, "incomplete", "none"),
    ("stenosis-older-adult.yaml", 0, "prescribed", "none"),
    ("tight-piriformis.yaml", 0, "prescribed", "none"),
]


def test_every_example_is_in_the_table():
    assert sorted(row[0] for row in EXAMPLE_OUTCOMES) == sorted(
        p.name for p in EXAMPLES.glob("*.yaml")
    )


@pytest.mark.parametrize(("name", "code", "status", "disposition"), EXAMPLE_OUTCOMES)
def test_plan_examples(runner, tmp_path, name, code, status, disposition):
    out = tmp_path / "out.pdf"
    result = runner.invoke(cli, ["plan", str(EXAMPLES / name), "-o", str(out), "--json"])
    assert result.exit_code == code, result.output
    decision = json.loads(result.stdout)
    assert (decision["status"], decision["disposition"]) == (status, disposition)
    if status == "incomplete":
        assert not out.exists()
        assert decision["phases"] == []
    else:
        assert out.read_bytes().startswith(b"%PDF-")
    if status == "refused":
        assert decision["phases"] == []


def test_plan_json_has_the_contract_shape(runner, tmp_path):
    result = runner.invoke(
        cli,
        ["plan", str(EXAMPLES / "tight-piriformis.yaml"), "-o", str(tmp_path / "p.pdf"), "--json"],
    )
    decision = json.loads(result.stdout)
    assert list(decision)[:7] == [
        "status",
        "disposition",
        "triggered",
        "missing",
        "library_version",
        "phases",
        "trace",
    ]
    assert [p["number"] for p in decision["phases"]] == [1, 2, 3]
    assert [p["name"] for p in decision["phases"]] == [
        "Calm things down",
        "Build strength",
        "Back to full activity",
    ]
    assert [p["weeks"] for p in decision["phases"]] == [[0, 2], [2, 8], [8, 12]]
    for phase in decision["phases"]:
        assert phase["progress_when"]
        assert 2 <= len(phase["exercises"]) <= 5
        for item in phase["exercises"]:
            assert {
                "id",
                "sets",
                "reps",
                "hold_s",
                "times_per_day",
                "days_per_week",
                "side",
                "why",
            } <= set(item)
            assert item["why"]
    assert decision["trace"]


def test_plan_writes_patient_id_pdf_in_the_current_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "tight-piriformis.yaml")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["P-1001.pdf", "P-1001.record.pdf"]
    assert result.stderr == (
        f"P-1001: program prescribed (disposition none); wrote {tmp_path / 'P-1001.pdf'} and "
        f"the clinician record {tmp_path / 'P-1001.record.pdf'}\n"
    )


def test_refusal_message_says_what_to_do(runner, tmp_path):
    result = runner.invoke(
        cli, ["plan", str(EXAMPLES / "cauda-equina-emergency.yaml"), "-o", str(tmp_path / "r.pdf")]
    )
    assert result.exit_code == 3
    assert "P-1005: EMERGENCY — do not prescribe (bladder_dysfunction, saddle_anesthesia)" in (
        result.stderr
    )
    assert "go to the emergency department now, or call 911" in result.stderr


def test_incomplete_lists_the_missing_questions(runner, tmp_path):
    result = runner.invoke(
        cli, ["plan", str(EXAMPLES / "screening-incomplete.yaml"), "-o", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 4
    assert result.stderr.splitlines()[1:] == [
        "  red_flags.fever_or_systemically_unwell: Fever, chills or feeling very unwell along "
        "with the pain?",
        "  red_flags.unrelenting_night_pain: Night pain that no position eases?",
    ]
    assert list(tmp_path.iterdir()) == []


def test_invalid_profile_is_exit_2_with_one_line_per_problem(runner, tmp_path, write_profile):
    path = write_profile(profile_data(assessment={"side": "up", "irritability": "extreme"}))
    result = runner.invoke(cli, ["plan", str(path), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {path}: assessment.side: 'up' is not allowed; allowed: left, right or both",
        f"error: {path}: assessment.irritability: 'extreme' is not allowed; "
        "allowed: high, moderate or low",
    ]
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_output_folder_must_exist(runner, tmp_path):
    out = tmp_path / "nope" / "x.pdf"
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "tight-piriformis.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {out}: the folder {out.parent} does not exist"


def test_a_forbidden_include_is_exit_2_naming_the_rule(runner, tmp_path, write_profile):
    path = write_profile(
        profile_data(
            assessment={"piriformis": "overstretched"},
            plan={"include": ["seated_figure_4_stretch"]},
        )
    )
    result = runner.invoke(cli, ["plan", str(path), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2, result.output
    assert "rule PIR-OVER-NO-STRETCH" in result.stderr
    assert "a clinician's include never outranks a safety rule" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_unknown_include_and_exclude_ids(runner, tmp_path, write_profile):
    path = write_profile(profile_data(plan={"include": ["clamshel"], "exclude": ["nope"]}))
    result = runner.invoke(cli, ["plan", str(path), "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 2
    assert "plan.exclude[0]: 'nope' is not an exercise in the library" in result.stderr


def test_clinic_file_errors_are_exit_2(runner, tmp_path):
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text("name: X\npage_size: tabloid\nfax: 1\n")
    result = runner.invoke(
        cli,
        [
            "plan",
            str(EXAMPLES / "tight-piriformis.yaml"),
            "-o",
            str(tmp_path / "x.pdf"),
            "--clinic",
            str(clinic),
        ],
    )
    assert result.exit_code == 2
    assert f"error: {clinic}: page_size:" in result.stderr
    assert f"error: {clinic}: fax: is not a known key" in result.stderr


@pytest.mark.parametrize(
    ("name", "code", "first_line"),
    [
        ("cauda-equina-emergency.yaml", 3, "P-1005: EMERGENCY — do not prescribe"),
        ("tight-piriformis.yaml", 0, "P-1001: NONE — a program may be prescribed"),
        ("cleared-cancer-history.yaml", 0, "P-1007: NONE — a program may be prescribed"),
    ],
)
def test_screen(runner, name, code, first_line):
    result = runner.invoke(cli, ["screen", str(EXAMPLES / name)])
    assert result.exit_code == code
    assert result.stdout.splitlines()[0] == first_line


def test_screen_incomplete_and_json(runner):
    result = runner.invoke(cli, ["screen", str(EXAMPLES / "screening-incomplete.yaml"), "--json"])
    assert result.exit_code == 4
    data = json.loads(result.stdout)
    assert data["status"] == "incomplete"
    assert data["missing"] == ["fever_or_systemically_unwell", "unrelenting_night_pain"]


def test_library_list_json(runner, library):
    result = runner.invoke(cli, ["library", "list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == len(library) >= 24
    assert {"id", "name", "category", "targets", "tags", "equipment", "phases"} <= set(rows[0])


def test_library_list_and_show(runner):
    listing = runner.invoke(cli, ["library", "list"])
    assert listing.exit_code == 0
    assert "clamshell" in listing.stdout
    shown = runner.invoke(cli, ["library", "show", "clamshell"])
    assert shown.exit_code == 0
    assert "name: Clamshell" in shown.stdout
    assert "{{ other_side }}" in shown.stdout
    missing = runner.invoke(cli, ["library", "show", "clamshel"])
    assert missing.exit_code == 2
    assert missing.stderr.strip() == (
        "error: 'clamshel' is not an exercise in the library; "
        "did you mean clamshell, banded_clamshell?"
    )


@pytest.mark.parametrize(
    "command", [[], ["plan"], ["screen"], ["library"], ["library", "list"], ["library", "show"]]
)
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    if command != ["library"]:
        assert "Example:" in result.stdout


def test_help_does_not_import_the_renderers():
    code = (
        "import sys\n"
        "from hepplan.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('reportlab', 'jinja2', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy) or 'none', file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stderr.strip() == "none"


def test_an_output_that_is_not_a_regular_file_is_refused(runner, tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = runner.invoke(cli, ["plan", str(EXAMPLES / "tight-piriformis.yaml"), "-o", str(pipe)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {pipe}: is not a regular file; give a file name for the document\n"
    )
    assert pipe.is_fifo()  # still the pipe: never renamed over


def test_a_known_emergency_is_refused_whatever_is_still_unasked(runner, write_profile, tmp_path):
    """CLINICAL.md §1: the answers given already need emergency care, so the decision is
    refused at once (exit 3) and the redirect written; the unasked question is named."""
    data = profile_data(red_flags={"saddle_anesthesia": "yes"})
    del data["red_flags"]["fever_or_systemically_unwell"]
    out = tmp_path / "out.pdf"
    result = runner.invoke(cli, ["plan", str(write_profile(data)), "-o", str(out), "--json"])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "T-0001: EMERGENCY — do not prescribe (saddle_anesthesia). The patient must go to the "
        f"emergency department now, or call 911. Wrote the redirect document to {out} and the "
        f"clinician record to {tmp_path / 'T-0001.record.pdf'}",
        "T-0001: not yet asked (listed on the redirect for the doctor too):",
        "  red_flags.fever_or_systemically_unwell: Fever, chills or feeling very unwell along "
        "with the pain?",
    ]
    decision = json.loads(result.stdout)
    assert (decision["status"], decision["disposition"]) == ("refused", "emergency")
    assert decision["missing"] == ["fever_or_systemically_unwell"]
    assert out.read_bytes().startswith(b"%PDF-")
