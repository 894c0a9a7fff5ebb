"""`hepplan batch`: every profile in a folder, rebuilt only when something it uses changed,
the same bytes whatever the number of workers, and whole again after a kill."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hepplan.batch import executors
from hepplan.batch import run as batching
from hepplan.batch.report import COUNTS
from hepplan.cli import cli

from .conftest import EXAMPLES, REPO, TODAY, profile_data

CLINIC = REPO / "examples" / "clinic.yaml"

#: Varied patients: different findings, so different exercises.
VARIANTS = [
    {"piriformis": "tight"},
    {"piriformis": "overstretched", "glute_strength": {"medius": 3}},
    {"radicular_level": "L5", "irritability": "high"},
    {"piriformis": "normal", "glute_strength": {"maximus": 3, "medius": 4}},
    {"radicular_level": "S1", "directional_preference": "extension"},
    {"conditions": ["lumbar_stenosis"], "directional_preference": "flexion"},
    {"piriformis": "tight", "irritability": "low", "equipment": ["resistance_band", "step"]},
    {"conditions": ["gtps"], "side": "right"},
    {"piriformis": "overstretched", "conditions": ["pregnancy"]},
    {"radicular_level": "L4", "side": "both", "radicular_side": "left"},
]


def write_yaml(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def edit(path: Path, change) -> None:
    """Change a profile file the way a clinician would: load it, change it, save it."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    write_yaml(path, data)


@pytest.fixture
def profiles(tmp_path):
    """The shipped first-visit examples plus ten more patients, some in a sub-folder, one as
    JSON. (The follow-up visits have batch tests of their own.)"""
    folder = tmp_path / "profiles"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("follow-up-*"))
    for number, assessment in enumerate(VARIANTS):
        data = profile_data(
            patient={
                "id": f"B-{number:03d}",
                "name": f"Pat {number}",
                "email": f"pat{number}@example.org",
            },
            assessment=assessment,
        )
        if number == 3:
            (folder / "clinic-b").mkdir(exist_ok=True)
            (folder / "clinic-b" / "b-003.json").write_text(json.dumps(data), encoding="utf-8")
        else:
            write_yaml(folder / ("clinic-b" if number % 2 else "") / f"b-{number:03d}.yaml", data)
    return folder


def run(runner, profiles, out, *args, code=None, clinic=CLINIC):
    """Run a batch; its exit code must be ``code``, or by default the one CONTRACT.md §3 gives
    for what the run reports."""
    result = runner.invoke(
        cli, ["batch", str(profiles), "-o", str(out), "--clinic", str(clinic), "--json", *args]
    )
    report = json.loads(result.stdout) if result.stdout.startswith("{") else None
    expected = contract_code(report) if code is None else code
    assert result.exit_code == expected, result.output
    return report, result


def contract_code(report) -> int:
    """The batch exit code of CONTRACT.md §3: 1 over 2 over 3 (a redirect written by this
    run) over 4 (a screening incomplete) over 0."""
    seen = {(item["status"], item["action"]) for item in report["items"]}
    statuses = {status for status, _ in seen}
    for code, found in (
        (1, "failed" in statuses),
        (2, "invalid" in statuses),
        (3, ("refused", "built") in seen),
        (4, "incomplete" in statuses),
    ):
        if found:
            return code
    return 0


def by_patient(report, key="action"):
    return {item["patient"]: item[key] for item in report["items"]}


def built(report):
    return {item["patient"] for item in report["items"] if item["action"] == "built"}


def documents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.pdf"))}


def records(out: Path) -> dict[str, bytes]:
    """The clinician records: OUT/records/<id>.pdf."""
    return {p.name: p.read_bytes() for p in sorted((out / "records").glob("*.pdf"))}


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def records_built(report) -> set[str]:
    return {item["patient"] for item in report["items"] if item["record_action"] == "built"}


def uses(runner, profile: Path, exercise: str, library: Path, scratch: Path) -> bool:
    args = ["plan", str(profile), "--json", "-o", str(scratch / "scratch.pdf")]
    args += ["--library", str(library)]
    decision = json.loads(runner.invoke(cli, args).stdout)
    return any(
        e["id"] == exercise or phase["aerobic"]["id"] == exercise
        for phase in decision["phases"]
        for e in phase["exercises"]
    )


# --- a first run --------------------------------------------------------------------------------


