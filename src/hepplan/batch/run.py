"""``hepplan batch``: one document per patient for a whole folder of profiles, rebuilding only
what changed, in parallel, and safe to kill at any moment.

The coordinating process alone touches the disk. It walks the profiles, decides which can be
skipped without planning (nothing they depend on changed), and hands the rest to workers as
values: a profile's bytes and the digest of its last program. A worker parses, screens and
plans; it renders only when the program's digest differs, and returns the PDF's bytes. The
coordinator writes each PDF to a temporary file, renames it into place, and only then records
it in the manifest (``OUT_DIR/.hepplan/manifest.sqlite3``). A kill between the two costs one
re-render on the next run, never a wrong file.

Two digests make reruns cheap and exact:

* the **input digest** of a profile is its file's bytes plus the library's files and the run's
  context (clinic settings, templates, fonts, hepplan and reportlab versions, large print).
  When it matches, nothing is parsed or validated, the library included.
* the **program digest** is what the document is made of: the validated profile, the
  decision (exercises, doses, trace), the content of the exercises used, and the context.
  Editing one exercise changes every input digest, so every profile is re-planned (cheap), but
  only the programs that use that exercise get a new program digest and are rendered again.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import errno
import fcntl
import functools
import hashlib
import json
import os
import signal
import sqlite3
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from hepplan import __version__
from hepplan.domain.clinic import Clinic
from hepplan.domain.library import Library
from hepplan.errors import HepplanError, InputError, LibraryError, OutputError
from hepplan.io import clock
from hepplan.io.loading import decode_document, not_regular, read_open_file, read_regular
from hepplan.io.output import write_atomic
from hepplan.io.resources import PACKAGE_DIR, templates_dir

SUFFIXES = (".yaml", ".yml", ".json")
STATE_DIR = ".hepplan"
MANIFEST = "manifest.sqlite3"
SENT = "sent"  # the journal of e-mails sent, beside the manifest
MANIFEST_FORMAT = "1"
#: Tasks handed out ahead of the one being collected, per worker: enough to keep workers busy,
#: few enough that memory stays flat however many profiles there are.
WINDOW_PER_WORKER = 4
#: ``POINT:FOLDER`` makes the coordinator stop once at POINT (``scanned``, ``building``,
#: ``mailing``, or ``renamed-K``: after the K-th document is renamed into place and before the
#: manifest records it): it creates FOLDER/POINT.reached and waits until FOLDER/POINT.go exists.
#: Tests use it to change files, or kill the batch, at a known moment instead of by timing luck.
PAUSE_ENV = "HEPPLAN_BATCH_PAUSE"
_PAUSED: set[str] = set()


# --- what every worker needs, sent once as a value ------------------------------------------


@dataclass(frozen=True)
class Settings:
    library: Library | None  # None: unusable; refusals are still written (CLINICAL.md §1)
    clinic: Clinic
    large_print: bool
    context: str  # digest of everything a document depends on besides profile and library
    today: dt.date
    version: str = __version__  # the coordinator's: a worker on another version must refuse
    letters: bool = False  # --email: make each prescribed program's e-mail from the same read


class Inputs:
    """What a run is given. The library is read and validated only when some profile needs
    planning: a rerun with nothing changed only hashes its files."""

    def __init__(
        self,
        library_dir: Path | None,
        clinic: Clinic,
        large_print: bool,
        today: dt.date | None = None,
    ):
        from hepplan.io.resources import default_library_dir

        self.library_dir = library_dir or default_library_dir()
        self.clinic, self.large_print = clinic, large_print
        self.today = today or clock.today()
        self.context = context_digest(clinic, large_print)
        self.fingerprint = f"{self.context}:{library_fingerprint(self.library_dir)}"

    #: Why the library cannot be used, and the exit code that carries (2: --library is not a
    #: folder, 1: a broken library); empty while it can be, or has not been read yet.
    library_problems: tuple[str, ...] = ()
    library_code: int = 0

    @functools.cached_property
    def settings(self) -> Settings:
        from hepplan.io.library import load_library

        try:
            library = load_library(self.library_dir)
        except (LibraryError, InputError) as exc:
            # Screening needs no library: refusals are still written; programs are not.
            library = None
            self.library_problems, self.library_code = tuple(exc.problems), exc.exit_code
        return Settings(library, self.clinic, self.large_print, self.context, self.today)


def library_fingerprint(directory: Path) -> str:
    """A digest of the exercise files as they are on disk: when it matches the last run's, the
    library is the one that run validated."""
    digest = hashlib.sha256()
    try:
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    except OSError:
        return "unreadable"
    for path in files:
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(hashlib.sha256(read_regular(path)).digest())
        except (OSError, InputError):
            digest.update(b"unreadable")
    return digest.hexdigest()


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def context_digest(clinic: Clinic, large_print: bool) -> str:
    """Everything besides the profile and the library that a document's bytes depend on."""
    import reportlab

    parts: dict[str, Any] = {
        "hepplan": __version__,
        "reportlab": reportlab.Version,
        "manifest": MANIFEST_FORMAT,
        "large_print": large_print,
        # The smtp section says how to send, not what is written: changing it rebuilds nothing.
        "clinic": clinic.model_dump(mode="json", exclude={"smtp", "logo"}),
        "logo": hashlib.sha256(clinic.logo_data).hexdigest() if clinic.logo_data else None,
        "templates": {p.name: _file_digest(p) for p in sorted(templates_dir().glob("*.j2"))},
        "fonts": {p.name: _file_digest(p) for p in sorted((PACKAGE_DIR / "fonts").glob("*.ttf"))},
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# --- the per-profile step (runs in a worker) --------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """What the mailer needs to send one program, made from the same bytes as its document: the
    mailer never reads or plans a profile."""

    patient: str
    name: str  # the display name
    address: str  # name@example.org
    text: str
    html: str
    attachment: str


@dataclass
class Result:
    status: str  # prescribed | refused | incomplete | invalid | failed
    patient: str | None = None
    digest: str | None = None
    pdf: bytes | None = None  # None when the program is unchanged or nothing is written
    disposition: str | None = None
    errors: list[str] = field(default_factory=list)
    letter: Letter | None = None  # with --email, for a prescribed program with an address
    unsendable: str | None = None  # with --email, why a prescribed program cannot be sent
    blocked: bool = False  # not built only because the library cannot be used


#: A file with none of these keys at its top is not a profile: nothing in it is shown (a link
#: or copy of a file of secrets must not be printed back as "unknown keys").
PROFILE_KEYS = frozenset({"format", "patient", "assessment", "red_flags"})


def read_profile(data: bytes, source: str, today: dt.date):
    """A profile from a file's bytes, or an InputError that shows nothing from a file that is
    not a profile at all."""
    from hepplan.domain.profile import parse_profile

    raw = decode_document(data, source, json_only=source.lower().endswith(".json"))
    if isinstance(raw, dict) and raw and not PROFILE_KEYS.intersection(raw):
        raise InputError(
            f"{source}: is not a profile (it has none of the keys format, patient, assessment, "
            "red_flags); nothing in it is shown"
        )
    return parse_profile(raw, source, today=today)


def _letter(profile, decision, clinic: Clinic, source: str) -> Letter | str:
    from hepplan.deliver.mail import attachment_name, bodies, parse_address

    if profile.patient.email is None:
        return f"{source}: patient.email is not set; the program was built but not e-mailed"
    try:
        address = parse_address(
            profile.patient.email, "patient.email", display_name=profile.patient.name
        )
    except InputError:
        return f"{source}: patient.email: not an address mail can be sent to; not e-mailed"
    text, html = bodies(profile, decision, clinic)
    return Letter(
        profile.patient.id,
        address.display_name,
        address.addr_spec,
        text,
        html,
        attachment_name(profile),
    )


def program_digest(settings: Settings, profile, decision) -> str:
    decided = decision.to_dict()
    decided.pop("library_version")  # the whole library: what the program uses is below
    parts = {
        "context": settings.context,
        "profile": profile.model_dump(mode="json"),
        "decision": decided,
        "content": decision.content_version,
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def build_one(settings: Settings, source: str, data: bytes, previous: str | None) -> Result:
    """Parse, screen and plan one profile; render its document unless its program digest is
    ``previous``. Pure: values in, values out, no disk."""
    from hepplan.domain.planner import plan_program
    from hepplan.domain.screening import screen
    from hepplan.render.pdf import render_handout, render_redirect

    if settings.version != __version__:  # its documents would not match the digests
        return Result(
            "failed",
            errors=[
                f"{source}: not built: this worker runs hepplan "
                f"{__version__}, the coordinator {settings.version}"
            ],
        )
    try:
        profile = read_profile(data, source, settings.today)
    except InputError as exc:
        return Result("invalid", errors=exc.problems)
    patient = profile.patient.id
    try:
        screening = screen(profile)
        if screening.prescribed and settings.library is None:
            return Result(
                "failed",
                patient,
                errors=[f"{source}: not built: the exercise library cannot be used (see above)"],
                blocked=True,
            )
        decision = plan_program(profile, settings.library, screening, source=source)
    except InputError as exc:
        return Result("invalid", patient, errors=exc.problems)
    except LibraryError as exc:
        return Result("failed", patient, errors=exc.problems)
    if decision.status == "incomplete":
        return Result(
            "incomplete",
            patient,
            disposition=decision.disposition.word,
            errors=[f"{source}: red_flags.{key}: not answered" for key in decision.missing],
        )
    digest = program_digest(settings, profile, decision)
    result = Result(decision.status, patient, digest, disposition=decision.disposition.word)
    if digest != previous:
        render = render_handout if decision.prescribed else render_redirect
        result.pdf = render(profile, decision, settings.clinic, large_print=settings.large_print)
    if settings.letters and decision.prescribed:
        letter = _letter(profile, decision, settings.clinic, source)
        if isinstance(letter, Letter):
            result.letter = letter
        else:
            result.unsendable = letter
    return result


_WORKER_SETTINGS: Settings | None = None
_LOCK_FD: int | None = None
_PARENT: int | None = None  # the process that started this worker
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _init_worker(settings: Settings, coordinator: int) -> None:
    global _WORKER_SETTINGS, _PARENT
    _WORKER_SETTINGS = settings
    if _LOCK_FD is not None:  # a forked worker must not keep the folder locked after a crash
        with contextlib.suppress(OSError):
            os.close(_LOCK_FD)
    _PARENT = os.getppid()
    _die_with_parent()
    if not _alive(coordinator):  # it died before the request above was made
        os._exit(0)


def _die_with_parent() -> None:
    """Ask Linux to kill this worker as soon as its parent dies, ``kill -9`` included, so that
    a killed batch leaves no workers behind. Elsewhere, ``_build_in_worker`` checks between
    profiles."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _build_in_worker(source: str, data: bytes, previous: str | None) -> Result:
    assert _WORKER_SETTINGS is not None
    if os.getppid() != _PARENT:  # orphaned: the coordinator is gone, nobody wants this work
        os._exit(0)
    return build_one(_WORKER_SETTINGS, source, data, previous)


# --- the report -----------------------------------------------------------------------------


@dataclass
class Item:
    profile: str
    patient: str | None
    status: str  # prescribed | refused | incomplete | invalid | failed
    action: str  # built | unchanged | removed | none | blocked (by an unusable library)
    disposition: str | None = None  # none | routine | urgent | emergency, once screened
    pdf: str | None = None
    errors: list[str] = field(default_factory=list)
    emailed: bool | None = None  # None when --email was not asked for


COUNTS = ("built", "unchanged", "refused", "incomplete", "failed")


@dataclass
class Report:
    """Counts, plus every item spooled to a temporary file so memory stays flat."""

    counts: collections.Counter = field(default_factory=collections.Counter)
    invalid: int = 0
    internal: int = 0
    emailed: int = 0
    not_emailed: int = 0
    new_redirects: int = 0  # refusals whose redirect this run wrote, new or changed
    library_code: int = 0  # an unusable library's exit code (see Inputs.library_problems)
    # The spool lives as long as the report and is closed by it, so no `with` block fits.
    _spool: IO[str] = field(
        default_factory=lambda: tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
    )

    def add(self, item: Item) -> None:
        if item.status == "prescribed":
            self.counts["built" if item.action == "built" else "unchanged"] += 1
        elif item.status in ("refused", "incomplete"):
            self.counts[item.status] += 1
            self.new_redirects += item.status == "refused" and item.action == "built"
        else:
            self.counts["failed"] += 1
            if item.status == "invalid":
                self.invalid += 1
            elif item.action != "blocked":  # a blocked item counts as the library's problem
                self.internal += 1
        self._spool.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")

    def items(self) -> Iterator[dict]:
        self._spool.seek(0)
        for line in self._spool:
            yield json.loads(line)

    @property
    def exit_code(self) -> int:
        """The most pressing (CONTRACT.md §3): 1 over 2 over 3 (a redirect written by this
        run: a patient to contact) over 4 (a screening incomplete) over 0. An unusable
        library counts as its own code (1 broken, 2 not a folder)."""
        if self.internal or self.library_code == 1:
            return 1
        if self.invalid or self.library_code == 2:
            return 2
        if self.new_redirects:
            return 3
        return 4 if self.counts["incomplete"] else 0

    def summary(self) -> str:
        line = ", ".join(f"{self.counts[key]} {key}" for key in COUNTS)
        if self.emailed or self.not_emailed:
            line += f"; {self.emailed} e-mailed"
            if self.not_emailed:
                line += f", {self.not_emailed} not e-mailed"
        return line

    def write_json(self, out: IO[str], *, with_email: bool) -> None:
        head = {key: self.counts[key] for key in COUNTS}
        if with_email:
            head["emailed"] = self.emailed
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "items": [')
        for number, item in enumerate(self.items()):
            if not with_email:
                item.pop("emailed")
            out.write(("," if number else "") + "\n  " + json.dumps(item, ensure_ascii=False))
        out.write("\n]}\n")

    def close(self) -> None:
        self._spool.close()


# --- the manifest ---------------------------------------------------------------------------


@dataclass
class Row:
    profile: str
    file_sha: str
    inputs: str
    patient: str | None
    status: str
    disposition: str | None
    digest: str | None
    pdf: str | None
    pdf_sha: str | None
    pdf_size: int | None
    emailed: str | None


#: SQLite's primary result codes (https://sqlite.org/rescode.html) that hepplan tells apart.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_FULL = 5, 6, 8, 13
SQLITE_PERM, SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_NOTADB = 3, 11, 14, 26


def _sqlite_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def _disk_full(folder: Path) -> bool:
    try:
        return os.statvfs(folder).f_bavail == 0
    except OSError:
        return False


class DamagedManifest(Exception):
    """The manifest is proven damaged: SQLite says so, or its own integrity check fails."""


def manifest_problem(path: Path, exc: sqlite3.Error) -> HepplanError:
    """What went wrong with the manifest, when it is not damaged: a full disk, a lock, a
    permission. The manifest is left as it is in every case."""
    code = _sqlite_code(exc)
    kept = "the manifest was left as it is"
    if code == SQLITE_FULL or _disk_full(path.parent):
        return InputError(f"{path}: the disk is full; {kept}. Free some space and run again")
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return OutputError(
            f"{path}: another program has the manifest locked; {kept}. Close that program "
            "(an SQLite browser, a backup tool) and run again"
        )
    if code in (SQLITE_READONLY, SQLITE_PERM, SQLITE_CANTOPEN):
        return InputError(f"{path}: cannot be written ({exc}); {kept}")
    return OutputError(f"{path}: could not be read or written ({exc}); {kept}")


class Manifest:
    """One SQLite row per profile: what it was built from and what was written (0600).

    Only a manifest proven damaged is replaced, and even then it is moved aside, never
    deleted. A full disk, a lock or a permission problem stops the run with the manifest
    untouched."""

    def __init__(self, path: Path, warn: Callable[[str], None]):
        self.path = path
        try:
            self.db = self._open()
        except DamagedManifest:
            kept = self._move_aside()
            warn(
                f"{path}: the manifest could not be read; starting a new one "
                "(every document will be checked and rebuilt if needed); the damaged file "
                f"is kept as {kept.name}"
            )
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise InputError(
                    f"{self.path}: the disk is full; free some space and run again"
                ) from None
            raise InputError(f"{self.path}: cannot be created ({exc.strerror})") from None
        db = None
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=2.0)
            if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
                raise DamagedManifest
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._tables(db)
            return db
        except sqlite3.Error as exc:
            if db is not None:
                db.close()
            if _sqlite_code(exc) in (SQLITE_CORRUPT, SQLITE_NOTADB):
                raise DamagedManifest from None
            raise manifest_problem(self.path, exc) from None
        except DamagedManifest:
            if db is not None:
                db.close()
            raise

    @staticmethod
    def _tables(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")  # a manifest another program holds locked stops us here
        db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        found = db.execute("SELECT value FROM meta WHERE key='format'").fetchone()
        if found is None or found[0] != MANIFEST_FORMAT:
            db.execute("DROP TABLE IF EXISTS programs")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (MANIFEST_FORMAT,))
        db.execute(
            "CREATE TABLE IF NOT EXISTS programs (profile TEXT PRIMARY KEY, file_sha TEXT, "
            "inputs TEXT, patient TEXT, status TEXT, disposition TEXT, digest TEXT, pdf TEXT, "
            "pdf_sha TEXT, "
            "pdf_size INTEGER, emailed TEXT)"
        )
        db.execute("COMMIT")

    def _move_aside(self) -> Path:
        """Keep the damaged file (and its journal files) next to the new one."""
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        number = 1
        while kept.exists():
            number += 1
            kept = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{number}")
        try:
            for suffix in (
                "-wal",
                "-shm",
                "",
            ):  # the main file last: never a new one with an old WAL
                with contextlib.suppress(FileNotFoundError):
                    os.rename(f"{self.path}{suffix}", f"{kept}{suffix}")
        except OSError as exc:
            raise InputError(
                f"{self.path}: the manifest is damaged and cannot be moved aside "
                f"({exc.strerror}); move it away by hand and run again"
            ) from None
        return kept

    def get(self, profile: str) -> Row | None:
        try:
            found = self.db.execute("SELECT * FROM programs WHERE profile=?", (profile,)).fetchone()
        except sqlite3.Error as exc:
            raise manifest_problem(self.path, exc) from None
        return Row(*found) if found else None

    def put(self, row: Row) -> None:
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO programs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                tuple(asdict(row).values()),
            )
        except sqlite3.Error as exc:
            raise manifest_problem(self.path, exc) from None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


