"""Every command that reads a file, held against a corpus of hostile and odd inputs
(``tests/corpus/``): the right exit code, one readable line per problem naming the key, no
traceback, and nothing written. Odd but valid inputs give a sound PDF."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from hepplan.cli import cli

from .conftest import EXAMPLES, REPO, listing
from .conftest import TODAY as CLOCK_TODAY

CORPUS = Path(__file__).parent / "corpus"
VALID = EXAMPLES / "tight-piriformis.yaml"
TODAY = CLOCK_TODAY.isoformat()

#: corpus file → the problems reported for it, one per line ({f} is the file's path)
BAD = {
    "empty.yaml": ["{f}: the profile must be a mapping of keys to values; it is empty"],
    "whitespace.yaml": ["{f}: the profile must be a mapping of keys to values; it is empty"],
    "binary.yaml": ["{f}: not UTF-8 text (byte 129 cannot be read); save it as UTF-8"],
    "latin1.yaml": ["{f}: not UTF-8 text (byte 41 cannot be read); save it as UTF-8"],
    "utf16.yaml": ["{f}: saved as UTF-16; save it as UTF-8"],
    "list.yaml": ["{f}: the profile must be a mapping of keys to values; it is a list"],
    "scalar.yaml": ["{f}: the profile must be a mapping of keys to values; it is text"],
    "number.json": ["{f}: the profile must be a mapping of keys to values; it is a number"],
    "billion-laughs.yaml": ["{f}: line 1, column 4: anchors (&name) are not allowed"],
    "alias-only.yaml": ["{f}: line 1, column 10: aliases (*name) are not allowed"],
    "deep-flow.yaml": ["{f}: line 1, column 58: nested too deeply (more than 50 levels)"],
    "deep-block.yaml": ["{f}: line 51, column 101: nested too deeply (more than 50 levels)"],
    "deep.json": ["{f}: nested too deeply (more than 50 levels)"],
    "duplicate-key.yaml": ["{f}: line 2, column 1: key 'format' is given twice (first on line 1)"],
    "duplicate-key.json": ["{f}: key 'format' is given twice"],
    "python-object.yaml": [
        "{f}: line 2, column 10: YAML tags (tag:yaml.org,2002:python/object/apply:os.system) "
        "are not allowed; write plain values"
    ],
    "custom-tag.yaml": [
        "{f}: line 2, column 10: YAML tags (!patient) are not allowed; write plain values"
    ],
    "bad-syntax.yaml": ["{f}: line 3, column 1: did not find expected ',' or '}}'"],
    "bad-syntax.json": [
        "{f}: line 1, column 14: not valid JSON: Expecting property name enclosed in double quotes"
    ],
    "wrong-types.yaml": [
        "{f}: patient.name: should be text",
        "{f}: patient.age: the value is not an age in whole years; allowed: whole numbers 0 to 120",
        "{f}: assessment.irritability: 3 is not allowed; allowed: high, moderate or low",
        "{f}: assessment.pain_now: '7' is not a pain score; allowed: whole numbers 0 to 10",
        "{f}: assessment.conditions: should be a list, like [a, b]; given 'gtps'",
        "{f}: assessment.equipment: should be a list, like [a, b]; given {{'band': True}}",
    ],
    "out-of-range.yaml": [
        "{f}: patient.age: the value is out of range; allowed: whole numbers 0 to 120",
        "{f}: assessment.glute_strength.medius: 5.5 is not a muscle grade; allowed: 0 to 5, in "
        "steps of 0.5",
        "{f}: assessment.glute_strength.maximus: -1 is not a muscle grade; allowed: 0 to 5, in "
        "steps of 0.5",
        "{f}: assessment.pain_now: 11 is out of range; allowed: whole numbers 0 to 10",
    ],
    "impossible-date.yaml": ["{f}: assessment.date: '2026-02-30' is not a real date"],
    "future-date.yaml": [
        "{f}: assessment.date: 2999-01-01 is in the future; the assessment must have happened "
        f"by today ({TODAY})"
    ],
    "invalid-email.yaml": [
        "{f}: patient.email: the value is not an e-mail address like name@example.org"
    ],
    "id-traversal.yaml": [
        "{f}: patient.id: '../../etc/passwd' is not a valid id; use 1-64 characters of A-Z a-z "
        "0-9 . _ -"
    ],
    "id-separator.yaml": [
        "{f}: patient.id: 'clinic\\\\P-1' is not a valid id; use 1-64 characters of A-Z a-z 0-9 "
        ". _ -"
    ],
    "long-name.yaml": ["{f}: patient.name: is 5199 characters long; at most 200 are allowed"],
    "name-line-break.yaml": [
        "{f}: patient.name: must be one line of text (no line breaks or control characters)"
    ],
    "unknown-key.yaml": [
        "{f}: assessment.piriformus: is not a known key; allowed here: date, clinician, side, "
        "piriformis, glute_strength, radicular_level, radicular_side, irritability, pain_now, "
        "directional_preference, conditions, equipment"
    ],
    "octal-age.yaml": [
        "{f}: line 6, column 8: '060' has a leading zero; numbers are read as plain decimals "
        "(YAML 1.2): write it like 60 or 2.5, or put it in quotes if it is text"
    ],
    "sexagesimal-format.yaml": [
        "{f}: line 1, column 9: '1:00' is in base 60 (like a time); numbers are read as plain "
        "decimals (YAML 1.2): write it like 60 or 2.5, or put it in quotes if it is text"
    ],
    "dot-id.yaml": [
        "{f}: patient.id: '.hidden' is not a valid id; it must not start with . or - "
        "(documents are named after it)"
    ],
    "patient-as-text.yaml": ["{f}: patient: should be a mapping of keys to values"],
    "email-as-list.json": [
        "{f}: patient.email: the value is not an e-mail address like name@example.org"
    ],
    "line-separator.yaml": [
        "{f}: patient.name: must be one line of text (no line breaks or control characters)"
    ],
    "lone-surrogate.json": [
        "{f}: patient.name: holds a \\u escape of half a character (a lone surrogate, "
        "\\ud800-\\udfff), which is not text; write the character itself"
    ],
}
#: corpus files whose errors must not repeat any of the patient's details
PRIVATE = (
    "long-name.yaml",
    "name-line-break.yaml",
    "invalid-email.yaml",
    "patient-as-text.yaml",
    "email-as-list.json",
    "line-separator.yaml",
    "lone-surrogate.json",
)
#: odd but valid: corpus file → text the PDF must show literally
ODD = {
    "bom-crlf.yaml": "Jordan Avery",
    "many-scripts.yaml": "Zoë Łukasz-Ñúñez Ελένη Дмитрий",
    "markup.yaml": "<script>alert('x')</script> & Co",
    "longest-name.yaml": "Maximiliana Maximiliana",
}
NEVER_SHOWN = ("Jordan", "Avery", "Secret", "1990", "HIV")  # patient details never in errors


def test_the_corpus_and_the_tables_agree():
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted([*BAD, *ODD])


def lines(name: str, path: Path) -> list[str]:
    return [f"error: {line.format(f=path)}" for line in BAD[name]]


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("command", ["plan", "screen", "email"])
def test_bad_profiles(runner, workdir, name, command):
    path = workdir / name
    shutil.copy(CORPUS / name, path)
    args = {
        "plan": ["plan", str(path), "-o", str(workdir / "out.pdf")],
        "screen": ["screen", str(path)],
        "email": ["email", str(path), "--to", "pat@example.org", "--eml", str(workdir / "out.eml")],
    }[command]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == lines(name, path)
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert listing(workdir) == [name]  # nothing written
    if name in PRIVATE:
        assert not any(word in result.output for word in NEVER_SHOWN)


def test_bad_profiles_in_a_batch(runner, workdir):
    import json

    profiles = workdir / "profiles"
    profiles.mkdir()
    for name in BAD:
        shutil.copy(CORPUS / name, profiles / name)
    shutil.copy(VALID, profiles / "valid.yaml")
    result = runner.invoke(cli, ["batch", str(profiles), "-o", str(workdir / "out"), "--json"])
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert (report["built"], report["failed"]) == (1, len(BAD))
    for item in report["items"]:
        name = Path(item["profile"]).name
        if name != "valid.yaml":
            assert (item["status"], item["pdf"]) == ("invalid", None)
            assert [f"error: {e}" for e in item["errors"]] == lines(name, profiles / name)
    assert sorted(p.name for p in (workdir / "out").glob("*.pdf")) == ["P-1001.pdf"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted([*BAD, *ODD]))
def test_bad_clinic_files(runner, workdir, name):
    path = workdir / name
    shutil.copy(CORPUS / name, path)
    result = runner.invoke(
        cli, ["plan", str(VALID), "--clinic", str(path), "-o", str(workdir / "out.pdf")]
    )
    assert result.exit_code == 2, result.output
    problems = result.stderr.splitlines()
    assert problems and all(line.startswith(f"error: {path}: ") for line in problems), problems
    assert "Traceback" not in result.output
    assert listing(workdir) == [name]


@pytest.mark.parametrize("name", sorted([*BAD, *ODD]))
def test_bad_exercise_files(runner, tmp_path, name):
    library = tmp_path / "library"
    shutil.copytree(REPO / "exercises", library)
    shutil.copy(CORPUS / name, library / "zz_hostile.yaml")
    before = listing(library)
    result = runner.invoke(cli, ["library", "check", "--library", str(library)])
    assert result.exit_code == 1, result.output
    problems = result.stderr.splitlines()
    assert (
        problems[-1] == f"{library}: {len(problems) - 1} problem(s); the library is not fit to use"
    )
    assert all(
        line.startswith(f"error: {library / 'zz_hostile.yaml'}: ") for line in problems[:-1]
    ), problems
    assert "Traceback" not in result.output
    assert listing(library) == before


@pytest.mark.parametrize(("name", "shown"), sorted(ODD.items()))
def test_odd_but_valid_profiles_give_a_sound_pdf(runner, workdir, name, shown):
    out = workdir / "out.pdf"
    result = runner.invoke(cli, ["plan", str(CORPUS / name), "-o", str(out)])
    assert result.exit_code == 0, result.output
    check = subprocess.run(["qpdf", "--check", str(out)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    reader = PdfReader(out)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert shown in text
    metadata = " ".join(str(value) for value in (reader.metadata or {}).values())
    assert shown not in metadata and "Jordan" not in metadata


def test_a_file_of_tens_of_megabytes_is_refused_before_parsing(runner, workdir):
    path = workdir / "huge.yaml"
    with path.open("w") as handle:
        handle.write("format: 1\nnotes: '")
        handle.write("x" * (20 * 1024 * 1024))
        handle.write("'\n")
    result = runner.invoke(cli, ["plan", str(path), "-o", str(workdir / "out.pdf")])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {path}: the file is {path.stat().st_size:,} bytes; at most 1,048,576 are read\n"
    )
    assert listing(workdir) == ["huge.yaml"]


@pytest.mark.parametrize("brackets", [51, 899, 900, 1000, 1200, 100_000])
@pytest.mark.parametrize("opener", ["[", "{"])
def test_deep_flow_nesting_is_refused_by_hepplan_whatever_the_parser(brackets, opener):
    """libyaml stops at its own limit (1000 levels); hepplan's check must speak first, with
    its line and column, for every document, so the message never depends on PyYAML's version.
    """
    from hepplan.errors import InputError
    from hepplan.io.loading import parse_document

    with pytest.raises(InputError) as refused:
        parse_document("format: " + opener * brackets, "deep.yaml")
    assert str(refused.value) == (
        "deep.yaml: line 1, column 58: nested too deeply (more than 50 levels)"
    )


@pytest.mark.parametrize("name", ["billion-laughs.yaml", "deep-flow.yaml", "deep.json"])
def test_the_nastiest_files_end_quickly_in_a_real_process(workdir, name):
    """A hang here would be a denial of service; the timeout only guards the test run."""
    done = subprocess.run(
        [sys.executable, "-m", "hepplan", "plan", str(CORPUS / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == lines(name, CORPUS / name)
    assert listing(workdir) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "{dir}"], "{dir}: is a folder, not a file"),
        (["plan", "{dir}/missing.yaml"], "{dir}/missing.yaml: no such file"),
        (
            ["plan", str(VALID), "-o", "{dir}/missing/out.pdf"],
            "{dir}/missing/out.pdf: the folder {dir}/missing does not exist",
        ),
        (
            ["plan", str(VALID), "-o", "{dir}"],
            "{dir}: is a folder; give a file name such as {dir}/program.pdf",
        ),
        (["screen", "{dir}"], "{dir}: is a folder, not a file"),
        (
            ["email", "{dir}/missing.yaml", "--eml", "{dir}/m.eml"],
            "{dir}/missing.yaml: no such file",
        ),
    ],
)
def test_paths_that_are_not_files(runner, workdir, args, message):
    args = [arg.format(dir=workdir) for arg in args]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message.format(dir=workdir)}\n"
    assert listing(workdir) == []