def test_a_first_run_builds_one_document_per_patient(runner, profiles, tmp_path):
    out = tmp_path / "out"
    report, result = run(runner, profiles, out, code=3)  # a new redirect: call that patient
    assert {k: report[k] for k in COUNTS} == {
        "built": 15,
        "unchanged": 0,
        "refused": 1,
        "incomplete": 1,
        "failed": 0,
    }
    assert [item["profile"] for item in report["items"]] == [
        str(p) for p in batching.find_profiles(profiles, out)
    ]
    assert [Path(item["profile"]).relative_to(profiles).as_posix() for item in report["items"]] == [
        "b-000.yaml",
        "b-002.yaml",
        "b-004.yaml",
        "b-006.yaml",
        "b-008.yaml",
        "cauda-equina-emergency.yaml",
        "cleared-cancer-history.yaml",
        "clinic-b/b-001.yaml",
        "clinic-b/b-003.json",
        "clinic-b/b-005.yaml",
        "clinic-b/b-007.yaml",
        "clinic-b/b-009.yaml",
        "l5-radiculopathy.yaml",
        "overstretched-weak-glutes.yaml",
        "screening-incomplete.yaml",
        "stenosis-older-adult.yaml",
        "tight-piriformis.yaml",
    ]
    assert by_patient(report, "status")["P-1005"] == "refused"
    assert by_patient(report, "status")["P-1006"] == "incomplete"
    assert sorted(documents(out)) == sorted(
        f"{item['patient']}.pdf" for item in report["items"] if item["pdf"]
    )
    assert "P-1006.pdf" not in documents(out)
    item = next(i for i in report["items"] if i["patient"] == "B-003")
    assert item == {
        "profile": str(profiles / "clinic-b" / "b-003.json"),
        "patient": "B-003",
        "status": "prescribed",
        "action": "built",
        "disposition": "none",
        "pdf": "B-003.pdf",
        "errors": [],
        "missing": [],
        "record": "records/B-003.pdf",
        "record_action": "built",
    }
    assert report["records"] == {"built": 16, "unchanged": 0}  # the refusal has one too
    assert sorted(records(out)) == sorted(documents(out))  # records/<id>.pdf beside each
    incomplete = next(i for i in report["items"] if i["patient"] == "P-1006")
    assert incomplete["missing"] == ["fever_or_systemically_unwell", "unrelenting_night_pain"]
    assert result.stderr.splitlines() == [
        "P-1005: EMERGENCY — do not prescribe; contact the patient directly: they must go to "
        f"the emergency department now, or call 911. Redirect: {out / 'P-1005.pdf'}",
        "P-1006: screening incomplete; nothing written. Ask these red-flag questions and "
        "record the answers:",
        "  red_flags.fever_or_systemically_unwell: Fever, chills or feeling very unwell along "
        "with the pain?",
        "  red_flags.unrelenting_night_pain: Night pain that no position eases?",
        f"{out}: 15 built, 0 unchanged, 1 refused, 1 incomplete, 0 failed; "
        "records: 16 built, 0 unchanged",
    ]