class Journal:
    """``OUT_DIR/.hepplan/sent/``: one empty file for each e-mail a mail server accepted, named
    by a digest of the patient id, the address and the program (nothing a reader could learn
    a patient from). It is written before a send is counted and is kept whatever happens to
    the manifest, so a lost or rebuilt manifest never sends a program a second time."""

    def __init__(self, folder: Path):
        self.folder = folder

    @staticmethod
    def key(letter: Letter, digest: str) -> str:
        blob = f"{letter.patient}\0{letter.address.lower()}\0{digest}".encode()
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / key

    def __contains__(self, key: str) -> bool:
        return self._path(key).exists()

    def add(self, key: str) -> None:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for durable in (path, path.parent):  # on disk before the send is counted
            handle = os.open(durable, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)


# --- the coordinator ------------------------------------------------------------------------


def _pause(point: str, patience: float = 120.0) -> None:
    wanted, _, folder = os.environ.get(PAUSE_ENV, "").partition(":")
    if wanted != point or not folder or point in _PAUSED:
        return
    _PAUSED.add(point)
    Path(folder, f"{point}.reached").touch()
    deadline = time.monotonic() + patience
    while not Path(folder, f"{point}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.01)


@dataclass
class Entry:
    """One profile found by the walk: just enough to schedule it."""

    path: Path
    name: str  # as shown in the report: the path under PROFILES_DIR, joined to it
    key: str  # the manifest key: the path relative to PROFILES_DIR
    file_sha: str | None = None
    patient: str | None = None
    errors: list[str] = field(default_factory=list)
    unchanged: bool = False  # nothing it depends on changed: it is not even parsed
    spooled: tuple[int, int] | None = None  # where the bytes read at scan time are kept


class Folder:
    """The profiles folder. Each profile is read once, through the folder, from its real path
    inside it: a link that leaves the folder is not followed, a link swapped in while the run
    reads is refused (``O_NOFOLLOW`` at every step), and anything but a regular file (a pipe,
    a device) is refused before a byte is read. Reads are bounded whatever the size says."""

    def __init__(self, root: Path):
        self.root = root
        self.real = root.resolve()
        self.fd: int | None = None  # the folder, opened once per run

    def read(self, path: Path, key: str, name: str) -> bytes:
        """``key`` is the path under the folder. The walk enters no linked folder, so only the
        file itself may be a link; a link swapped in later is caught when opening."""
        parts = tuple(key.split("/"))
        if os.path.islink(path):
            real = os.path.realpath(path)
            if os.path.islink(real):
                raise InputError(f"{name}: is a link that never reaches a file (a loop); not read")
            try:
                parts = Path(real).relative_to(self.real).parts
            except ValueError:
                raise InputError(
                    f"{name}: is a link to a file outside {self.root}; batch reads only the "
                    "files inside it"
                ) from None
        try:
            handle = self._open(parts, name)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):  # a link or file swapped in meanwhile
                raise InputError(f"{name}: changed while the batch read it; not read") from None
            raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
        try:
            return read_open_file(handle, name)
        finally:
            os.close(handle)

    def _open(self, parts: tuple[str, ...], name: str) -> int:
        if not parts:  # a link to the folder itself
            raise InputError(not_regular(stat.S_IFDIR, name))
        if self.fd is None:
            self.fd = os.open(self.real, os.O_RDONLY | os.O_DIRECTORY)
        folder = self.fd
        try:
            for part in parts[:-1]:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=folder)
                if folder != self.fd:
                    os.close(folder)
                folder = inner
            kind = stat.S_IFMT(os.stat(parts[-1], dir_fd=folder, follow_symlinks=False).st_mode)
            if kind != stat.S_IFLNK and (problem := not_regular(kind, name)):
                raise InputError(problem)
            flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY
            return os.open(parts[-1], flags, dir_fd=folder)
        finally:
            if folder != self.fd:
                os.close(folder)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class Spool:
    """The bytes of every profile as read at scan time, kept in an unnamed private file in the
    state folder (memory stays flat): the documents, the ids and the e-mails of a run all come
    from this one read, whatever happens to the files meanwhile."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.file = tempfile.TemporaryFile(dir=folder, buffering=0)  # noqa: SIM115 - see close
        self.size = 0

    def put(self, data: bytes) -> tuple[int, int]:
        where = (self.size, len(data))
        try:
            while data:
                written = os.pwrite(self.file.fileno(), data, self.size)
                self.size, data = self.size + written, data[written:]
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise InputError(
                    f"{self.folder}: the disk is full; free some space and run again"
                ) from None
            raise OutputError(f"{self.folder}: cannot be written ({exc.strerror})") from None
        return where

    def get(self, where: tuple[int, int]) -> bytes:
        start, length = where
        chunks = []
        while length:
            chunk = os.pread(self.file.fileno(), length, start)
            if not chunk:
                break
            chunks.append(chunk)
            start, length = start + len(chunk), length - len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.file.close()


def find_profiles(root: Path, skip: Path) -> list[Path]:
    """Every *.yaml, *.yml and *.json under ``root``, sorted by path, never following links
    into other folders, never entering hidden folders or the output folder."""
    skip = skip.resolve()
    found = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip]
        found += [
            here / name
            for name in files
            if name.lower().endswith(SUFFIXES) and not name.startswith(".")
        ]
    return sorted(found, key=lambda path: path.relative_to(root).parts)


@contextlib.contextmanager
def _locked(state: Path, patience: float = 2.0) -> Iterator[None]:
    """One batch per output folder. A few seconds' patience covers the workers of a killed
    run that are still on their way out."""
    global _LOCK_FD
    try:
        handle = os.fdopen(os.open(state / "lock", os.O_WRONLY | os.O_CREAT, 0o600), "w")
    except OSError as exc:  # a folder hepplan may not write in: the user's to fix
        raise InputError(
            f"{state / 'lock'}: cannot be written ({exc.strerror}); the output folder's "
            ".hepplan folder must be writable by whoever runs the batch"
        ) from None
    try:
        deadline = time.monotonic() + patience
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"{state.parent}: another hepplan batch is writing here; "
                        "wait for it to finish"
                    ) from None
                time.sleep(0.05)
        _LOCK_FD = handle.fileno()
        yield
    finally:
        _LOCK_FD = None
        handle.close()


class Executor:
    """Where the per-profile step runs: here, in local worker processes, or on a Dask cluster.
    Every kind gives back futures with ``.result()``. Nothing starts until the first task."""

    def __init__(self, inputs: Inputs, jobs: int, scheduler: str | None, letters: bool = False):
        self.inputs, self.jobs, self.scheduler = inputs, jobs, scheduler
        self.letters = letters
        self.pool = self.client = self.remote_settings = self.settings = None
        self.started = False
        self.width = jobs * WINDOW_PER_WORKER if jobs > 1 else 1

    def start(self) -> None:
        self.started = True
        self.settings = settings = dataclasses.replace(self.inputs.settings, letters=self.letters)
        if self.scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise InputError("--scheduler needs Dask: pip install 'hepplan[dask]'") from None
            _reachable(self.scheduler)
            try:
                self.client = Client(self.scheduler, timeout="20s", set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise OutputError(
                    f"--scheduler: cannot reach the Dask scheduler at {self.scheduler} ({exc})"
                ) from None
            self.remote_settings = self.client.scatter(settings, broadcast=True)
            self.width = max(1, sum(self.client.nthreads().values())) * WINDOW_PER_WORKER
        elif self.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                self.jobs, initializer=_init_worker, initargs=(settings, os.getpid())
            )

    def submit(self, source: str, data: bytes, previous: str | None):
        if not self.started:
            self.start()
        if self.client is not None:
            return self.client.submit(
                build_one, self.remote_settings, source, data, previous, pure=False
            )
        if self.pool is not None:
            return self.pool.submit(_build_in_worker, source, data, previous)
        return _Done(build_one(self.settings, source, data, previous))

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.client is not None:
            self.client.close()


def _reachable(address: str) -> None:
    """Refuse at once, rather than after the client's long timeout, a scheduler whose port
    nobody listens on."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        raise InputError(
            f"--scheduler: {address!r} is not an address like tcp://scheduler.example.org:8786"
        )
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        raise OutputError(
            f"--scheduler: cannot reach the Dask scheduler at {address} ({exc.strerror or exc})"
        ) from None


