"""`hepplan batch` under attack and accident: profiles edited while it runs, links and files
that are not profiles, a full disk, a locked or lost manifest, and a killed coordinator.

Runs that must be interrupted at a known moment use ``HEPPLAN_BATCH_PAUSE``: the batch stops
at the named point, the test changes files (or kills it), then lets it go on."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from pypdf import PdfReader

from hepplan.batch import run as batching
from hepplan.cli import cli

from .conftest import REPO, fill, profile_data, small_disk_at
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


def chart_holder(path: Path) -> str:
    """The patient a clinician record is for, as its first page names them: "Name (id)"."""
    lines = PdfReader(path).pages[0].extract_text().splitlines()
    return lines[lines.index("Clinician record") + 1].split(", age ")[0]


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

    def __enter__(self) -> Paused:
        return self

    def __exit__(self, *exc) -> None:
        """Should the test fail half-way: nothing it started is left running."""
        if self.process.poll() is None:
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
        args = ["--jobs", jobs, *email_args(port)]
        with Paused(tmp_path, people, tmp_path / "out", "mailing", *args) as run:
            run.reached()
            rotate(people)  # every file now names another patient and another address
            code, report, _ = run.go()
    assert code == 0, report
    assert report["emailed"] == len(PEOPLE)
    owner = {f"{name.split()[0].lower()}@example.org": name for name in PEOPLE}
    for envelope in inbox.received:
        message = message_from_bytes(envelope.content, policy=policy.default)
        [attachment] = message.iter_attachments()  # the handout alone, never the record
        [recipient] = envelope.rcpt_tos
        assert holder(attachment.get_content()) == owner[recipient], recipient
        sent = PdfReader(io.BytesIO(attachment.get_content())).pages
        assert not any("Clinician record" in page.extract_text() for page in sent)
        first = owner[recipient].split()[0]
        assert message.get_body(("plain",)).get_content().startswith(f"Hello {first},"), recipient
    assert sorted(e.rcpt_tos[0] for e in inbox.received) == sorted(owner)
    for name in PEOPLE:  # each document, too, is its own patient's, and so is each record
        number = PEOPLE.index(name)
        assert holder(tmp_path / "out" / f"S-{number:03d}.pdf") == name
        record = tmp_path / "out" / "records" / f"S-{number:03d}.pdf"
        assert chart_holder(record) == f"{name} (S-{number:03d})"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_profile_edited_to_another_patients_id_mid_run_overwrites_nobodys_document(
    people, tmp_path, jobs
):
    out = tmp_path / "out"
    with Paused(tmp_path, people, out, "scanned", "--jobs", jobs) as run:
        run.reached()
        # Alice's file now says it is Bruno's: read twice, the batch would write Alice's
        # program over Bruno's document, or Bruno's over Alice's.
        data = person(0)
        data["patient"]["id"] = "S-001"
        write_yaml(people / "p-000.yaml", data)
        data = person(2)  # and Chidi's names a patient nobody has
        data["patient"]["id"] = "S-999"
        write_yaml(people / "p-002.yaml", data)
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
        assert chart_holder(out / "records" / f"S-{number:03d}.pdf") == f"{name} (S-{number:03d})"
    assert sorted(p.name for p in (out / "records").glob("*.pdf")) == [
        f"S-{n:03d}.pdf" for n in range(len(PEOPLE))
    ]


# --- item 10: links and files that are not profiles ------------------------------------------

#: Lines of a file of secrets, each of which YAML reads as a key.
SECRET_LINES = [
    "root:$6$Qx9v$Z3cr3tR00tH4sh:19000:0:99999:7:::",
    "alice:$6$Ab1c$Al1c3sH4shV4lue:19000:0:99999:7:::",
    "API_TOKEN_sk_live_4f9a8b7c6d5e",
]


def secret_file(path: Path) -> Path:
    path.write_text("".join(f"{line}:\n" for line in SECRET_LINES), encoding="utf-8")
    return path


def batch_json(runner, profiles: Path, out: Path, code: int):
    command = ["batch", str(profiles), "-o", str(out), "--clinic", str(CLINIC), "--json"]
    result = runner.invoke(cli, command)
    assert result.exit_code == code, result.output
    report = json.loads(result.stdout)
    return {Path(i["profile"]).name: i for i in report["items"]}, report, result


def shows_no_secret(result) -> None:
    for line in SECRET_LINES:
        for fragment in (line, line.split(":")[0] + ":$6$", line[-12:]):
            assert fragment not in result.output, fragment


def test_a_link_that_leaves_the_profiles_folder_is_not_read(runner, people, tmp_path):
    (people / "s.yaml").symlink_to(secret_file(tmp_path / "shadow"))
    (people / "zero.yaml").symlink_to("/dev/zero")
    elsewhere = tmp_path / "elsewhere"
    write_yaml(elsewhere / "other.yaml", person(0))  # would be a duplicate of S-000 if read
    (people / "linked-folder").symlink_to(elsewhere, target_is_directory=True)
    items, report, result = batch_json(runner, people, tmp_path / "out", code=2)
    for name in ("s.yaml", "zero.yaml"):
        assert items[name]["errors"] == [
            f"{people / name}: is a link to a file outside {people}; batch reads only the "
            "files inside it"
        ]
        assert (items[name]["status"], items[name]["pdf"]) == ("invalid", None)
    assert "other.yaml" not in items
    assert (report["built"], report["failed"]) == (len(PEOPLE), 2)
    shows_no_secret(result)


def test_a_file_in_the_folder_that_is_not_a_profile_shows_nothing_from_it(runner, people, tmp_path):
    secret_file(people / "notes.yaml")
    (people / "keys.json").write_text('{"API_TOKEN_sk_live_4f9a8b7c6d5e": 1}', encoding="utf-8")
    items, report, result = batch_json(runner, people, tmp_path / "out", code=2)
    for name in ("notes.yaml", "keys.json"):
        assert items[name]["errors"] == [
            f"{people / name}: is not a profile (it has none of the keys format, patient, "
            "assessment, red_flags); nothing in it is shown"
        ]
    assert report["built"] == len(PEOPLE)
    shows_no_secret(result)


def test_a_link_that_stays_inside_the_folder_is_read(runner, people, tmp_path):
    archive = people / ".archive"  # hidden folders are not walked: the link is the only way in
    archive.mkdir()
    (people / "p-000.yaml").rename(archive / "alice.yaml")
    (people / "current.yaml").symlink_to(Path(".archive") / "alice.yaml")
    items, _, _ = batch_json(runner, people, tmp_path / "out", code=0)
    assert (items["current.yaml"]["patient"], items["current.yaml"]["action"]) == (
        "S-000",
        "built",
    )
    assert holder(tmp_path / "out" / "S-000.pdf") == "Alice Ames"


def test_a_pipe_or_a_device_among_the_profiles_is_refused_at_once(people, tmp_path):
    os.mkfifo(people / "pipe.yaml")
    device = people / "zero.yaml"
    try:
        os.mknod(device, 0o600 | 0o020000, os.makedev(1, 5))  # what /dev/zero is
    except PermissionError:
        device = None  # only root may make device files
    command = [sys.executable, "-m", "hepplan", "batch", str(people), "-o", str(tmp_path / "out")]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--clinic", str(CLINIC), "--json"], capture_output=True, timeout=60
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done.stderr
    items = {Path(i["profile"]).name: i for i in json.loads(done.stdout)["items"]}
    assert items["pipe.yaml"]["errors"] == [
        f"{people / 'pipe.yaml'}: is a named pipe, not a file; hepplan reads only regular files"
    ]
    if device is not None:
        assert items["zero.yaml"]["errors"] == [
            f"{device}: is a device, not a file; hepplan reads only regular files"
        ]
    assert sum(i["action"] == "built" for i in items.values()) == len(PEOPLE)


# --- item 7: a full disk, a lock, damage, and a lost manifest ----------------------------------


def manifest_of(out: Path) -> Path:
    return out / ".hepplan" / "manifest.sqlite3"


@pytest.fixture
def small_disk(tmp_path):
    """A real 3 MB file system (tmpfs), which the test can fill up."""
    with small_disk_at(tmp_path / "disk", "3m") as disk:
        yield disk


def test_a_full_disk_stops_the_batch_and_keeps_the_manifest(runner, people, small_disk):
    out = small_disk / "out"
    batch_json(runner, people, out, code=0)
    before = manifest_of(out).read_bytes()
    filler = fill(small_disk)
    data = person(1)
    data["assessment"]["pain_now"] = 7
    write_yaml(people / "p-001.yaml", data)

    result = runner.invoke(cli, ["batch", str(people), "-o", str(out), "--clinic", str(CLINIC)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: {manifest_of(out)}: the disk is full; the manifest was left as it is. "
        "Free some space and run again\n"
    )
    assert manifest_of(out).read_bytes() == before

    filler.unlink()
    items, report, _ = batch_json(runner, people, out, code=0)
    assert (report["built"], report["unchanged"]) == (1, len(PEOPLE) - 1)
    assert items["p-001.yaml"]["action"] == "built"


def test_a_manifest_another_program_holds_locked_is_left_alone(runner, people, tmp_path):
    out = tmp_path / "out"
    batch_json(runner, people, out, code=0)
    before = manifest_of(out).read_bytes()
    holder_db = sqlite3.connect(manifest_of(out), isolation_level=None)
    try:
        holder_db.execute("BEGIN EXCLUSIVE")
        result = runner.invoke(cli, ["batch", str(people), "-o", str(out)])
    finally:
        holder_db.close()
    assert result.exit_code == 1, result.output
    assert result.stderr == (
        f"error: {manifest_of(out)}: another program has the manifest locked; the manifest was "
        "left as it is. Close that program (an SQLite browser, a backup tool) and run again\n"
    )
    assert manifest_of(out).read_bytes() == before
    _, report, _ = batch_json(runner, people, out, code=0)
    assert (report["built"], report["unchanged"]) == (0, len(PEOPLE))


def test_a_damaged_manifest_is_moved_aside_not_deleted(runner, people, tmp_path):
    out = tmp_path / "out"
    batch_json(runner, people, out, code=0)
    damage = b"not a database" * 100
    manifest_of(out).write_bytes(damage)
    _, report, result = batch_json(runner, people, out, code=0)
    [kept] = (out / ".hepplan").glob("manifest.sqlite3.damaged-*")
    assert kept.read_bytes() == damage
    assert result.stderr.splitlines()[0] == (
        f"{manifest_of(out)}: the manifest could not be read; starting a new one (every "
        f"document will be checked and rebuilt if needed); the damaged file is kept as {kept.name}"
    )
    assert report["built"] == len(PEOPLE)


@pytest.mark.parametrize("loss", ["deleted", "damaged"])
def test_a_lost_manifest_does_not_send_any_program_twice(runner, people, tmp_path, loss):
    out = tmp_path / "out"
    inbox = Inbox()
    with mail_server(inbox) as port:
        command = ["batch", str(people), "-o", str(out), "--clinic", str(CLINIC), "--json"]
        command += email_args(port)
        first = runner.invoke(cli, command)
        assert json.loads(first.stdout)["emailed"] == len(PEOPLE), first.output
        for leftover in (out / ".hepplan").glob("manifest.sqlite3*"):
            leftover.unlink()
        if loss == "damaged":
            manifest_of(out).write_bytes(b"\0garbage" * 512)

        again = runner.invoke(cli, command)
        assert again.exit_code == 0, again.output
        report = json.loads(again.stdout)
        assert (report["built"], report["emailed"]) == (len(PEOPLE), 0)  # rebuilt, not re-sent
        assert len(inbox.received) == len(PEOPLE)

        data = person(3)
        data["assessment"]["pain_now"] = 1
        write_yaml(people / "p-003.yaml", data)
        changed = json.loads(runner.invoke(cli, command).stdout)
        assert changed["emailed"] == 1  # a changed program is still sent, once
        assert [e.rcpt_tos for e in inbox.received[len(PEOPLE) :]] == [["dana@example.org"]]
    journal = [p.name for p in (out / ".hepplan" / "sent").rglob("*") if p.is_file()]
    assert len(journal) == len(PEOPLE) + 1
    assert all(len(name) == 64 and set(name) <= set("0123456789abcdef") for name in journal)


# --- item 9: a killed coordinator leaves no workers ---------------------------------------------


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                after_name = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(after_name[1]) == pid:
                    found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has exited; only its parent has not looked yet


def holds(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open."""
    found = False
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        with contextlib.suppress(OSError):
            found = found or os.readlink(fd) == str(path)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="looks at open files in /proc")
