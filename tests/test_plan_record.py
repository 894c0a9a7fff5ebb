"""`hepplan plan` writes two documents (CLINICAL.md §3): the patient's handout (or the redirect)
and the clinician record for the chart. Read back as a reader sees them, with pypdf."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from hepplan.cli import cli

from .conftest import EXAMPLES, REPO, fill, listing, profile_data, small_disk_at

TIGHT = EXAMPLES / "tight-piriformis.yaml"
EMERGENCY = EXAMPLES / "cauda-equina-emergency.yaml"
INCOMPLETE = EXAMPLES / "screening-incomplete.yaml"
CLINIC = REPO / "examples" / "clinic.yaml"


def text(path: Path) -> str:
    """A PDF's text as a reader sees it, white space folded."""
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def rule_ids(trace: list[str]) -> set[str]:
    """The rule ids a decision trace names: each line starts with one (``FILL: ...``)."""
    return {line.split(":", 1)[0] for line in trace}


def patient_document(path: Path, clinic: Path | None = None) -> bytes:
    """The handout or redirect for this profile, as the renderer makes it."""
    from hepplan.app import decide, render
    from hepplan.io.clinic import load_clinic

    return render(decide(path), load_clinic(clinic))


def plan(runner, *args):
    return runner.invoke(cli, ["plan", *map(str, args)])


def assert_record_of(path: Path, status: str, trace: list[str]) -> str:
    """``path`` is a clinician record for this decision: its heading, its status, its trace
    with every rule id."""
    chart = text(path)
    assert chart.startswith("Clinician record")
    assert status in chart
    assert "Decision trace" in chart
    assert trace and all(" ".join(line.split()) in chart for line in trace)
    assert rule_ids(trace) and all(rule in chart for rule in rule_ids(trace))
    return chart


# --- where the two documents go -------------------------------------------------------------


def test_a_prescribed_plan_writes_the_handout_and_the_record_beside_it(runner, workdir):
    result = plan(runner, TIGHT, "--clinic", CLINIC, "--json")
    assert result.exit_code == 0, result.output
    assert listing(workdir) == ["P-1001.pdf", "P-1001.record.pdf"]
    assert result.stderr == (
        f"P-1001: program prescribed (disposition none); wrote {workdir / 'P-1001.pdf'} and "
        f"the clinician record {workdir / 'P-1001.record.pdf'}\n"
    )
    decision = json.loads(result.stdout)  # stdout stays the decision alone
    handout = text(workdir / "P-1001.pdf")
    assert (workdir / "P-1001.pdf").read_bytes() == patient_document(TIGHT, CLINIC)
    assert "Clinician record" not in handout and "Red-flag screening" not in handout
    chart = assert_record_of(
        workdir / "P-1001.record.pdf", "Program prescribed (disposition: none)", decision["trace"]
    )
    assert f"library version {decision['library_version']}" in chart
    assert re.search(r"content digest [0-9a-f]{16} \(the exercises of this program\)", chart)


def test_the_record_goes_beside_the_output_by_default(runner, workdir):
    (workdir / "handouts").mkdir()
    result = plan(runner, TIGHT, "-o", "handouts/jordan.pdf")
    assert result.exit_code == 0, result.output
    assert listing(workdir) == ["handouts", "handouts/P-1001.record.pdf", "handouts/jordan.pdf"]
    assert result.stderr.endswith(
        "wrote handouts/jordan.pdf and the clinician record handouts/P-1001.record.pdf\n"
    )


def test_record_names_the_record_file(runner, workdir):
    (workdir / "chart").mkdir()
    result = plan(runner, TIGHT, "-o", "out.pdf", "--record", "chart/jordan-avery.pdf")
    assert result.exit_code == 0, result.output
    assert listing(workdir) == ["chart", "chart/jordan-avery.pdf", "out.pdf"]
    assert result.stderr.endswith("wrote out.pdf and the clinician record chart/jordan-avery.pdf\n")
    assert text(workdir / "chart" / "jordan-avery.pdf").startswith("Clinician record")


def test_no_record_writes_the_handout_alone(runner, workdir):
    result = plan(runner, TIGHT, "--no-record")
    assert result.exit_code == 0, result.output
    assert listing(workdir) == ["P-1001.pdf"]
    assert result.stderr == (
        f"P-1001: program prescribed (disposition none); wrote {workdir / 'P-1001.pdf'}\n"
    )


def test_the_same_profile_gives_the_same_record_bytes(runner, workdir):
    plan(runner, TIGHT, "-o", "one.pdf", "--record", "one.record.pdf")
    plan(runner, TIGHT, "-o", "two.pdf", "--record", "two.record.pdf")
    assert (workdir / "one.record.pdf").read_bytes() == (workdir / "two.record.pdf").read_bytes()