@dataclass
class _Done:
    value: Result

    def result(self) -> Result:
        return self.value


@dataclass
class _Raised:
    error: BaseException

    def result(self) -> Result:
        raise self.error


def run(
    profiles_dir: Path,
    out_dir: Path,
    *,
    inputs: Inputs,
    jobs: int,
    scheduler: str | None = None,
    mailer=None,
    warn: Callable[[str], None] = print,
    progress: Callable[[int], Callable[[int], Any] | None] | None = None,
) -> Report:
    """Build every profile's document under ``out_dir``; return the report.

    ``progress(total)`` is called once the profiles are counted and may return a function
    that is called with 1 as each profile is done."""
    if not profiles_dir.is_dir():
        raise InputError(f"{profiles_dir}: is not a folder of profiles")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file; give a folder for the documents")
    if not out_dir.parent.is_dir():
        raise InputError(f"{out_dir}: the folder {out_dir.parent} does not exist")
    state = out_dir / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{state}: cannot be created ({exc.strerror})") from None
    with _locked(state):
        _remove_temporary_files(out_dir)
        manifest = Manifest(state / MANIFEST, warn)
        try:
            spool = Spool(state)
        except OSError as exc:
            manifest.close()
            raise OutputError(f"{state}: cannot be written ({exc.strerror})") from None
        work = _Run(profiles_dir, out_dir, inputs, manifest, mailer, warn)
        work.spool, work.journal = spool, Journal(state / SENT)
        try:
            return work.go(Executor(inputs, jobs, scheduler, letters=mailer is not None), progress)
        finally:
            work.folder.close()
            spool.close()
            manifest.close()


