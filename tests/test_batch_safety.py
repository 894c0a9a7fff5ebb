"""`hepplan batch` under attack and accident: profiles edited while it runs, links and files
that are not profiles, a full disk, a locked or lost manifest, and a killed coordinator.

Runs that must be interrupted at a known moment use ``HEPPLAN_BATCH_PAUSE``: the batch stops
at the named point, the test changes files (or kills it), then lets it go on."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from hepplan import batch as batching
from hepplan.cli import cli

from .conftest import REPO, profile_data
from .smtp import Inbox, mail_server
from .test_batch import VARIANTS, write_yaml

CLINIC = REPO / "examples" / "clinic.yaml"
PEOPLE = ["Alice Ames", "Bruno Berg", "Chidi Cole", "Dana Diaz", "Emil Eze", "Fran Fox"]


def person(number: int) -> dict:
    first = PEOPLE[number].split()[0].lower()
    return profile_data(
        patient={"id": f"S-{number:03d}", "name": PEOPLE[number], "email": f"{first}@example.org"},
        assessment=VARIANTS[number % len(VARIANTS)],
    )


@pytest.fixture
def people(tmp_path):
    """Six patients, each with an address, one file each: p-000.yaml holds S-000, Alice."""
    folder = tmp_path / "profiles"
    for number in range(len(PEOPLE)):
        write_yaml(folder / f"p-{number:03d}.yaml", person(number))
    return folder


@pytest.fixture(autouse=True)
def no_smtp_settings(monkeypatch):
    for key in ("HOST", "PORT", "SECURITY", "USER", "FROM", "PASSWORD", "TIMEOUT"):
        monkeypatch.delenv(f"HEPPLAN_SMTP_{key}", raising=False)


def holder(pdf: bytes | Path) -> str:
    """The patient a document is for, as printed under "For" on its first page."""
    import io

    source = io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf
    lines = PdfReader(source).pages[0].extract_text().splitlines()
    return lines[lines.index("For") + 1]


def email_args(port: int) -> list[str]:
    return ["--email", "--smtp-host", "127.0.0.1", "--smtp-port", str(port), "--security", "none"]


class Paused:
    """``hepplan batch`` in a child process, stopped at ``point`` until ``go()``."""

    def __init__(self, tmp_path: Path, profiles: Path, out: Path, point: str, *args: str):
        self.signals = tmp_path / "signals"
        self.signals.mkdir(exist_ok=True)
        self.point = point
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEPPLAN_")}
        env[batching.PAUSE_ENV] = f"{point}:{self.signals}"
        command = [sys.executable, "-m", "hepplan", "batch", str(profiles), "-o", str(out)]
        command += ["--clinic", str(CLINIC), "--json", *args]
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )

    def reached(self, patience: float = 60) -> None:
        deadline = time.monotonic() + patience
        while not (self.signals / f"{self.point}.reached").exists():
            assert self.process.poll() is None, self.process.communicate()
            assert time.monotonic() < deadline, f"the batch never reached {self.point}"
            time.sleep(0.01)

    def go(self) -> tuple[int, dict, str]:
        (self.signals / f"{self.point}.go").touch()
        out, err = self.process.communicate(timeout=120)
        return self.process.returncode, json.loads(out), err.decode()

    def kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def rotate(folder: Path) -> None:
    """Each file takes the next file's content: p-000.yaml now holds S-001, Bruno, and so on."""
    files = sorted(folder.glob("*.yaml"))
    contents = [f.read_bytes() for f in files]
    for file, content in zip(files, contents[1:] + contents[:1], strict=True):
        file.write_bytes(content)


# --- items 2 and 3: one read per profile per run ----------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_profiles_edited_while_mail_goes_out_never_send_a_program_to_another_patient(
    people, tmp_path, jobs
):
    inbox = Inbox()
    with mail_server(inbox) as port:
        run = Paused(tmp_path, people, tmp_path / "out", "mailing", "--jobs", jobs, *email_args(port))
        run.reached()
        rotate(people)  # every file now names another patient and another address
        code, report, _ = run.go()
    assert code == 0, report
    assert report["emailed"] == len(PEOPLE)
    owner = {f"{name.split()[0].lower()}@example.org": name for name in PEOPLE}
    for envelope in inbox.received:
        message = message_from_bytes(envelope.content, policy=policy.default)
        [attachment] = message.iter_attachments()
        [recipient] = envelope.rcpt_tos
        assert holder(attachment.get_content()) == owner[recipient], recipient
        first = owner[recipient].split()[0]
        assert message.get_body(("plain",)).get_content().startswith(f"Hello {first},"), recipient
    assert sorted(e.rcpt_tos[0] for e in inbox.received) == sorted(owner)
    for name in PEOPLE:  # each document, too, is its own patient's
        number = PEOPLE.index(name)
        assert holder(tmp_path / "out" / f"S-{number:03d}.pdf") == name


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_profile_edited_to_another_patients_id_mid_run_overwrites_nobodys_document(
    people, tmp_path, jobs
):
    out = tmp_path / "out"
    run = Paused(tmp_path, people, out, "scanned", "--jobs", jobs)
    run.reached()
    # Alice's file now says it is Bruno's: read twice, the batch would write Alice's program
    # over Bruno's document, or Bruno's over Alice's.
    data = person(0)
    data["patient"]["id"] = "S-001"
    write_yaml(people / "p-000.yaml", data)
    rotate_ids = people / "p-002.yaml"  # and Chidi's names a patient nobody has
    data = person(2)
    data["patient"]["id"] = "S-999"
    write_yaml(rotate_ids, data)
    code, report, _ = run.go()
    assert code == 0, report
    assert {item["patient"]: item["pdf"] for item in report["items"]} == {
        f"S-{n:03d}": f"S-{n:03d}.pdf" for n in range(len(PEOPLE))
    }
    assert sorted(p.name for p in out.glob("*.pdf")) == [
        f"S-{n:03d}.pdf" for n in range(len(PEOPLE))
    ]
    for number, name in enumerate(PEOPLE):
        assert holder(out / f"S-{number:03d}.pdf") == name