def test_a_replaced_record_is_reported(runner, workdir):
    plan(runner, TIGHT, "-o", "out.pdf")
    (workdir / "out.pdf").unlink()
    again = plan(runner, TIGHT, "-o", "out.pdf")
    assert again.exit_code == 0
    assert again.stderr == (
        "P-1001: program prescribed (disposition none); wrote out.pdf and the clinician record "
        "P-1001.record.pdf (it replaced the file that was there)\n"
    )


# --- a refusal, an incomplete screening --------------------------------------------------------


def test_a_refusal_writes_the_redirect_and_a_record(runner, workdir):
    result = plan(runner, EMERGENCY, "-o", "redirect.pdf", "--json")
    assert result.exit_code == 3
    assert listing(workdir) == ["P-1005.record.pdf", "redirect.pdf"]
    assert result.stderr.splitlines() == [
        "P-1005: EMERGENCY — do not prescribe (bladder_dysfunction, saddle_anesthesia). The "
        "patient must go to the emergency department now, or call 911. Wrote the redirect "
        "document to redirect.pdf and the clinician record to P-1005.record.pdf"
    ]
    decision = json.loads(result.stdout)
    assert (workdir / "redirect.pdf").read_bytes() == patient_document(EMERGENCY)
    chart = assert_record_of(
        workdir / "P-1005.record.pdf",
        "Program refused: referred for medical care (disposition: emergency)",
        decision["trace"],
    )
    assert "Counted red flags: bladder_dysfunction, saddle_anesthesia" in chart
    assert "Program summary" not in chart  # no program was made


@pytest.mark.parametrize(
    "args",
    [[], ["--record", "chart.pdf"], ["-o", "x.pdf", "--record", "x.record.pdf"], ["--no-record"]],
)
def test_an_incomplete_screening_writes_nothing_at_all(runner, workdir, args):
    result = plan(runner, INCOMPLETE, *args)
    assert result.exit_code == 4
    assert listing(workdir) == []
    assert result.stderr.startswith("P-1006: screening incomplete; no program was written.")
    assert "clinician record" not in result.stderr


def test_a_refusal_with_an_unusable_library_still_gets_its_record(runner, workdir, tmp_path):
    broken = tmp_path / "library"
    broken.mkdir()
    (broken / "clamshell.yaml").write_text("id: [\n")
    result = plan(runner, EMERGENCY, "--library", broken)
    assert result.exit_code == 3
    assert listing(workdir) == ["P-1005.pdf", "P-1005.record.pdf"]
    assert "library version none (the library could not be used)" in text(
        workdir / "P-1005.record.pdf"
    )


def test_a_follow_up_record_shows_the_step_decision(runner, workdir):
    result = plan(runner, EXAMPLES / "follow-up-2.yaml")
    assert result.exit_code == 0, result.output
    [chart] = workdir.glob("*.record.pdf")
    assert "Decision: advance (step 1 → step 2)" in text(chart)


# --- paths that cannot be the record ------------------------------------------------------------


def test_record_and_no_record_together_are_a_usage_error(runner, workdir):
    result = plan(runner, TIGHT, "--record", "r.pdf", "--no-record")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --record and --no-record cannot be used together; give one of them\n"
    )
    assert listing(workdir) == []


@pytest.mark.parametrize(
    ("args", "record"),
    [
        (["-o", "out.pdf", "--record", "out.pdf"], "out.pdf"),
        (["-o", "out.pdf", "--record", "./sub/../out.pdf"], "sub/../out.pdf"),
        (["--record", "P-1001.pdf"], "P-1001.pdf"),  # the handout's default name
        (["-o", "P-1001.record.pdf"], "P-1001.record.pdf"),  # the record's default name
    ],
)
def test_the_record_cannot_be_the_handout(runner, workdir, args, record):
    (workdir / "sub").mkdir()
    result = plan(runner, TIGHT, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {record}: is where the patient's document goes too; give --record another "
        "file name, or use --no-record\n"
    )
    assert listing(workdir) == ["sub"]


def test_a_link_to_the_handout_is_the_handout(runner, workdir):
    (workdir / "r.pdf").symlink_to("out.pdf")  # dangling: out.pdf is yet to be written
    result = plan(runner, TIGHT, "-o", "out.pdf", "--record", "r.pdf")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: r.pdf: is where the patient's document goes too")
    assert listing(workdir) == ["r.pdf"] and not (workdir / "out.pdf").exists()