def _remove_temporary_files(out_dir: Path) -> None:
    """What a killed run left half-written: never a document, only ``.<name>.*.part``."""
    for leftover in out_dir.glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


class _Run:
    spool: Spool
    journal: Journal

    def __init__(self, profiles_dir, out_dir, inputs, manifest, mailer, warn):
        self.root, self.out, self.inputs = profiles_dir, out_dir, inputs
        self.manifest, self.mailer, self.warn = manifest, mailer, warn
        self.folder = Folder(profiles_dir)
        self.report = Report()
        self.renamed = 0  # documents renamed into place so far

    # 1. walk, read each profile once, and learn its patient id (parsing only what changed)
    def scan(self) -> list[Entry]:
        entries = []
        for path in find_profiles(self.root, self.out):
            key = path.relative_to(self.root).as_posix()
            entry = Entry(path, str(path), key)
            entries.append(entry)
            try:
                data = self.folder.read(path, key, entry.name)
            except InputError as exc:
                entry.errors = exc.problems
                continue
            entry.file_sha = hashlib.sha256(data).hexdigest()
            row = self.manifest.get(key)
            if row and row.file_sha == entry.file_sha and row.patient:
                entry.patient = row.patient
                entry.unchanged = self._unchanged(entry, row, self.inputs.fingerprint)
            else:
                try:
                    entry.patient = read_profile(data, entry.name, self.inputs.today).patient.id
                except InputError as exc:
                    entry.errors = exc.problems
                    continue
            if not entry.unchanged:  # to be built from these very bytes
                entry.spooled = self.spool.put(data)
        return entries

    # 2. ids used twice are an error for every profile that uses them
    @staticmethod
    def duplicates(entries: list[Entry]) -> None:
        owners: dict[str, list[Entry]] = collections.defaultdict(list)
        for entry in entries:
            if entry.patient and not entry.errors:
                owners[entry.patient.casefold()].append(entry)
        for same in owners.values():
            if len(same) > 1:
                for entry in same:
                    others = ", ".join(e.name for e in same if e is not entry)
                    entry.errors = [
                        f"{entry.name}: patient.id: {entry.patient!r} is also the id "
                        f"in {others}; no document was written for either"
                    ]

    # 3. schedule, collect in order, write, record
    def go(self, executor: Executor, progress) -> Report:
        entries = self.scan()
        self.duplicates(entries)
        _pause("scanned")
        progress = progress(len(entries)) if progress else None
        inputs = self.inputs.fingerprint
        pending: collections.deque = collections.deque()
        with executor:
            for entry in entries:
                row = self.manifest.get(entry.key)
                if entry.errors:
                    pending.append((entry, row, None))
                elif entry.unchanged:
                    pending.append(
                        (
                            entry,
                            row,
                            _Done(
                                Result(
                                    row.status, row.patient, row.digest, disposition=row.disposition
                                )
                            ),
                        )
                    )
                else:
                    assert entry.spooled is not None  # read at scan time, never again
                    data = self.spool.get(entry.spooled)
                    previous = row.digest if row and self._pdf_intact(row) else None
                    try:
                        future = executor.submit(entry.name, data, previous)
                    except HepplanError:  # no scheduler, no library: nothing can be built
                        raise
                    except Exception as exc:  # a broken pool refuses new work
                        future = _Raised(exc)
                    pending.append((entry, row, future))
                    _pause("building")
                while len(pending) > executor.width:
                    self._collect(*pending.popleft(), inputs, progress)
            while pending:
                self._collect(*pending.popleft(), inputs, progress)
        for problem in self.inputs.library_problems:
            self.warn(f"error: {problem}")
        self.report.library_code = self.inputs.library_code
        return self.report

    def _unchanged(self, entry: Entry, row: Row | None, inputs: str) -> bool:
        return bool(
            row
            and row.file_sha == entry.file_sha
            and row.inputs == inputs
            and row.status in ("prescribed", "refused")
            and row.pdf == f"{entry.patient}.pdf"
            and self._pdf_intact(row)
            and not self._mail_pending(row)
        )

    def _mail_pending(self, row: Row) -> bool:
        """A program not yet e-mailed is planned again, for its letter (its PDF is kept)."""
        return self.mailer is not None and row.status == "prescribed" and row.emailed != row.digest

    def _pdf_intact(self, row: Row) -> bool:
        if not row.pdf:
            return False
        try:
            return (self.out / row.pdf).stat().st_size == row.pdf_size
        except OSError:
            return False

    def _collect(self, entry: Entry, row: Row | None, future, inputs: str, progress) -> None:
        if future is None:
            result = Result("invalid", entry.patient, errors=entry.errors)
        else:
            try:
                result = future.result()
            except HepplanError as exc:
                result = Result("failed", entry.patient, errors=exc.problems)
            except Exception as exc:  # a worker died or raised: this profile is not built
                result = Result(
                    "failed",
                    entry.patient,
                    errors=[f"{entry.name}: not built: {_describe(exc)}; run the batch again"],
                )
        if entry.patient and result.patient and result.patient != entry.patient:
            result = Result(  # cannot happen with one read; never write under another's name
                "failed",
                entry.patient,
                errors=[f"{entry.name}: not built: its patient id changed; run the batch again"],
            )
        self._finish(entry, row, result, inputs)
        if progress:
            progress(1)

    def _finish(self, entry: Entry, row: Row | None, result: Result, inputs: str) -> None:
        item = Item(
            entry.name,
            result.patient,
            result.status,
            "blocked" if result.blocked else "none",
            result.disposition,
            errors=result.errors,
        )
        new = Row(
            entry.key,
            entry.file_sha or "",
            inputs,
            result.patient,
            result.status,
            result.disposition,
            result.digest,
            None,
            None,
            None,
            row.emailed if row else None,
        )
        if result.status in ("prescribed", "refused"):
            name = f"{result.patient}.pdf"
            item.pdf = name
            if result.pdf is not None:
                write_atomic(self.out / name, result.pdf)
                self.renamed += 1
                _pause(f"renamed-{self.renamed}")  # a document in place, not yet in the manifest
                new.pdf, new.pdf_sha = name, hashlib.sha256(result.pdf).hexdigest()
                new.pdf_size = len(result.pdf)
                item.action = "built"
            else:
                new.pdf, new.pdf_sha, new.pdf_size = row.pdf, row.pdf_sha, row.pdf_size
                item.action = "unchanged"
            if row and row.pdf and row.pdf != name:
                self._remove_stale(entry, row)
        elif result.status == "failed":
            # An internal failure says nothing about the profile: keep what was there, and
            # make sure the next run looks at it again.
            if row is not None:
                new = dataclasses.replace(row, inputs="")
        elif row and row.pdf and self._remove_stale(entry, row):
            # Incomplete or invalid: the old document no longer stands for a screened profile.
            item.action = "removed"
        self.manifest.put(new)
        if self.mailer is not None and result.status == "prescribed":
            item.emailed = self._email(entry, new, item, result)
        elif self.mailer is not None:
            item.emailed = False
        self.report.add(item)

    def _remove_stale(self, entry: Entry, row: Row) -> bool:
        """Remove the document this profile wrote earlier, if it is still the one we wrote."""
        path = self.out / row.pdf
        try:
            if hashlib.sha256(path.read_bytes()).hexdigest() != row.pdf_sha:
                return False  # replaced since: someone else's file now
            path.unlink()
            return True
        except FileNotFoundError:
            return False

    def _email(self, entry: Entry, row: Row, item: Item, result: Result) -> bool:
        """Send the program just handled to the address read with it, at most once ever."""
        if row.emailed == row.digest:
            return False  # this very program was sent before
        letter = result.letter
        if letter is None:
            problem = result.unsendable or f"{entry.name}: not e-mailed; run the batch again"
            return self._not_emailed(entry, item, InputError(problem))
        key = Journal.key(letter, row.digest or "")
        if key in self.journal:  # sent by an earlier run whose manifest was lost since
            row.emailed = row.digest
            self.manifest.put(row)
            return False
        pdf = result.pdf if result.pdf is not None else self._written(row, letter)
        if pdf is None:
            row.pdf_size = None  # the next run renders it again
            self.manifest.put(row)
            return self._not_emailed(
                entry,
                item,
                OutputError(
                    f"{entry.name}: {row.pdf} was changed or removed since it was built; "
                    "not e-mailed; run the batch again"
                ),
            )
        _pause("mailing")
        try:
            self.mailer(letter, pdf, self.inputs.clinic)
        except HepplanError as exc:
            return self._not_emailed(entry, item, exc)
        row.emailed = row.digest
        self._record_sent(entry, key, row)
        self.report.emailed += 1
        return True

    def _not_emailed(self, entry: Entry, item: Item, exc: HepplanError) -> bool:
        item.errors.extend(
            p if p.startswith(entry.name) else f"{entry.name}: {p}" for p in exc.problems
        )
        if exc.exit_code == 1:
            self.report.internal += 1
        else:
            self.report.invalid += 1
        self.report.not_emailed += 1
        return False

    def _record_sent(self, entry: Entry, key: str, row: Row) -> None:
        """The journal first (it survives the manifest), then the manifest. If the journal
        cannot be written the run stops: going on could send this program again later."""
        try:
            self.journal.add(key)
        except OSError as exc:
            with contextlib.suppress(HepplanError):
                self.manifest.put(row)
            error = InputError if exc.errno == errno.ENOSPC else OutputError
            raise error(
                f"{entry.name}: the program was e-mailed, but {self.journal.folder} could not "
                f"record it ({exc.strerror}); the batch stopped so that nothing is sent twice"
            ) from None
        self.manifest.put(row)

    def _written(self, row: Row, letter: Letter) -> bytes | None:
        """The document this run did not render again, if it is still exactly what was built."""
        if row.pdf != f"{letter.patient}.pdf":
            return None
        try:
            handle = os.open(self.out / row.pdf, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            data = read_open_file(handle, str(row.pdf), limit=row.pdf_size or 0)
        except InputError:
            return None
        finally:
            os.close(handle)
        return data if hashlib.sha256(data).hexdigest() == row.pdf_sha else None


class Mailer:
    """Sends a prescribed program, as it was built, to the address read with it."""

    def __init__(self, transport, sender):
        self.transport, self.sender = transport, sender

    def __call__(self, letter: Letter, pdf: bytes, clinic: Clinic) -> None:
        from email.headerregistry import Address

        from hepplan.deliver.mail import compose

        recipient = Address(display_name=letter.name, addr_spec=letter.address)
        message = compose(
            clinic,
            letter.text,
            letter.html,
            letter.attachment,
            pdf,
            sender=self.sender,
            recipient=recipient,
        )
        self.transport.send(self.sender.addr_spec, letter.address, message)


def _describe(exc: BaseException) -> str:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process stopped unexpectedly"
    return f"{type(exc).__name__}: {exc}"