def test_documents_match_what_plan_writes(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    for name, patient in (
        ("tight-piriformis.yaml", "P-1001"),
        ("cauda-equina-emergency.yaml", "P-1005"),
    ):
        single = tmp_path / f"{patient}-plan.pdf"
        runner.invoke(
            cli, ["plan", str(profiles / name), "--clinic", str(CLINIC), "-o", str(single)]
        )
        assert (out / f"{patient}.pdf").read_bytes() == single.read_bytes()
        assert (out / "records" / f"{patient}.pdf").read_bytes() == (
            tmp_path / f"{patient}.record.pdf"
        ).read_bytes()


def test_documents_and_manifest_are_private(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    for path in [
        *out.glob("*.pdf"),
        *out.glob("records/*.pdf"),
        out / ".hepplan" / "manifest.sqlite3",
    ]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# --- incremental --------------------------------------------------------------------------------


def test_a_rerun_with_nothing_changed_renders_nothing(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    before = {str(p): p.stat().st_mtime_ns for p in out.glob("**/*.pdf")}
    assert len(before) == 32  # 16 documents, 16 records
    report, result = run(runner, profiles, out)
    assert {k: report[k] for k in COUNTS} == {
        "built": 0,
        "unchanged": 15,
        "refused": 1,
        "incomplete": 1,
        "failed": 0,
    }
    assert set(by_patient(report).values()) == {"unchanged", "none"}
    assert {str(p): p.stat().st_mtime_ns for p in out.glob("**/*.pdf")} == before
    assert result.stderr.splitlines()[-1] == (
        f"{out}: 0 built, 15 unchanged, 1 refused, 1 incomplete, 0 failed; "
        "records: 0 built, 16 unchanged"
    )


def test_editing_one_exercise_rebuilds_exactly_the_programs_that_use_it(runner, profiles, tmp_path):
    library = tmp_path / "library"
    shutil.copytree(REPO / "exercises", library)
    out = tmp_path / "out"
    run(runner, profiles, out, "--library", str(library))
    before = documents(out)

    clamshell = library / "clamshell.yaml"
    clamshell.write_text(
        clamshell.read_text(encoding="utf-8").replace(
            "name: Clamshell", "name: Clamshell (knees bent)"
        ),
        encoding="utf-8",
    )
    users = {
        p
        for p in batching.find_profiles(profiles, out)
        if uses(runner, p, "clamshell", library, tmp_path)
    }
    report, _ = run(runner, profiles, out, "--library", str(library))

    expected = {item["patient"] for item in report["items"] if item["profile"] in map(str, users)}
    assert expected and len(expected) < 15  # some programs use it, most do not
    assert built(report) == expected
    # Every record prints the library's version, so every record is made again, the refusal's
    # too; the incomplete screening has none.
    screened = {i["patient"] for i in report["items"] if i["status"] in ("prescribed", "refused")}
    assert records_built(report) == screened and len(screened) == 16
    assert report["records"] == {"built": 16, "unchanged": 0}
    after = documents(out)
    for name in before:
        assert (before[name] != after[name]) == (name[:-4] in expected), name


def test_editing_one_profile_rebuilds_only_that_program(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    edit(profiles / "clinic-b" / "b-001.yaml", lambda d: d["assessment"].update(pain_now=6))
    report, _ = run(runner, profiles, out)
    assert built(report) == {"B-001"}
    assert records_built(report) == {"B-001"}
    assert "Pain now 6/10" in pdf_text(out / "records" / "B-001.pdf")


def test_a_comment_or_reordered_keys_rebuild_nothing(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    path = profiles / "tight-piriformis.yaml"
    path.write_text("# seen again on Monday\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    report, _ = run(runner, profiles, out)
    assert built(report) == set()
    assert by_patient(report)["P-1001"] == "unchanged"


def test_a_clinic_change_rebuilds_everything_but_its_smtp_section_nothing(
    runner, profiles, tmp_path
):
    out = tmp_path / "out"
    clinic = tmp_path / "clinic.yaml"
    shutil.copy(CLINIC, clinic)

    def rerun():
        return run(runner, profiles, out, clinic=clinic)[0]

    rerun()
    with clinic.open("a", encoding="utf-8") as handle:
        handle.write("smtp:\n  host: mail.example.org\n")
    assert built(rerun()) == set()
    clinic.write_text(
        clinic.read_text(encoding="utf-8").replace("010-2040", "010-9999"), encoding="utf-8"
    )
    report = rerun()
    assert report["built"] == 15 and report["refused"] == 1
    assert b"010-9999" not in (out / "P-1001.pdf").read_bytes()  # text is compressed...
    from pypdf import PdfReader

    assert "(555) 010-9999" in PdfReader(out / "P-1001.pdf").pages[0].extract_text()


def test_large_print_is_an_input_too(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    report, _ = run(runner, profiles, out, "--large-print")
    assert report["built"] == 15
    assert report["records"] == {"built": 0, "unchanged": 16}  # a record has one print size


def test_a_deleted_document_is_rebuilt(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    (out / "B-002.pdf").unlink()
    report, _ = run(runner, profiles, out)
    assert built(report) == {"B-002"}
    assert records_built(report) == set()


def test_a_profile_that_becomes_incomplete_loses_its_document(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    edit(profiles / "b-000.yaml", lambda d: d["red_flags"].pop("saddle_anesthesia"))
    report, result = run(runner, profiles, out)
    assert by_patient(report)["B-000"] == "removed"
    assert by_patient(report, "record_action")["B-000"] == "removed"
    assert by_patient(report, "status")["B-000"] == "incomplete"
    assert not (out / "B-000.pdf").exists()
    assert not (out / "records" / "B-000.pdf").exists()
    assert (
        "B-000: screening incomplete; nothing written. Ask these red-flag questions and record "
        "the answers:\n  red_flags.saddle_anesthesia: New numbness or changed feeling between "
        "the legs, genitals or around the back passage?\n"
    ) in result.stderr


def test_a_profile_that_turns_refused_gets_the_redirect(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    edit(profiles / "b-000.yaml", lambda d: d["red_flags"].update(progressive_weakness="yes"))
    report, result = run(runner, profiles, out)
    assert by_patient(report, "status")["B-000"] == "refused"
    assert by_patient(report, "record_action")["B-000"] == "built"
    assert "Program refused: referred for medical care" in pdf_text(out / "records" / "B-000.pdf")
    from pypdf import PdfReader

    text = PdfReader(out / "B-000.pdf").pages[0].extract_text()
    assert "exercise" not in text.lower().replace("no exercise", "").replace("new exercises", "")
    assert "B-000: EMERGENCY — do not prescribe" in result.stderr


def test_a_pipe_put_where_an_old_document_was_is_neither_waited_on_nor_removed(profiles, tmp_path):
    """The document a profile wrote under its old id is removed only while it is still the
    one the batch wrote; a named pipe in its place is left as it is, and the run goes on."""
    out = tmp_path / "out"
    command = [sys.executable, "-m", "hepplan", "batch", str(profiles), "-o", str(out)]
    command += ["--clinic", str(CLINIC), "--json", "--jobs", "1"]
    subprocess.run(command, capture_output=True, timeout=120)
    (out / "B-000.pdf").unlink()
    os.mkfifo(out / "B-000.pdf")
    edit(profiles / "b-000.yaml", lambda d: d["patient"].update(id="B-100"))
    done = subprocess.run(command, capture_output=True, timeout=120)
    report = json.loads(done.stdout)
    assert done.returncode == contract_code(report) == 4, done.stderr  # P-1006 is incomplete
    assert by_patient(report)["B-100"] == "built"
    assert stat.S_ISFIFO((out / "B-000.pdf").lstat().st_mode)
    assert (out / "B-100.pdf").read_bytes().startswith(b"%PDF-")


def test_the_json_report_is_one_json_document_written_item_by_item():
    import io

    from hepplan.batch.report import Item, Report

    report = Report()
    try:
        empty = io.StringIO()
        report.write_json(empty, with_email=False)
        assert empty.getvalue() == (
            '{"built": 0, "unchanged": 0, "refused": 0, "incomplete": 0, "failed": 0, '
            '"records": {"built": 0, "unchanged": 0}, "items": [\n]}\n'
        )
        assert json.loads(empty.getvalue()) == {
            **dict.fromkeys(COUNTS, 0),
            "records": {"built": 0, "unchanged": 0},
            "items": [],
        }
        report.add(
            Item(
                "a.yaml",
                'Zoë "Z" \\',
                "prescribed",
                "built",
                "none",
                "Z.pdf",
                record="records/Z.pdf",
                record_action="unchanged",
            )
        )
        report.add(Item("b.yaml", None, "invalid", "none", errors=["b.yaml: line 1: ]["]))
        for with_email in (False, True):
            out = io.StringIO()
            report.write_json(out, with_email=with_email)
            lines = out.getvalue().splitlines()
            assert len(lines) == 4 and lines[1].startswith('  {"profile": "a.yaml"')
            data = json.loads(out.getvalue())
            assert list(data) == [
                *COUNTS,
                "records",
                *(["emailed"] if with_email else []),
                "items",
            ]
            assert data["records"] == {"built": 0, "unchanged": 1}
            first = {"profile": "a.yaml", "patient": 'Zoë "Z" \\', "status": "prescribed"}
            assert data["items"][0].items() >= first.items()
            assert data["items"][1]["errors"] == ["b.yaml: line 1: ]["]
            assert all(("emailed" in item) == with_email for item in data["items"])
            assert (data["built"], data["failed"]) == (1, 1)
    finally:
        report.close()


# --- bad input ----------------------------------------------------------------------------------


def test_duplicate_ids_are_an_error_for_both(runner, profiles, tmp_path):
    twin = profiles / "twin.yaml"
    shutil.copy(profiles / "b-000.yaml", twin)
    edit(twin, lambda d: d["patient"].update(name="Somebody Else"))
    out = tmp_path / "out"
    report, _result = run(runner, profiles, out, code=2)
    first, second = profiles / "b-000.yaml", twin
    assert by_patient_errors(report, first) == [
        f"{first}: patient.id: 'B-000' is also the id in {second}; no document was written "
        "for either"
    ]
    assert by_patient_errors(report, second) == [
        f"{second}: patient.id: 'B-000' is also the id in {first}; no document was written "
        "for either"
    ]
    assert not (out / "B-000.pdf").exists()
    assert report["built"] == 14 and report["failed"] == 2


def by_patient_errors(report, profile: Path):
    return next(item["errors"] for item in report["items"] if item["profile"] == str(profile))


def test_ids_that_differ_only_in_case_are_duplicates(runner, profiles, tmp_path):
    shutil.copy(profiles / "b-000.yaml", profiles / "lower.yaml")
    edit(profiles / "lower.yaml", lambda d: d["patient"].update(id="b-000"))
    report, _ = run(runner, profiles, tmp_path / "out", code=2)
    assert report["failed"] == 2


def test_an_invalid_profile_is_listed_and_the_rest_are_built(runner, profiles, tmp_path):
    bad = profiles / "bad.yaml"
    data = profile_data(patient={"id": "X-1"}, assessment={"piriformis": "loose"})
    write_yaml(bad, data)
    (profiles / "junk.json").write_bytes(b"\x00\x01\x02")
    report, result = run(runner, profiles, tmp_path / "out", code=2)
    assert by_patient_errors(report, bad) == [
        f"{bad}: assessment.piriformis: 'loose' is not allowed; allowed: tight, overstretched, "
        "normal or not_assessed"
    ]
    assert by_patient_errors(report, profiles / "junk.json") == [
        f"{profiles / 'junk.json'}: holds binary data, not text"
    ]
    assert report["built"] == 15 and report["failed"] == 2
    assert f"error: {bad}: assessment.piriformis" in result.stderr


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "{p}: is not a folder of profiles"),
    ],
)
def test_a_missing_profiles_folder(runner, tmp_path, make, message):
    path = make(tmp_path)
    result = runner.invoke(cli, ["batch", str(path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message.format(p=path)}\n"
    assert not (tmp_path / "out").exists()


def test_an_output_that_is_a_file(runner, profiles, tmp_path):
    target = tmp_path / "file.pdf"
    target.write_bytes(b"x")
    result = runner.invoke(cli, ["batch", str(profiles), "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {target}: is a file; give a folder for the documents\n"


def test_smtp_options_need_email(runner, profiles, tmp_path):
    result = runner.invoke(
        cli, ["batch", str(profiles), "-o", str(tmp_path / "o"), "--smtp-host", "localhost"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --from, --smtp-host, --smtp-port, --security and --user need --email\n"
    )


def test_only_one_batch_writes_to_a_folder_at_a_time(runner, profiles, tmp_path):
    import fcntl

    out = tmp_path / "out"
    (out / ".hepplan").mkdir(parents=True)
    with open(out / ".hepplan" / "lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = runner.invoke(cli, ["batch", str(profiles), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {out}: another hepplan batch is writing here; wait for it to finish\n"
    )
    assert list(out.glob("*.pdf")) == []


def test_a_damaged_manifest_is_replaced(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    (out / ".hepplan" / "manifest.sqlite3").write_bytes(b"not a database" * 100)
    report, result = run(runner, profiles, out)
    assert "the manifest could not be read; starting a new one" in result.stderr
    assert report["built"] == 15  # nothing is known about the files there: build them again
    report, _ = run(runner, profiles, out)
    assert report["unchanged"] == 15


# --- parallel -----------------------------------------------------------------------------------


def test_the_same_bytes_whatever_the_number_of_workers(runner, profiles, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    report_one, _ = run(runner, profiles, one, "--jobs", "1")
    report_two, _ = run(runner, profiles, two, "--jobs", "2")
    assert documents(one) == documents(two)
    assert len(documents(one)) == 16
    assert records(one) == records(two) and len(records(one)) == 16
    assert report_one == report_two


def test_the_same_bytes_on_a_dask_cluster(runner, profiles, tmp_path):
    from distributed import LocalCluster

    local = tmp_path / "local"
    run(runner, profiles, local, "--jobs", "1")
    with LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    ) as cluster:
        remote = tmp_path / "remote"
        report, _ = run(runner, profiles, remote, "--scheduler", cluster.scheduler_address)
        assert report["built"] == 15
        assert report["records"] == {"built": 16, "unchanged": 0}
        again, _ = run(runner, profiles, remote, "--scheduler", cluster.scheduler_address)
        assert again["unchanged"] == 15 and again["built"] == 0
        assert again["records"] == {"built": 0, "unchanged": 16}
        (remote / "records" / "P-1001.pdf").unlink()
        third, _ = run(runner, profiles, remote, "--scheduler", cluster.scheduler_address)
        assert records_built(third) == {"P-1001"} and built(third) == set()
    assert documents(remote) == documents(local)
    assert records(remote) == records(local)


def test_an_unreachable_scheduler(runner, profiles, tmp_path):
    from .smtp import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    result = runner.invoke(
        cli, ["batch", str(profiles), "-o", str(tmp_path / "out"), "--scheduler", address]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: --scheduler: cannot reach the Dask scheduler at {address}"
    )
    assert list((tmp_path / "out").glob("*.pdf")) == []


# --- crashes ------------------------------------------------------------------------------------


def test_a_worker_that_dies_then_a_clean_rerun(runner, profiles, tmp_path, monkeypatch):
    reference = tmp_path / "reference"
    run(runner, profiles, reference, "--jobs", "1")
    original = executors.build_one

    def dies_on_b004(settings, source, data, previous):
        if source.endswith("b-004.yaml"):
            os._exit(9)  # the worker process vanishes, as after a crash or the OOM killer
        return original(settings, source, data, previous)

    monkeypatch.setattr(executors, "build_one", dies_on_b004)  # forked workers inherit it
    out = tmp_path / "out"
    report, _result = run(runner, profiles, out, "--jobs", "2", code=1)
    failed = [item for item in report["items"] if item["status"] == "failed"]
    assert failed and all(
        item["errors"][0].endswith(
            "not built: a worker process stopped unexpectedly; run the batch again"
        )
        for item in failed
    )
    assert list(out.glob(".*.part")) == []

    monkeypatch.setattr(executors, "build_one", original)
    report, _ = run(runner, profiles, out, "--jobs", "2")
    assert report["failed"] == 0
    assert documents(out) == documents(reference)
    assert records(out) == records(reference)
    assert list(out.glob(".*")) == [out / ".hepplan"]


@pytest.mark.parametrize(
    ("point", "after"), [("renamed", 1), ("renamed", 6), ("recorded", 1), ("recorded", 6)]
)
def test_killing_the_whole_batch_then_a_clean_rerun(runner, profiles, tmp_path, point, after):
    """Killed right after the K-th handout is in place (its record not yet written), or right
    after the K-th record: either way the rerun leaves exactly the pairs a clean run writes."""
    reference = tmp_path / "reference"
    run(runner, profiles, reference, "--jobs", "1")
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "hepplan.cli",
        "batch",
        str(profiles),
        "-o",
        str(out),
        "--clinic",
        str(CLINIC),
        "--jobs",
        "2",
    ]
    signals = tmp_path / "signals"
    signals.mkdir()
    env = {**os.environ, batching.PAUSE_ENV: f"{point}-{after}:{signals}"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=env,
    )
    deadline = time.monotonic() + 60
    reached = signals / f"{point}-{after}.reached"
    while not reached.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    # The coordinator waits right after its rename, before the manifest records it: kill there.
    os.killpg(process.pid, signal.SIGKILL)  # the coordinator and its workers, at once
    process.wait()
    assert len(list(out.glob("*.pdf"))) == after
    assert len(records(out)) == (after if point == "recorded" else after - 1)

    report, _ = run(runner, profiles, out)
    assert report["failed"] == 0
    assert documents(out) == documents(reference)
    assert records(out) == records(reference)
    assert list(out.glob(".*")) == [out / ".hepplan"]  # no temporary files left
    assert list((out / "records").glob(".*")) == []
    db = sqlite3.connect(out / ".hepplan" / "manifest.sqlite3")
    assert db.execute("SELECT count(*) FROM programs WHERE pdf IS NOT NULL").fetchone() == (16,)
    assert db.execute("SELECT count(*) FROM programs WHERE record IS NOT NULL").fetchone() == (16,)
    report, _ = run(runner, profiles, out)
    assert report["records"] == {"built": 0, "unchanged": 16}


def test_leftover_temporary_files_are_removed(runner, profiles, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".P-1001.pdf.x1y2.part").write_bytes(b"%PDF-1.4 half")
    (out / "records").mkdir()
    (out / "records" / ".P-1001.pdf.x1y2.part").write_bytes(b"%PDF-1.4 half")
    run(runner, profiles, out)
    assert list(out.glob(".*.part")) == []
    assert list((out / "records").glob(".*")) == []


# --- e-mail -------------------------------------------------------------------------------------


def test_email_sends_each_new_program_once(runner, profiles, tmp_path, monkeypatch):
    from .smtp import Inbox, mail_server

    for path in profiles.glob("*.yaml"):  # every example patient gets an address
        edit(
            path,
            lambda d: d["patient"].setdefault("email", f"{d['patient']['id'].lower()}@example.org"),
        )
    for key in ("HOST", "PORT", "SECURITY", "USER", "FROM", "PASSWORD"):
        monkeypatch.delenv(f"HEPPLAN_SMTP_{key}", raising=False)
    out = tmp_path / "out"
    inbox = Inbox()
    with mail_server(inbox) as port:
        args = [
            "--email",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--security",
            "none",
        ]
        report, result = run(runner, profiles, out, *args)
        assert report["emailed"] == 15
        sent = sorted(envelope.rcpt_tos[0] for envelope in inbox.received)
        assert len(sent) == 15 and "p-1005@example.org" not in sent  # refused: never e-mailed
        assert "p-1006@example.org" not in sent  # incomplete: nothing to send
        assert result.stderr.splitlines()[-1].endswith("15 e-mailed")

        report, _ = run(runner, profiles, out, *args)
        assert report["emailed"] == 0 and len(inbox.received) == 15

        edit(profiles / "b-000.yaml", lambda d: d["assessment"].update(pain_now=2))
        report, _ = run(runner, profiles, out, *args)
        assert report["emailed"] == 1 and inbox.received[-1].rcpt_tos == ["pat0@example.org"]
    from email import message_from_bytes, policy

    message = message_from_bytes(inbox.received[-1].content, policy=policy.default)
    [attachment] = message.iter_attachments()
    assert attachment.get_content() == (out / "B-000.pdf").read_bytes()


def test_a_failed_send_is_tried_again_on_the_next_run(runner, profiles, tmp_path, monkeypatch):
    from hepplan.deliver import mail

    from .smtp import Inbox, mail_server

    monkeypatch.setattr(mail, "RETRY_DELAYS", (0.0, 0.0, 0.0))
    for path in profiles.glob("*.yaml"):
        path.unlink()
    out = tmp_path / "out"
    inbox = Inbox(rcpt_replies=["550 5.1.1 No such mailbox"])
    with mail_server(inbox) as port:
        args = [
            "--email",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            str(port),
            "--security",
            "none",
        ]
        report, result = run(runner, profiles, out, *args, code=1)
        assert report["emailed"] == 4  # the five patients in clinic-b/, one refused by the server
        item = next(i for i in report["items"] if i["patient"] == "B-001")
        assert (item["action"], item["emailed"]) == ("built", False)
        assert item["errors"] == [
            f"{profiles / 'clinic-b' / 'b-001.yaml'}: the mail server at 127.0.0.1:{port} refused "
            "the recipient pat1@example.org: 550 5.1.1 No such mailbox; the program was not sent"
        ]
        assert result.stderr.splitlines()[-1].endswith("; 4 e-mailed, 1 not e-mailed")
        report, _ = run(runner, profiles, out, *args)
        assert report["emailed"] == 1 and report["built"] == 0


def test_a_worker_on_another_version_refuses(library):
    import dataclasses

    from hepplan.domain.clinic import Clinic

    settings = executors.Settings(library, Clinic(), False, "context", TODAY)
    result = executors.build_one(
        dataclasses.replace(settings, version="0.0.1"),
        "p.yaml",
        (EXAMPLES / "tight-piriformis.yaml").read_bytes(),
        None,
    )
    assert (result.status, result.pdf) == ("failed", None)
    assert result.errors == [
        f"p.yaml: not built: this worker runs hepplan {executors.__version__}, "
        "the coordinator 0.0.1"
    ]


def test_new_folders_follow_the_umask_and_documents_stay_private(runner, profiles, tmp_path):
    previous = os.umask(0o027)
    try:
        out = tmp_path / "made-by-batch"
        run(runner, profiles, out)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert stat.S_IMODE((out / ".hepplan").stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.glob("*.pdf")} == {0o600}
    assert stat.S_IMODE((out / "records").stat().st_mode) == 0o750
    assert {stat.S_IMODE(p.stat().st_mode) for p in (out / "records").glob("*.pdf")} == {0o600}


# --- the clinician records ----------------------------------------------------------------------


def test_a_deleted_or_altered_record_is_rebuilt_alone(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    before = records(out)
    (out / "records" / "B-002.pdf").unlink()
    with (out / "records" / "P-1005.pdf").open("ab") as handle:  # the refusal's, altered
        handle.write(b"% annotated by hand")
    report, _ = run(runner, profiles, out)
    assert records_built(report) == {"B-002", "P-1005"}
    assert report["records"] == {"built": 2, "unchanged": 14}
    assert built(report) == set()  # the handouts stay as they are
    assert by_patient(report)["P-1005"] == "unchanged"
    assert records(out) == before
    assert report["refused"] == 1


def test_the_clinic_name_rebuilds_records_its_numbers_only_documents(runner, profiles, tmp_path):
    out = tmp_path / "out"
    clinic = tmp_path / "clinic.yaml"
    shutil.copy(CLINIC, clinic)

    def rerun():
        return run(runner, profiles, out, clinic=clinic)[0]

    rerun()
    clinic.write_text(clinic.read_text().replace("010-2040", "010-9999"), encoding="utf-8")
    report = rerun()
    assert report["built"] == 15 and report["records"] == {"built": 0, "unchanged": 16}
    clinic.write_text(clinic.read_text().replace("Riverside", "Lakeside"), encoding="utf-8")
    report = rerun()
    assert report["built"] == 15 and report["records"] == {"built": 16, "unchanged": 0}
    assert "Lakeside Physical Therapy" in pdf_text(out / "records" / "P-1001.pdf")


def test_a_new_patient_id_moves_the_record_too(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    edit(profiles / "b-000.yaml", lambda d: d["patient"].update(id="B-100"))
    report, _ = run(runner, profiles, out)
    assert by_patient(report, "record")["B-100"] == "records/B-100.pdf"
    assert not (out / "records" / "B-000.pdf").exists()
    assert "(B-100)" in pdf_text(out / "records" / "B-100.pdf")
    assert sorted(records(out)) == sorted(documents(out))


def test_a_record_replaced_by_someone_else_is_not_removed(runner, profiles, tmp_path):
    out = tmp_path / "out"
    run(runner, profiles, out)
    (out / "records" / "B-000.pdf").write_bytes(b"a note a colleague saved here")
    edit(profiles / "b-000.yaml", lambda d: d["red_flags"].pop("saddle_anesthesia"))
    report, _ = run(runner, profiles, out)
    assert by_patient(report)["B-000"] == "removed"  # the handout was ours
    assert by_patient(report, "record_action")["B-000"] == "none"  # the record is not ours now
    assert (out / "records" / "B-000.pdf").read_bytes() == b"a note a colleague saved here"


@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_records_entry_that_is_not_a_folder_stops_the_batch(runner, profiles, tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    if kind == "file":
        (out / "records").write_bytes(b"notes")
    else:
        (tmp_path / "elsewhere").mkdir()
        (out / "records").symlink_to(tmp_path / "elsewhere")
    result = runner.invoke(cli, ["batch", str(profiles), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {out / 'records'}: is not a folder; batch writes the clinician records there. "
        "Move it away\n"
    )
    assert list(out.glob("*.pdf")) == []
    if kind == "link":
        assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_clinic_file_where_records_are_written_is_refused(runner, profiles, tmp_path):
    out = tmp_path / "out"
    (out / "records").mkdir(parents=True)
    clinic = out / "records" / "P-1001.pdf"  # a record would be written over it
    shutil.copy(CLINIC, clinic)
    result = runner.invoke(cli, ["batch", str(profiles), "-o", str(out), "--clinic", str(clinic)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {clinic}: the clinic file is where batch writes its documents ({out}); move it "
        "out of that folder\n"
    )
    assert clinic.read_bytes() == CLINIC.read_bytes()