def test_workers_hold_no_copy_of_the_folders_lock(people, tmp_path):
    """Workers that outlive a crashed coordinator must not keep the next batch out."""
    out = tmp_path / "out"
    lock = (out / ".hepplan" / "lock").resolve()
    with Paused(tmp_path, people, out, "building", "--jobs", "2") as run:
        run.reached()
        workers = children_of(run.process.pid)
        assert len(workers) == 2, workers
        assert holds(run.process.pid, lock)
        deadline = time.monotonic() + 10  # a worker lets go of it as it starts
        while any(holds(pid, lock) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(holds(pid, lock) for pid in workers)
        code, report, _ = run.go()
    assert code == 0 and report["built"] == len(PEOPLE)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds workers through /proc")
def test_killing_the_coordinator_with_sigkill_leaves_no_workers_running(runner, people, tmp_path):
    import fcntl

    out = tmp_path / "out"
    with Paused(tmp_path, people, out, "building", "--jobs", "2") as run:
        run.reached()
        workers = children_of(run.process.pid)
        started = time.monotonic() + 30  # the pool starts its workers as it goes: wait for both
        while len(workers) < 2 and time.monotonic() < started:
            time.sleep(0.05)
            workers = children_of(run.process.pid)
        assert len(workers) == 2, workers
        os.kill(run.process.pid, signal.SIGKILL)  # the coordinator alone, as the OOM killer does
        run.process.wait()
        deadline = time.monotonic() + 5
        while any(running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [pid for pid in workers if running(pid)]
        for pid in alive:  # what this test started, before it fails
            os.kill(pid, signal.SIGKILL)
        assert alive == []
    with open(out / ".hepplan" / "lock", "w") as lock:  # nobody holds the folder: no waiting
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    _, report, _ = batch_json(runner, people, out, code=0)
    assert report["built"] + report["unchanged"] == len(PEOPLE)
