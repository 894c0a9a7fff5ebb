"""Hardening, round two: an exercise library cannot run code, numbers are decimal, only regular
files are read, no output replaces an input, and patient details stay out of error messages.

Each test states what a user sees: the exit code, the exact message, and what is (not) written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from hepplan.cli import cli

from .conftest import EXAMPLES, REPO, fill, listing, profile_data, small_disk_at

VALID = EXAMPLES / "tight-piriformis.yaml"
CLINIC = "name: Riverside PT\nphone: '555 0100'\nemail: desk@example.org\n"


def hostile_library(folder: Path, step: str) -> Path:
    """A copy of the shipped library whose clamshell has ``step`` as its first step."""
    library = folder / "library"
    shutil.copytree(REPO / "exercises", library)
    path = library / "clamshell.yaml"
    text = path.read_text()
    old = '  - "Rest your head on your arm or a pillow."\n'
    assert old in text
    path.write_text(text.replace(old, f"  - {json.dumps(step)}\n", 1))
    return library


# --- 1. an exercise library cannot run code ---------------------------------------------------

PAYLOAD = "{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}} Lie down."


@pytest.mark.parametrize("command", ["plan", "library check", "library list", "batch"])
def test_an_exercise_step_cannot_run_a_command(runner, tmp_path, workdir, command):
    marker = tmp_path / "pwned"
    library = hostile_library(tmp_path, PAYLOAD.format(marker=marker))
    args = {
        "plan": ["plan", str(VALID), "-o", "out.pdf"],
        "library check": ["library", "check"],
        "library list": ["library", "list"],
        "batch": ["batch", str(EXAMPLES), "-o", "out"],
    }[command].copy()
    result = runner.invoke(cli, [*args, "--library", str(library)])
    assert not marker.exists()  # nothing ran
    assert result.exit_code == 1, result.output
    assert (
        f"error: {library / 'clamshell.yaml'}: steps[1]: only {{{{ side }}}} and "
        "{{ other_side }} may be filled in, nothing else is evaluated; found "
        "'{{ cycler.__init__.__globals__.os.popen('\n"
    ) in result.stderr
    assert not (workdir / "out.pdf").exists()
    # Screening needs no library: the one refusal among the examples still gets its redirect.
    # Its clinician record too, which says the library could not be used.
    redirects = ["out/P-1005.pdf", "out/records/P-1005.pdf"] if command == "batch" else []
    assert sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*.pdf")) == redirects
    if command == "batch":
        from pypdf import PdfReader

        chart = " ".join(p.extract_text() for p in PdfReader(workdir / redirects[1]).pages)
        assert "library version none (the library could not be used)" in " ".join(chart.split())


@pytest.mark.parametrize(
    ("where", "source", "problem"),
    [
        (
            "steps[1]",
            "{% for i in range(10**8) %}x{% endfor %}",
            "only {{ side }} and {{ other_side }} may be filled in, nothing else is evaluated; "
            "found '{% for i in range(10**8) %}x{% endfor %}'",
        ),
        (
            "steps[1]",
            "Rest your {{ side|upper }} arm.",
            "only {{ side }} and {{ other_side }} may be filled in, nothing else is evaluated; "
            "found '{{ side|upper }} arm.'",
        ),
        (
            "steps[1]",
            "Rest {# a comment #} here.",
            "only {{ side }} and {{ other_side }} may be filled in, nothing else is evaluated; "
            "found '{# a comment #} here.'",
        ),
        (
            "steps[1]",
            "Rest on {{ name }}.",
            "{{ name }} is not filled in; only {{ side }} and {{ other_side }} are",
        ),
    ],
)
def test_library_check_refuses_every_template_construct(runner, tmp_path, where, source, problem):
    library = hostile_library(tmp_path, source)
    started = time.monotonic()
    result = runner.invoke(cli, ["library", "check", "--library", str(library)])
    assert time.monotonic() - started < 30
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: {library / 'clamshell.yaml'}: {where}: {problem}",
        f"{library}: 1 problem(s); the library is not fit to use",
    ]


def test_filling_in_the_side_evaluates_nothing(tmp_path):
    """Defence in depth: even text that never went through the library's checks is only
    substituted, never evaluated."""
    from hepplan.domain.library import fill_side

    marker = tmp_path / "pwned"
    source = PAYLOAD.format(marker=marker) + " Turn to your {{ side }}, then {{other_side}}."
    filled = fill_side(source, "right")
    assert not marker.exists()
    assert filled.endswith("Lie down. Turn to your right, then left.")
    assert filled.startswith("{{ cycler.")


def test_templates_render_in_the_sandbox():
    import jinja2.sandbox

    from hepplan.words.catalog import environment

    assert isinstance(environment(), jinja2.sandbox.ImmutableSandboxedEnvironment)
    with pytest.raises(jinja2.exceptions.SecurityError):
        environment().from_string("{{ cycler.__init__.__globals__ }}").render()
    # one environment: the e-mail's HTML body is escaped, the PDF's text is not (it is
    # escaped where it enters a paragraph)
    html = environment().get_template("en/email.html.j2")
    assert html.environment.autoescape("en/email.html.j2")
    assert not html.environment.autoescape("en/handout.j2")


# --- 4, 13, 15. numbers are decimal ------------------------------------------------------------

NOT_DECIMAL = (
    "numbers are read as plain decimals (YAML 1.2): write it like 60 or 2.5, or put it in "
    "quotes if it is text"
)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("  age: 34", "  age: 060", "line 6, column 8: '060' has a leading zero"),
        ("  age: 34", "  age: 1:05", "line 6, column 8: '1:05' is in base 60 (like a time)"),
        ("  age: 34", "  age: 0x3C", "line 6, column 8: '0x3C' is hexadecimal, octal or binary"),
        ("  age: 34", "  age: 0o74", "line 6, column 8: '0o74' is hexadecimal, octal or binary"),
        ("  age: 34", "  age: 6_0", "line 6, column 8: '6_0' has an underscore"),
        ("format: 1", "format: 0x1", "line 1, column 9: '0x1' is hexadecimal, octal or binary"),
        ("format: 1", "format: +1", "line 1, column 9: '+1' has a + sign"),
        ("format: 1", "format: 1:00", "line 1, column 9: '1:00' is in base 60 (like a time)"),
    ],
)
def test_numbers_are_yaml_1_2_decimals(runner, workdir, old, new, problem):
    """``age: 060`` with unrelenting night pain was read as 48: a program instead of an urgent
    refusal (over 50). Now it is an input error and nothing is written."""
    text = (REPO / "tests" / "corpus" / "octal-age.yaml").read_text()
    text = text.replace("  age: 060", "  age: 34").replace(
        "unrelenting_night_pain: false", "unrelenting_night_pain: true"
    )
    path = workdir / "p.yaml"
    path.write_text(text.replace(old, new, 1))
    result = runner.invoke(cli, ["plan", str(path), "-o", "out.pdf"])
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: {path}: {problem}; {NOT_DECIMAL}\n"
    assert listing(workdir) == ["p.yaml"]


def test_a_decimal_age_still_counts(runner, workdir):
    text = (REPO / "tests" / "corpus" / "octal-age.yaml").read_text()
    path = workdir / "p.yaml"
    path.write_text(
        text.replace("  age: 060", "  age: 60").replace(
            "unrelenting_night_pain: false", "unrelenting_night_pain: true"
        )
    )
    result = runner.invoke(cli, ["plan", str(path), "-o", "out.pdf"])
    assert result.exit_code == 3  # over 50 with night pain: urgent refusal


def test_a_json_format_of_1_0_is_not_format_1(runner, write_profile, workdir):
    path = write_profile(profile_data(format=1.0), "p.json")
    result = runner.invoke(cli, ["screen", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: format: format 1.0 is not known; known formats: 1\n"


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("phone: 0201234567", "line 1, column 8: '0201234567' has a leading zero; " + NOT_DECIMAL),
        (
            "emergency_number: 0112",
            "line 1, column 19: '0112' has a leading zero; " + NOT_DECIMAL,
        ),
        ("emergency_number: 000", "line 1, column 19: '000' has a leading zero; " + NOT_DECIMAL),
        (
            "emergency_number: 112",
            'emergency_number: write the number in quotes, like "112", so that it is kept '
            "exactly as written",
        ),
        ("phone: '..'", "phone: '..' is not a phone number (digits, spaces, + ( ) - .)"),
        ("phone: '()'", "phone: '()' is not a phone number (digits, spaces, + ( ) - .)"),
    ],
)
def test_clinic_numbers_are_quoted_text_with_a_digit(runner, workdir, line, problem):
    clinic = workdir / "clinic.yaml"
    clinic.write_text(line + "\n")
    result = runner.invoke(cli, ["plan", str(VALID), "--clinic", str(clinic), "-o", "out.pdf"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {clinic}: {problem}\n"
    assert listing(workdir) == ["clinic.yaml"]


def test_a_quoted_000_is_printed_as_written(runner, workdir):
    from pypdf import PdfReader

    clinic = workdir / "clinic.yaml"
    clinic.write_text("emergency_number: '000'\nphone: '0201234567'\n")
    cauda = EXAMPLES / "cauda-equina-emergency.yaml"
    result = runner.invoke(cli, ["plan", str(cauda), "--clinic", str(clinic), "-o", "out.pdf"])
    assert result.exit_code == 3
    assert "or call 000" in result.stderr
    words = " ".join(page.extract_text() for page in PdfReader("out.pdf").pages)
    assert "000" in words and "74" not in words.replace("2074", "")


# --- 6. only regular files are read ------------------------------------------------------------


def run_hepplan(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """In a real process: a blocked read would hang here (the timeout guards the test run)."""
    return subprocess.run(
        [sys.executable, "-m", "hepplan", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
    )


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("fifo", "is a named pipe, not a file; hepplan reads only regular files"),
        ("zero", "is a device, not a file; hepplan reads only regular files"),
    ],
)
@pytest.mark.parametrize("role", ["profile", "clinic", "logo"])
def test_pipes_and_devices_are_refused_at_once(workdir, kind, message, role):
    special = workdir / "special.yaml"
    if kind == "fifo":
        os.mkfifo(special)
    else:
        special.symlink_to("/dev/zero")
    profile, clinic = str(VALID), workdir / "clinic.yaml"
    if role == "profile":
        profile, args = str(special), []
        expected = f"error: {special}: {message}"
    elif role == "clinic":
        args, expected = ["--clinic", str(special)], f"error: {special}: {message}"
    else:
        clinic.write_text(CLINIC + "logo: special.yaml\n")
        args = ["--clinic", str(clinic)]
        expected = f"error: {clinic}: logo: 'special.yaml' {message}"
    done = run_hepplan("plan", profile, "-o", "out.pdf", *args, cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [expected]
    assert not (workdir / "out.pdf").exists()


def test_a_pipe_in_a_library_folder_is_one_problem(workdir):
    library = workdir / "library"
    shutil.copytree(REPO / "exercises", library)
    os.mkfifo(library / "zz_pipe.yaml")
    done = run_hepplan("library", "check", "--library", str(library), cwd=workdir)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: {library / 'zz_pipe.yaml'}: is a named pipe, not a file; hepplan reads only "
        "regular files",
        f"{library}: 1 problem(s); the library is not fit to use",
    ]


def test_a_pipe_and_a_device_in_a_profiles_folder_do_not_stall_a_batch(workdir):
    profiles = workdir / "profiles"
    profiles.mkdir()
    shutil.copy(VALID, profiles / "valid.yaml")
    os.mkfifo(profiles / "pipe.yaml")
    done = run_hepplan("batch", str(profiles), "-o", "out", "--jobs", "1", cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert (
        f"error: {profiles / 'pipe.yaml'}: is a named pipe, not a file; hepplan reads only "
        "regular files"
    ) in done.stderr.splitlines()
    assert sorted(p.name for p in (workdir / "out").glob("*.pdf")) == ["P-1001.pdf"]


def test_a_file_that_claims_no_size_is_still_read_with_a_bound(runner, workdir):
    """/proc files report a size of 0: the read is bounded by what arrives, not by st_size."""
    result = runner.invoke(cli, ["screen", "/proc/self/status"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: /proc/self/status: line ")


# --- 5, 14. outputs never replace an input -----------------------------------------------------


@pytest.fixture
def inputs(workdir):
    shutil.copy(VALID, workdir / "me.yaml")
    Image.new("RGB", (60, 30), (20, 90, 160)).save(workdir / "logo.png")
    (workdir / "clinic.yaml").write_text(CLINIC + "logo: logo.png\n")
    return {p.name: p.read_bytes() for p in workdir.iterdir()}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "me.yaml", "-o", "me.yaml"], "me.yaml: is the profile (me.yaml)"),
        (["plan", "me.yaml", "-o", "clinic.yaml"], "clinic.yaml: is the clinic file (clinic.yaml)"),
        (
            ["plan", "me.yaml", "-o", "logo.png"],
            "logo.png: is the clinic's logo (logo.png)",
        ),
        (["plan", "me.yaml", "-o", "./me.yaml"], "me.yaml: is the profile (me.yaml)"),
        (["plan", "me.yaml", "-o", "link.pdf"], "link.pdf: is the profile (me.yaml)"),
        (
            ["email", "me.yaml", "--to", "a@example.org", "--eml", "me.yaml"],
            "me.yaml: is the profile (me.yaml)",
        ),
        (
            ["email", "me.yaml", "--to", "a@example.org", "--eml", "clinic.yaml"],
            "clinic.yaml: is the clinic file (clinic.yaml)",
        ),
    ],
)
def test_an_output_that_is_an_input_is_refused(runner, workdir, inputs, args, message):
    (workdir / "link.pdf").symlink_to("me.yaml")
    result = runner.invoke(cli, [*args, "--clinic", "clinic.yaml"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {message.format(dir=workdir)}; writing the document there would destroy it. "
        "Give another file name\n"
    )
    assert {name: (workdir / name).read_bytes() for name in inputs} == inputs
    assert listing(workdir) == sorted([*inputs, "link.pdf"])


def test_a_profile_named_like_its_default_output_is_not_replaced(runner, workdir):
    profile = workdir / "P-1001.pdf"
    shutil.copy(VALID, profile)
    before = profile.read_bytes()
    result = runner.invoke(cli, ["plan", "P-1001.pdf"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {workdir / 'P-1001.pdf'}: is the profile (P-1001.pdf); writing the document "
        "there would destroy it. Give another file name\n"
    )
    assert profile.read_bytes() == before


def test_a_batch_never_writes_over_its_clinic_file(runner, workdir):
    out = workdir / "out"
    out.mkdir()
    clinic = out / "P-1001.pdf"
    clinic.write_text(CLINIC)
    result = runner.invoke(cli, ["batch", str(EXAMPLES), "-o", str(out), "--clinic", str(clinic)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {clinic}: the clinic file is where batch writes its documents ({out}); move "
        "it out of that folder\n"
    )
    assert clinic.read_text() == CLINIC
    assert listing(out) == ["P-1001.pdf"]


@pytest.mark.parametrize("option", ["-o", "--eml"])
def test_an_output_ending_in_a_slash_is_a_folder(runner, workdir, option):
    args = ["plan", str(VALID)] if option == "-o" else ["email", str(VALID), "--to", "a@b.org"]
    result = runner.invoke(cli, [*args, option, "newdir/"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: newdir/: ends with a slash, so it names a folder; give a file name such as "
        "newdir/program.pdf\n"
    )
    assert listing(workdir) == []


def test_a_replaced_file_is_reported_and_a_read_only_one_refused(runner, workdir):
    first = runner.invoke(cli, ["plan", str(VALID), "-o", "out.pdf"])
    assert first.stderr == (
        "P-1001: program prescribed (disposition none); wrote out.pdf and the clinician record "
        "P-1001.record.pdf\n"
    )
    again = runner.invoke(cli, ["plan", str(VALID), "-o", "out.pdf"])
    assert again.exit_code == 0
    assert again.stderr == (
        "P-1001: program prescribed (disposition none); wrote out.pdf (it replaced the file "
        "that was there) and the clinician record P-1001.record.pdf (it replaced the file that "
        "was there)\n"
    )
    (workdir / "out.pdf").chmod(0o444)
    before = (workdir / "out.pdf").read_bytes()
    refused = runner.invoke(cli, ["plan", str(VALID), "-o", "out.pdf"])
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: out.pdf: is read-only; hepplan will not replace it. Give another name\n"
    )
    assert (workdir / "out.pdf").read_bytes() == before


@pytest.mark.parametrize("patient_id", [".hidden", "-rf", "-", ".P-1"])
def test_ids_that_would_make_hidden_or_dash_files_are_refused(
    runner, write_profile, workdir, patient_id
):
    path = write_profile(profile_data(patient={"id": patient_id, "name": "A"}))
    result = runner.invoke(cli, ["plan", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: patient.id: {patient_id!r} is not a valid id; it must not start with "
        ". or - (documents are named after it)\n"
    )
    assert listing(workdir) == []


# --- 11. patient details never leak into errors ----------------------------------------------


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"patient": "Jordan Avery, DOB 1990-02-03, HIV positive"},
            "patient: should be a mapping of keys to values",
        ),
        (
            {"patient": {"id": "P-1", "name": "A", "email": ["jordan.avery@example.org"]}},
            "patient.email: the value is not an e-mail address like name@example.org",
        ),
        (
            {"patient": {"id": "P-1", "name": "A", "age": "Jordan Avery HIV"}},
            "patient.age: the value is not an age in whole years; allowed: whole numbers 0 to 120",
        ),
        (
            {"patient": {"id": "P-1", "name": {"first": "Jordan", "last": "Avery"}}},
            "patient.name: should be text",
        ),
        (
            {"patient": {"id": "P-1", "name": "A", "Jordan Avery HIV": 1}},
            "patient: holds a key that is not known",
        ),
        (
            {"patient": {"id": {"Jordan": "Avery"}, "name": "A"}},
            "patient.id: the value is not a valid id; use 1-64 characters of A-Z a-z 0-9 . _ -",
        ),
        ({"plan": {"notes": ["Jordan Avery HIV"]}}, "plan.notes: should be text"),
        (
            {"patient": {"id": "P-1", "name": "A", "email": "jordán@example.org"}},
            "patient.email: the value is not an e-mail address like name@example.org",
        ),
    ],
)
def test_patient_details_are_redacted_by_location(runner, write_profile, section, problem):
    path = write_profile(profile_data(**section))
    result = runner.invoke(cli, ["screen", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: {problem}\n"
    for word in ("Jordan", "Avery", "HIV", "1990", "jordán"):
        assert word not in result.stderr


# --- 12. the user's input or environment: exit 2, one line, nothing written --------------------


def test_a_truncated_logo_is_refused_when_the_clinic_file_is_read(runner, workdir):
    Image.new("RGB", (300, 200), (200, 30, 30)).save(workdir / "full.png")
    data = (workdir / "full.png").read_bytes()
    (workdir / "logo.png").write_bytes(data[: len(data) // 2])
    (workdir / "full.png").unlink()
    (workdir / "clinic.yaml").write_text(CLINIC + "logo: logo.png\n")
    result = runner.invoke(cli, ["plan", str(VALID), "--clinic", "clinic.yaml", "-o", "out.pdf"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: clinic.yaml: logo: 'logo.png' is not an image that can be read (use PNG or JPEG)\n"
    )
    assert listing(workdir) == ["clinic.yaml", "logo.png"]


def test_a_line_separator_in_the_clinic_name_is_refused(runner, workdir):
    (workdir / "clinic.yaml").write_text(
        'name: "Riverside\\u2028Bcc: x@example.org"\nphone: "555 0100"\nemail: d@example.org\n'
    )
    result = runner.invoke(
        cli,
        ["email", str(VALID), "--clinic", "clinic.yaml", "--to", "a@example.org", "--eml", "m.eml"],
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "error: clinic.yaml: name: must be one line of text (no line breaks or control "
        "characters)\n"
    )
    assert listing(workdir) == ["clinic.yaml"]


@pytest.mark.parametrize(
    "args",
    [
        ["plan", str(VALID), "-o", "out.pdf"],
        ["library", "check"],
        ["library", "list"],
    ],
)
def test_a_missing_library_folder_is_an_input_error(runner, workdir, args):
    result = runner.invoke(cli, [*args, "--library", "nowhere"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: nowhere: no such library folder; give the folder that holds the exercise files\n"
    )
    assert listing(workdir) == []


def test_a_batch_with_a_missing_library_still_writes_the_redirects(runner, workdir):
    """Screening needs no library (CLINICAL.md §1): the emergency among the examples gets its
    redirect; every program waits for a library; the run exits 2 for the missing folder."""
    result = runner.invoke(cli, ["batch", str(EXAMPLES), "-o", "out", "--library", "nowhere"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert (
        "error: nowhere: no such library folder; give the folder that holds the exercise files"
        in lines
    )
    assert any(line.startswith("P-1005: EMERGENCY") for line in lines)
    assert sum("not built: the exercise library cannot be used" in line for line in lines) == 8
    assert sorted(p.name for p in (workdir / "out").glob("*.pdf")) == ["P-1005.pdf"]


def test_a_batch_with_a_broken_library_still_writes_the_redirects(runner, workdir):
    library = workdir / "library"
    shutil.copytree(REPO / "exercises", library)
    (library / "clamshell.yaml").write_text("id: clamshell\nname: [unclosed\n", encoding="utf-8")
    result = runner.invoke(cli, ["batch", str(EXAMPLES), "-o", "out", "--library", "library"])
    assert result.exit_code == 1, result.output
    assert any(
        line.startswith("error: library/clamshell.yaml") for line in result.stderr.splitlines()
    )
    assert sorted(p.name for p in (workdir / "out").glob("*.pdf")) == ["P-1005.pdf"]
    again = runner.invoke(cli, ["batch", str(EXAMPLES), "-o", "out"])  # the library mended
    assert again.exit_code == 4, again.output  # the incomplete example is still incomplete
    assert len(list((workdir / "out").glob("*.pdf"))) == 9


def test_a_batch_state_folder_it_cannot_write_is_an_input_error(runner, workdir):
    """As root, permissions cannot be taken away; a folder where the lock file goes fails the
    same way a root-owned .hepplan folder does."""
    (workdir / "out" / ".hepplan" / "lock").mkdir(parents=True)
    result = runner.invoke(cli, ["batch", str(EXAMPLES), "-o", "out"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: out/.hepplan/lock: cannot be written (Is a directory); the output folder's "
        ".hepplan folder must be writable by whoever runs the batch\n"
    )
    assert listing(workdir / "out") == [".hepplan", ".hepplan/lock"]


# --- 15. an overlong address is not echoed in full ---------------------------------------------


def test_a_five_thousand_character_address_is_cut_short(runner, workdir):
    address = "x" * 5000
    result = runner.invoke(cli, ["email", str(VALID), "--to", address, "--eml", "m.eml"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: --to: {'x' * 60!r}… (5,000 characters) is not an e-mail address like "
        "name@example.org\n"
    )


@pytest.mark.parametrize(
    ("name", "subject"),
    [
        ("Praxis für Rückenschmerzen", "Your home exercise program"),
        ("Clínica del Dolor Lumbar", "Your home exercise program"),
        ("Centre de la Douleur", "Your home exercise program"),
        ("Fisioterapia Ciática Madrid", "Your home exercise program"),
        ("Центр боли", "Your home exercise program"),
        ("Zoë Health", "Your home exercise program from Zoë Health"),
        (
            "Riverside Physical Therapy",
            "Your home exercise program from Riverside Physical Therapy",
        ),
    ],
)
def test_the_subject_filter_is_not_english_only(name, subject):
    from hepplan.deliver import mail
    from hepplan.domain.clinic import Clinic

    assert mail.subject(Clinic(name=name)) == subject


def test_assess_stops_at_the_first_answer_that_is_not_utf8(workdir):
    done = subprocess.run(
        [sys.executable, "-m", "hepplan", "assess", "-o", "new.yaml"],
        input=b"P-1\n\xff\xfeJordan\n" + b"no\n" * 60,
        capture_output=True,
        timeout=60,
        cwd=workdir,
        env={**os.environ, "LC_ALL": "C", "LANG": "C"},
    )
    assert done.returncode == 2
    assert done.stderr.decode() == (
        "error: an answer could not be read as text (UTF-8); nothing was written\n"
    )
    assert done.stdout.decode().endswith("Name: ")  # the second question was the last asked
    assert listing(workdir) == []


def test_a_template_block_is_bounded():
    import jinja2

    from hepplan.words.catalog import words

    assert "call 112" in words().say("signs.emergency_action", emergency_number="112")
    with pytest.raises(jinja2.TemplateRuntimeError, match="longer than 20,000 characters"):
        words().say("signs.emergency_action", emergency_number="1" * 30_000)


def test_a_full_disk_is_the_users_to_fix_and_leaves_nothing_half_written(runner, tmp_path):
    """A real 1 MB file system, filled: the handout cannot be written (exit 2, one line)."""
    with small_disk_at(tmp_path / "disk", "1m") as disk:
        fill(disk)
        out = disk / "P-1001.pdf"
        result = runner.invoke(cli, ["plan", str(VALID), "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert result.stderr == (
            f"error: {out}: cannot be written (No space left on device); free some space, "
            "or choose another folder\n"
        )
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
