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
import fcntl
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from . import __version__
from .clinic import Clinic
from .errors import HepplanError, InputError, LibraryError, OutputError
from .library import Library
from .loading import MAX_DOCUMENT_BYTES, decode_document
from .output import write_atomic
from .resources import PACKAGE_DIR, templates_dir

SUFFIXES = (".yaml", ".yml", ".json")
STATE_DIR = ".hepplan"
MANIFEST = "manifest.sqlite3"
MANIFEST_FORMAT = "1"
#: Tasks handed out ahead of the one being collected, per worker: enough to keep workers busy,
#: few enough that memory stays flat however many profiles there are.
WINDOW_PER_WORKER = 4
#: ``POINT:FOLDER`` makes the coordinator stop once at POINT (``scanned``, ``building`` or
#: ``mailing``): it creates FOLDER/POINT.reached and waits until FOLDER/POINT.go exists. Tests
#: use it to change files, or kill the batch, at a known moment instead of by timing luck.
PAUSE_ENV = "HEPPLAN_BATCH_PAUSE"
_PAUSED: set[str] = set()


# --- what every worker needs, sent once as a value ------------------------------------------


@dataclass(frozen=True)
class Settings:
    library: Library
    clinic: Clinic
    large_print: bool
    context: str  # digest of everything a document depends on besides profile and library
    today: dt.date
    version: str = __version__  # the coordinator's: a worker on another version must refuse


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
        from .resources import default_library_dir

        self.library_dir = library_dir or default_library_dir()
        self.clinic, self.large_print = clinic, large_print
        self.today = today or dt.date.today()
        self.context = context_digest(clinic, large_print)
        self.fingerprint = f"{self.context}:{library_fingerprint(self.library_dir)}"

    @functools.cached_property
    def settings(self) -> Settings:
        from .library import load_library

        return Settings(
            load_library(self.library_dir), self.clinic, self.large_print, self.context, self.today
        )


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
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
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
        "logo": _file_digest(clinic.logo) if clinic.logo else None,
        "templates": {p.name: _file_digest(p) for p in sorted(templates_dir().glob("*.j2"))},
        "fonts": {p.name: _file_digest(p) for p in sorted((PACKAGE_DIR / "fonts").glob("*.ttf"))},
    }
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# --- the per-profile step (runs in a worker) --------------------------------------------------


@dataclass
class Result:
    status: str  # prescribed | refused | incomplete | invalid | failed
    patient: str | None = None
    digest: str | None = None
    pdf: bytes | None = None  # None when the program is unchanged or nothing is written
    disposition: str | None = None
    errors: list[str] = field(default_factory=list)


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
    from .planner import plan_program
    from .profile import parse_profile
    from .render import render_handout, render_redirect
    from .screening import screen

    if settings.version != __version__:  # its documents would not match the digests
        return Result(
            "failed",
            errors=[
                f"{source}: not built: this worker runs hepplan "
                f"{__version__}, the coordinator {settings.version}"
            ],
        )
    try:
        raw = decode_document(data, source, json_only=source.lower().endswith(".json"))
        profile = parse_profile(raw, source, today=settings.today)
    except InputError as exc:
        return Result("invalid", errors=exc.problems)
    patient = profile.patient.id
    try:
        screening = screen(profile)
        decision = plan_program(profile, settings.library, screening, source=source)
    except InputError as exc:
        return Result("invalid", patient, errors=exc.problems)
    except LibraryError as exc:
        return Result("failed", patient, errors=exc.problems)
    if decision.status == "incomplete":
        return Result(
            "incomplete",
            patient,
            disposition=decision.disposition,
            errors=[f"{source}: red_flags.{key}: not answered" for key in decision.missing],
        )
    digest = program_digest(settings, profile, decision)
    result = Result(decision.status, patient, digest, disposition=decision.disposition)
    if digest != previous:
        render = render_handout if decision.prescribed else render_redirect
        result.pdf = render(profile, decision, settings.clinic, large_print=settings.large_print)
    return result


