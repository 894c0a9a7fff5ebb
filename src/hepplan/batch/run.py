"""``hepplan batch``: one document per patient for a whole folder of profiles, and its clinician
record in ``records/``, rebuilding only what changed, in parallel, and safe to kill at any
moment. This module is the coordinator: it scans the folder, reads each profile once, schedules
the work, collects the results in order, writes the documents and sends the e-mails.

The coordinating process alone touches the disk. It walks the profiles, decides which can be
skipped without planning (nothing they depend on changed), and hands the rest to workers as
values: a profile's bytes and the digest of its last program (``executors``). A worker parses,
screens and plans; it renders only when the program's digest differs, and returns the PDF's
bytes. The coordinator writes each PDF to a temporary file, renames it into place, and only
then records it in the manifest (``manifest``: ``OUT_DIR/.hepplan/manifest.sqlite3``). A kill
between the two costs one re-render on the next run, never a wrong file.

Two digests (``digests``) make reruns cheap and exact:

* the **input digest** of a profile is its file's bytes plus the library's files and the run's
  context (clinic settings, templates, fonts, hepplan and reportlab versions, large print).
  When it matches, nothing is parsed or validated, the library included.
* the **program digest** is what the document is made of: the validated profile, the
  decision (exercises, doses, trace), the content of the exercises used, and the context.
  Editing one exercise changes every input digest, so every profile is re-planned (cheap), but
  only the programs that use that exercise get a new program digest and are rendered again.

The clinician record (``records/<id>.pdf``) has a digest of its own (``record_digest``): the
profile, the whole decision and the record's context (clinic name and paper, fonts, versions).
It prints the library's version, so editing any exercise rebuilds every record, while only the
handouts that use that exercise are rebuilt. Large print, the templates, the logo and the
clinic's numbers rebuild handouts and redirects, never a record. Each pair is written handout
first, then record, then the manifest row: a kill anywhere in between costs a re-render of what
the manifest does not yet vouch for, never a wrong file.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import errno
import functools
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hepplan.batch.digests import context_digest, library_fingerprint, record_context_digest
from hepplan.batch.executors import (
    Done,
    Executor,
    Letter,
    Previous,
    Raised,
    Result,
    Settings,
    describe,
    read_profile,
)
from hepplan.batch.manifest import (
    MANIFEST,
    SENT,
    STATE_DIR,
    Journal,
    Manifest,
    Row,
    locked,
)
from hepplan.batch.report import Item, Report
from hepplan.domain.clinic import Clinic
from hepplan.errors import HepplanError, InputError, LibraryError, OutputError, Status
from hepplan.io import clock
from hepplan.io.loading import not_regular, read_open_file
from hepplan.io.output import RECORDS, write_atomic

SUFFIXES = (".yaml", ".yml", ".json")
#: ``POINT:FOLDER`` makes the coordinator stop once at POINT (``scanned``, ``building``,
#: ``mailing``, ``renamed-K``: after the K-th document is renamed into place and before the
#: manifest records it, or ``recorded-K``: the same for the K-th clinician record): it creates
#: FOLDER/POINT.reached and waits until FOLDER/POINT.go exists. Tests use it to change files, or
#: kill the batch, at a known moment instead of by timing luck.
PAUSE_ENV = "HEPPLAN_BATCH_PAUSE"


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
        self.record_context = record_context_digest(clinic)
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
        return Settings(
            library,
            self.clinic,
            self.large_print,
            self.context,
            self.today,
            record_context=self.record_context,
        )


class Pauses:
    """The ``PAUSE_ENV`` hook of one run: the point it names stops the coordinator once."""

    def __init__(self, setting: str):
        self.point, _, self.folder = setting.partition(":")
        self.reached: set[str] = set()

    def __call__(self, point: str, patience: float = 120.0) -> None:
        if point != self.point or not self.folder or point in self.reached:
            return
        self.reached.add(point)
        Path(self.folder, f"{point}.reached").touch()
        deadline = time.monotonic() + patience
        while not Path(self.folder, f"{point}.go").exists() and time.monotonic() < deadline:
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
    state = _state_folder(profiles_dir, out_dir)
    with locked(state) as lock, contextlib.ExitStack() as stack:
        _remove_temporary_files(out_dir)
        manifest = Manifest(state / MANIFEST, warn)
        stack.callback(manifest.close)
        try:
            spool = Spool(state)
        except OSError as exc:
            raise OutputError(f"{state}: cannot be written ({exc.strerror})") from None
        stack.callback(spool.close)
        work = _Run(profiles_dir, out_dir, inputs, mailer, warn)
        work.manifest, work.spool, work.journal = manifest, spool, Journal(state / SENT)
        stack.callback(work.folder.close)
        executor = Executor(
            lambda: inputs.settings, jobs, scheduler, letters=mailer is not None, lock=lock
        )
        return work.go(executor, progress)


def _state_folder(profiles_dir: Path, out_dir: Path) -> Path:
    """``OUT_DIR/.hepplan``, made if needed, once both folders are known to be usable."""
    if not profiles_dir.is_dir():
        raise InputError(f"{profiles_dir}: is not a folder of profiles")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file; give a folder for the documents")
    if not out_dir.parent.is_dir():
        raise InputError(f"{out_dir}: the folder {out_dir.parent} does not exist")
    records = out_dir / RECORDS
    if records.is_symlink() or (records.exists() and not records.is_dir()):
        raise InputError(
            f"{records}: is not a folder; batch writes the clinician records there. Move it away"
        )
    state = out_dir / STATE_DIR
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{state}: cannot be created ({exc.strerror})") from None
    return state


def _remove_temporary_files(out_dir: Path) -> None:
    """What a killed run left half-written: never a document, only ``.<name>.*.part``."""
    for leftover in [*out_dir.glob(".*.part"), *(out_dir / RECORDS).glob(".*.part")]:
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


class _Run:
    """One run of the coordinator: what it was given, what it has done so far, its report."""

    #: The state folder's files, opened by ``run`` for as long as the run lasts.
    manifest: Manifest
    spool: Spool
    journal: Journal

    def __init__(self, profiles_dir: Path, out_dir: Path, inputs: Inputs, mailer, warn):
        self.root, self.out, self.inputs = profiles_dir, out_dir, inputs
        self.mailer, self.warn = mailer, warn
        self.folder = Folder(profiles_dir)
        self.report = Report()
        self.renamed = 0  # documents renamed into place so far
        self.recorded = 0  # clinician records renamed into place so far
        self.pause = Pauses(os.environ.get(PAUSE_ENV, ""))

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
        self.pause("scanned")
        progress = progress(len(entries)) if progress else None
        inputs = self.inputs.fingerprint
        pending: collections.deque = collections.deque()
        with executor:
            for entry in entries:
                row = self.manifest.get(entry.key)
                pending.append((entry, row, self._schedule(entry, row, executor)))
                while len(pending) > executor.width:
                    self._collect(*pending.popleft(), inputs, progress)
            while pending:
                self._collect(*pending.popleft(), inputs, progress)
        for problem in self.inputs.library_problems:
            self.warn(f"error: {problem}")
        self.report.library_code = self.inputs.library_code
        return self.report

    def _schedule(self, entry: Entry, row: Row | None, executor: Executor):
        """A future of the entry's result: none for an entry already in error, the manifest's
        row for one unchanged, otherwise the work handed to the executor."""
        if entry.errors:
            return None
        if entry.unchanged:
            assert row is not None
            done = Result(row.status, row.patient, row.digest, disposition=row.disposition)
            done.record_digest = row.record_digest
            return Done(done)
        assert entry.spooled is not None  # read at scan time, never again
        data = self.spool.get(entry.spooled)
        previous = Previous(
            row.digest if row and self._intact(*_handout(row)) else None,
            row.record_digest
            if row and row.record == _record_name(entry.patient) and self._intact(*_record(row))
            else None,
        )
        try:
            future = executor.submit(entry.name, data, previous)
        except HepplanError:  # no scheduler, no library: nothing can be built
            raise
        except Exception as exc:  # a broken pool refuses new work
            future = Raised(exc)
        self.pause("building")
        return future

    def _unchanged(self, entry: Entry, row: Row | None, inputs: str) -> bool:
        return bool(
            row
            and row.file_sha == entry.file_sha
            and row.inputs == inputs
            and row.status in (Status.PRESCRIBED, Status.REFUSED)
            and row.pdf == f"{entry.patient}.pdf"
            and self._intact(*_handout(row))
            and row.record == _record_name(entry.patient)
            and self._intact(*_record(row))
            and not self._mail_pending(row)
        )

    def _mail_pending(self, row: Row) -> bool:
        """A program not yet e-mailed is planned again, for its letter (its PDF is kept)."""
        return (
            self.mailer is not None
            and row.status == Status.PRESCRIBED
            and row.emailed != row.digest
        )

    def _intact(self, name: str | None, _sha: str | None, size: int | None) -> bool:
        """Whether a document written earlier is still there at the size it was written."""
        if not name:
            return False
        try:
            return (self.out / name).stat().st_size == size
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
                    errors=[f"{entry.name}: not built: {describe(exc)}; run the batch again"],
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
            missing=result.missing,
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
        if result.status in (Status.PRESCRIBED, Status.REFUSED):
            self._place(entry, row, result, item, new)
        elif result.status == "failed":
            # An internal failure says nothing about the profile: keep what was there, and
            # make sure the next run looks at it again.
            if row is not None:
                new = dataclasses.replace(row, inputs="")
        elif row:
            # Incomplete or invalid: the old documents no longer stand for a screened profile.
            if self._remove_written(*_handout(row)):
                item.action = "removed"
            if self._remove_written(*_record(row)):
                item.record_action = "removed"
        self.manifest.put(new)
        if self.mailer is not None and result.status == Status.PRESCRIBED:
            item.emailed = self._email(entry, new, item, result)
        elif self.mailer is not None:
            item.emailed = False
        self.report.add(item)

    def _place(self, entry: Entry, row: Row | None, result: Result, item: Item, new: Row) -> None:
        """A screened profile's document, then its clinician record: each written when it is
        new or changed, kept otherwise; those this profile wrote earlier under another name
        are removed."""
        name = f"{result.patient}.pdf"
        item.pdf = name
        if result.pdf is not None:
            self.renamed += 1
            new.pdf, new.pdf_sha, new.pdf_size = self._put(
                name, result.pdf, "renamed", self.renamed
            )
            item.action = "built"
        else:
            assert row is not None  # an unchanged program has a row
            new.pdf, new.pdf_sha, new.pdf_size = row.pdf, row.pdf_sha, row.pdf_size
            item.action = "unchanged"
        self._place_record(row, result, item, new)
        if row and row.pdf and row.pdf != name:
            self._remove_written(*_handout(row))
        if row and row.record and row.record != new.record:
            self._remove_written(*_record(row))

    def _place_record(self, row: Row | None, result: Result, item: Item, new: Row) -> None:
        """The clinician record beside the document, in ``records/``."""
        name = item.record = _record_name(result.patient)
        new.record_digest = result.record_digest
        if result.record is None:
            assert row is not None and row.record == name  # only an intact record is kept
            new.record, new.record_sha, new.record_size = _record(row)
            item.record_action = "unchanged"
            return
        try:
            (self.out / RECORDS).mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.out / RECORDS}: cannot be created ({exc.strerror})") from None
        self.recorded += 1
        new.record, new.record_sha, new.record_size = self._put(
            name, result.record, "recorded", self.recorded
        )
        item.record_action = "built"

    def _put(self, name: str, data: bytes, point: str, count: int) -> tuple[str, str, int]:
        """``data`` written in place as ``name``, then the pause point ``<point>-<count>``
        (a file in place, not yet in the manifest); its name, digest and size for the manifest."""
        write_atomic(self.out / name, data)
        self.pause(f"{point}-{count}")
        return name, hashlib.sha256(data).hexdigest(), len(data)

    def _remove_written(self, name: str | None, sha: str | None, size: int | None) -> bool:
        """Remove a document this profile wrote earlier, if it is still the one we wrote."""
        if not name or self._as_written(name, sha, size) is None:
            return False  # gone, or replaced since: someone else's file now
        try:
            (self.out / name).unlink()
        except FileNotFoundError:
            return False
        return True

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
        self.pause("mailing")
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
        return self._as_written(*_handout(row))

    def _as_written(self, name: str, sha: str | None, size: int | None) -> bytes | None:
        """The bytes of a document the manifest records, if the file is still exactly what was
        written: opened without following a link or waiting on a pipe, checked to be a regular
        file, and read no further than the recorded size."""
        try:
            handle = os.open(self.out / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            data = read_open_file(handle, name, limit=size or 0)
        except InputError:
            return None
        finally:
            os.close(handle)
        return data if hashlib.sha256(data).hexdigest() == sha else None


def _record_name(patient: str | None) -> str:
    """Where a patient's clinician record goes, under the output folder."""
    return f"{RECORDS}/{patient}.pdf"


def _handout(row: Row) -> tuple[str | None, str | None, int | None]:
    """The patient's document a manifest row records: its name, digest and size."""
    return row.pdf, row.pdf_sha, row.pdf_size


def _record(row: Row) -> tuple[str | None, str | None, int | None]:
    """The clinician record a manifest row records: its name, digest and size."""
    return row.record, row.record_sha, row.record_size


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