def logo_clinic(folder: Path) -> Path:
    Image.new("RGB", (120, 40), "navy").save(folder / "logo.png")
    clinic = folder / "clinic.yaml"
    clinic.write_text("name: Riverside PT\nphone: '555 0100'\nlogo: logo.png\n")
    return clinic


@pytest.mark.parametrize(
    ("role", "label"),
    [("profile", "profile"), ("clinic", "clinic file"), ("logo", "clinic's logo")],
)
def test_the_record_cannot_replace_an_input(runner, workdir, write_profile, role, label):
    profile = write_profile(profile_data(patient={"id": "T-0001"}), "patient.yaml")
    clinic = logo_clinic(workdir)
    target = {"profile": profile, "clinic": clinic, "logo": workdir / "logo.png"}[role]
    before = {p: p.read_bytes() for p in (profile, clinic, workdir / "logo.png")}
    result = plan(runner, profile, "--clinic", clinic, "-o", "out.pdf", "--record", target)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {target}: is the {label} ({target}); "
        "writing the document there would destroy it. Give another file name\n"
    )
    assert {p: p.read_bytes() for p in before} == before
    assert listing(workdir) == ["clinic.yaml", "logo.png"]  # no handout either


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("missing/r.pdf", "missing/r.pdf: the folder missing does not exist"),
        ("folder", "folder: is a folder; give a file name such as folder/program.pdf"),
        ("ro.pdf", "ro.pdf: is read-only; hepplan will not replace it. Give another name"),
        (
            "chart/",
            "chart/: ends with a slash, so it names a folder; give a file name such as "
            "chart/program.pdf",
        ),
    ],
)
def test_a_record_that_cannot_be_written_stops_both(runner, workdir, record, message):
    (workdir / "folder").mkdir()
    (workdir / "ro.pdf").write_bytes(b"kept")
    (workdir / "ro.pdf").chmod(0o444)
    result = plan(runner, TIGHT, "-o", "out.pdf", "--record", record)
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert listing(workdir) == ["folder", "ro.pdf"]
    assert (workdir / "ro.pdf").read_bytes() == b"kept"


def test_a_record_that_fails_to_render_leaves_no_handout(runner, workdir, monkeypatch):
    from hepplan.render import record

    def broken(*args):
        raise RuntimeError("no room for the trace")

    monkeypatch.setattr(record, "chart_record", broken)
    (workdir / "out.pdf").write_bytes(b"the earlier handout")
    result = plan(runner, TIGHT, "-o", "out.pdf")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: internal failure: RuntimeError: no room for the trace")
    assert listing(workdir) == ["out.pdf"]
    assert (workdir / "out.pdf").read_bytes() == b"the earlier handout"


@pytest.fixture
def full_disk(tmp_path):
    """A real 1 MB file system (tmpfs), filled to the last byte."""
    with small_disk_at(tmp_path / "disk", "1m") as disk:
        fill(disk)
        yield disk


def test_a_record_on_a_full_disk_leaves_no_handout(runner, workdir, full_disk):
    """Both documents are staged before either is renamed into place: the record's failure
    leaves the handout's place as it was."""
    (workdir / "out.pdf").write_bytes(b"the earlier handout")
    result = plan(runner, TIGHT, "-o", "out.pdf", "--record", full_disk / "r.pdf")
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {full_disk / 'r.pdf'}: cannot be written (No space left on device); free some "
        "space, or choose another folder\n"
    )
    assert listing(workdir) == ["out.pdf"]
    assert (workdir / "out.pdf").read_bytes() == b"the earlier handout"
    assert [p.name for p in full_disk.iterdir()] == ["filler"]


# --- what the record depends on, and the pair as an invariant ----------------------------------