_WORKER_SETTINGS: Settings | None = None
_LOCK_FD: int | None = None


def _init_worker(settings: Settings) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = settings
    if _LOCK_FD is not None:  # a forked worker must not keep the folder locked after a crash
        with contextlib.suppress(OSError):
            os.close(_LOCK_FD)


def _build_in_worker(source: str, data: bytes, previous: str | None) -> Result:
    assert _WORKER_SETTINGS is not None
    return build_one(_WORKER_SETTINGS, source, data, previous)


# --- the report -----------------------------------------------------------------------------


@dataclass
class Item:
    profile: str
    patient: str | None
    status: str  # prescribed | refused | incomplete | invalid | failed
    action: str  # built | unchanged | removed | none
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
    # The spool lives as long as the report and is closed by it, so no `with` block fits.
    _spool: IO[str] = field(
        default_factory=lambda: tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
    )

    def add(self, item: Item) -> None:
        if item.status == "prescribed":
            self.counts["built" if item.action == "built" else "unchanged"] += 1
        elif item.status in ("refused", "incomplete"):
            self.counts[item.status] += 1
        else:
            self.counts["failed"] += 1
            if item.status == "invalid":
                self.invalid += 1
            else:
                self.internal += 1
        self._spool.write(json.dumps(asdict(item), ensure_ascii=False) + "\n")

    def items(self) -> Iterator[dict]:
        self._spool.seek(0)
        for line in self._spool:
            yield json.loads(line)

    @property
    def exit_code(self) -> int:
        if self.internal:
            return 1
        return 2 if self.invalid else 0

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


class Manifest:
    """One SQLite row per profile: what it was built from and what was written (0600)."""

    def __init__(self, path: Path, warn: Callable[[str], None]):
        self.path = path
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            self.db = self._open()
        except sqlite3.DatabaseError:
            warn(
                f"{path}: the manifest could not be read; starting a new one "
                "(every document will be checked and rebuilt if needed)"
            )
            for suffix in ("", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{path}{suffix}").unlink()
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
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
        return db

    def get(self, profile: str) -> Row | None:
        found = self.db.execute("SELECT * FROM programs WHERE profile=?", (profile,)).fetchone()
        return Row(*found) if found else None

    def put(self, row: Row) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO programs VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            tuple(asdict(row).values()),
        )

    def close(self) -> None:
        self.db.close()


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
    handle = os.fdopen(os.open(state / "lock", os.O_WRONLY | os.O_CREAT, 0o600), "w")
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

    def __init__(self, inputs: Inputs, jobs: int, scheduler: str | None):
        self.inputs, self.jobs, self.scheduler = inputs, jobs, scheduler
        self.pool = self.client = self.remote_settings = None
        self.started = False
        self.width = jobs * WINDOW_PER_WORKER if jobs > 1 else 1

    def start(self) -> None:
        self.started = True
        settings = self.inputs.settings
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
                self.jobs, initializer=_init_worker, initargs=(settings,)
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
        return _Done(build_one(self.inputs.settings, source, data, previous))

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
        raise OutputError(f"{state}: cannot be created ({exc.strerror})") from None
    with _locked(state):
        _remove_temporary_files(out_dir)
        manifest = Manifest(state / MANIFEST, warn)
        try:
            return _Run(profiles_dir, out_dir, inputs, manifest, mailer, warn).go(
                Executor(inputs, jobs, scheduler), progress
            )
        finally:
            manifest.close()


def _remove_temporary_files(out_dir: Path) -> None:
    """What a killed run left half-written: never a document, only ``.<name>.*.part``."""
    for leftover in out_dir.glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