def clinic_file(folder: Path, extra: str = "") -> Path:
    Image.new("RGB", (120, 40), "navy").save(folder / "logo.png")
    Image.new("RGB", (90, 30), "teal").save(folder / "other.png")
    path = folder / f"clinic-{len(list(folder.glob('clinic-*.yaml')))}.yaml"
    base = {
        "name": "Riverside PT",
        "phone": "'555 0100'",
        "email": "desk@example.org",
        "address": "1 Main St",
        "website": "riverside.example.org",
        "emergency_number": "'911'",
        "page_size": "letter",
        "logo": "logo.png",
    }
    for line in extra.splitlines():
        key, value = line.split(": ", 1)
        base[key] = value
    path.write_text("".join(f"{k}: {v}\n" for k, v in base.items()))
    return path


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ("phone: '555 9999'", True),
        ("emergency_number: '112'", True),
        ("address: 9 Other Road", True),
        ("website: other.example.org", True),
        ("email: other@example.org", True),
        ("logo: other.png", True),
        ("pain_bands: {green_max: 1, amber_max: 4}", True),
        ("name: Lakeside PT", False),
        ("page_size: a4", False),
    ],
)
def test_the_records_digest_covers_exactly_what_its_bytes_depend_on(
    library, tmp_path, change, same
):
    """``batch`` rebuilds a record when its digest changes: the digest must change exactly
    when the record's bytes do (the clinic's name and paper), and not for what only the
    patient's documents print (numbers, address, logo)."""
    from hepplan.batch.digests import record_context_digest
    from hepplan.domain.planner import plan_program
    from hepplan.domain.screening import screen
    from hepplan.io.clinic import load_clinic
    from hepplan.io.profiles import load_profile
    from hepplan.render.record import chart_record

    profile = load_profile(TIGHT)
    decision = plan_program(profile, library, screen(profile))
    base, changed = load_clinic(clinic_file(tmp_path)), load_clinic(clinic_file(tmp_path, change))
    one, two = (chart_record(profile, decision, c) for c in (base, changed))
    assert (one == two) is same
    assert (record_context_digest(base) == record_context_digest(changed)) is same


OUTPUTS = [None, "out.pdf", "a/out.pdf", "a/../out.pdf", "P-1001.pdf", "P-1001.record.pdf"]
RECORDS = [None, "r.pdf", "a/r.pdf", "out.pdf", "./a/../out.pdf", "P-1001.pdf", "profile.yaml"]
PROFILES = {"prescribed": TIGHT, "refused": EMERGENCY, "incomplete": INCOMPLETE}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    output=st.sampled_from(OUTPUTS),
    record=st.sampled_from(RECORDS),
    no_record=st.booleans(),
    kind=st.sampled_from(sorted(PROFILES)),
)
def test_plan_writes_the_whole_pair_or_nothing(output, record, no_record, kind):
    """Whatever the paths: exit 0 or 3 leaves exactly two distinct new files (one with
    --no-record), the patient's document and a clinician record; any other exit leaves no new
    file; the profile is never touched."""
    from click.testing import CliRunner

    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        folder = Path(scratch)
        (folder / "a").mkdir()
        shutil.copy(PROFILES[kind], folder / "profile.yaml")
        profile = (folder / "profile.yaml").read_bytes()
        args = ["plan", "profile.yaml"] + (["-o", output] if output else [])
        args += (["--record", record] if record else []) + (["--no-record"] if no_record else [])
        result = CliRunner().invoke(cli, args)
        new = sorted(set(listing(folder)) - {"a", "profile.yaml"})
        assert (folder / "profile.yaml").read_bytes() == profile
        if result.exit_code not in (0, 3):
            assert result.exit_code in (2, 4), result.output
            assert new == [], result.output
            return
        assert result.exit_code == {"prescribed": 0, "refused": 3}[kind]
        assert len(new) == (1 if no_record else 2), (new, result.output)
        documents = {name: text(folder / name) for name in new}
        charts = [name for name, words in documents.items() if words.startswith("Clinician")]
        assert len(charts) == (0 if no_record else 1)
        patient = [name for name in new if name not in charts]
        assert len(patient) == 1 and "Decision trace" not in documents[patient[0]][:400]


def test_links_and_devices_are_not_a_record(runner, workdir, write_profile):
    """A link to the profile, a hard link to the handout and a device are each refused, and
    nothing is written."""
    profile = write_profile(profile_data(), "patient.yaml")
    (workdir / "to-profile.pdf").symlink_to(profile)
    (workdir / "out.pdf").write_bytes(b"the earlier handout")
    os.link(workdir / "out.pdf", workdir / "hard.pdf")
    cases = {
        "to-profile.pdf": f"to-profile.pdf: is the profile ({profile}); writing the document "
        "there would destroy it. Give another file name",
        "hard.pdf": "hard.pdf: is where the patient's document goes too; give --record another "
        "file name, or use --no-record",
        "/dev/null": "/dev/null: is not a regular file; give a file name for the document",
    }
    for record, message in cases.items():
        result = plan(runner, profile, "-o", "out.pdf", "--record", record)
        assert result.exit_code == 2, record
        assert result.stderr == f"error: {message}\n"
    assert listing(workdir) == ["hard.pdf", "out.pdf", "to-profile.pdf"]
    assert (workdir / "out.pdf").read_bytes() == b"the earlier handout"
    assert profile.read_bytes().startswith(b"format: 1")