class _Run:
    def __init__(self, profiles_dir, out_dir, inputs, manifest, mailer, warn):
        self.root, self.out, self.inputs = profiles_dir, out_dir, inputs
        self.manifest, self.mailer, self.warn = manifest, mailer, warn
        self.report = Report()

    # 1. walk, read, and learn every profile's patient id (parsing only what changed)
    def scan(self) -> list[Entry]:
        entries = []
        for path in find_profiles(self.root, self.out):
            key = path.relative_to(self.root).as_posix()
            entry = Entry(path, str(path), key)
            entries.append(entry)
            data = self._read(entry)
            if data is None:
                continue
            entry.file_sha = hashlib.sha256(data).hexdigest()
            row = self.manifest.get(key)
            if row and row.file_sha == entry.file_sha and row.patient:
                entry.patient = row.patient
                continue
            from .profile import parse_profile

            try:
                raw = decode_document(data, entry.name, json_only=key.lower().endswith(".json"))
                entry.patient = parse_profile(raw, entry.name, today=self.inputs.today).patient.id
            except InputError as exc:
                entry.errors = exc.problems
        return entries

    def _read(self, entry: Entry) -> bytes | None:
        try:
            size = entry.path.stat().st_size
            if size > MAX_DOCUMENT_BYTES:
                entry.errors = [
                    f"{entry.name}: the file is {size:,} bytes; at most "
                    f"{MAX_DOCUMENT_BYTES:,} are read"
                ]
                return None
            return entry.path.read_bytes()
        except OSError as exc:
            entry.errors = [f"{entry.name}: cannot be read ({exc.strerror})"]
            return None

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
                elif self._unchanged(entry, row, inputs):
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
                    data = self._read(entry)
                    if data is None:
                        pending.append((entry, row, None))
                    else:
                        entry.file_sha = hashlib.sha256(data).hexdigest()
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
        return self.report

    def _unchanged(self, entry: Entry, row: Row | None, inputs: str) -> bool:
        return bool(
            row
            and row.file_sha == entry.file_sha
            and row.inputs == inputs
            and row.status in ("prescribed", "refused")
            and row.pdf == f"{entry.patient}.pdf"
            and self._pdf_intact(row)
        )

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
        self._finish(entry, row, result, inputs)
        if progress:
            progress(1)

    def _finish(self, entry: Entry, row: Row | None, result: Result, inputs: str) -> None:
        item = Item(
            entry.name,
            result.patient,
            result.status,
            "none",
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
            item.emailed = self._email(entry, new, item)
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

    def _email(self, entry: Entry, row: Row, item: Item) -> bool:
        if row.emailed == row.digest:
            return False  # this very program was sent before
        _pause("mailing")
        try:
            self.mailer(entry, self.out / row.pdf, self.inputs.settings)
        except HepplanError as exc:
            item.errors.extend(
                p if p.startswith(entry.name) else f"{entry.name}: {p}" for p in exc.problems
            )
            if exc.exit_code == 1:
                self.report.internal += 1
            else:
                self.report.invalid += 1
            self.report.not_emailed += 1
            return False
        row.emailed = row.digest
        self.manifest.put(row)
        self.report.emailed += 1
        return True


class Mailer:
    """Sends each newly built prescribed program to the patient's own address."""

    def __init__(self, transport, sender):
        self.transport, self.sender = transport, sender

    def __call__(self, entry: Entry, pdf: Path, settings: Settings) -> None:
        from .mail import build_message, parse_address
        from .planner import plan_program
        from .profile import load_profile
        from .screening import screen

        profile = load_profile(entry.path, today=settings.today)
        if profile.patient.email is None:
            raise InputError(
                f"{entry.name}: patient.email is not set; the program was built but not e-mailed"
            )
        decision = plan_program(profile, settings.library, screen(profile), source=entry.name)
        if not decision.prescribed:  # the profile changed since it was built
            raise OutputError(f"{entry.name}: changed while the batch ran; not e-mailed")
        recipient = parse_address(
            profile.patient.email, f"{entry.name}: patient.email", display_name=profile.patient.name
        )
        message = build_message(
            profile,
            decision,
            settings.clinic,
            pdf.read_bytes(),
            sender=self.sender,
            recipient=recipient,
        )
        self.transport.send(self.sender.addr_spec, recipient.addr_spec, message)


def _describe(exc: BaseException) -> str:
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process stopped unexpectedly"
    return f"{type(exc).__name__}: {exc}"
