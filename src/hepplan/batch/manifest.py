"""What a batch keeps in ``OUT_DIR/.hepplan``: the lock that lets one batch at a time write
there, the SQLite manifest (one row per profile: what it was built from and what was written),
what is done with a manifest that is damaged, locked or on a full disk, and the journal of the
e-mails sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hepplan.errors import HepplanError, InputError, OutputError

if TYPE_CHECKING:
    from hepplan.batch.executors import Letter

STATE_DIR = ".hepplan"
MANIFEST = "manifest.sqlite3"
SENT = "sent"  # the journal of e-mails sent, beside the manifest
MANIFEST_FORMAT = "2"  # 2: each row also records the clinician record


# --- the lock -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lock:
    """The held lock's descriptor and the file it is: all a forked worker needs to let go of
    the copy it inherited."""

    fd: int
    device: int
    inode: int

    def close_inherited(self) -> None:
        """In a forked worker: close its copy of the lock, so that workers outliving a crashed
        coordinator do not keep the folder locked. A process started another way inherited
        nothing and may use the same number for another file: only the lock file is closed."""
        with contextlib.suppress(OSError):
            found = os.fstat(self.fd)
            if (found.st_dev, found.st_ino) == (self.device, self.inode):
                os.close(self.fd)


@contextlib.contextmanager
def locked(state: Path, patience: float = 2.0) -> Iterator[Lock]:
    """One batch per output folder. A few seconds' patience covers the workers of a killed
    run that are still on their way out."""
    try:
        handle = os.fdopen(os.open(state / "lock", os.O_WRONLY | os.O_CREAT, 0o600), "w")
    except OSError as exc:  # a folder hepplan may not write in: the user's to fix
        raise InputError(
            f"{state / 'lock'}: cannot be written ({exc.strerror}); the output folder's "
            ".hepplan folder must be writable by whoever runs the batch"
        ) from None
    with handle:
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
        found = os.fstat(handle.fileno())
        yield Lock(handle.fileno(), found.st_dev, found.st_ino)


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
    #: The clinician record: its path under OUT_DIR (``records/<id>.pdf``), what was written,
    #: and the digest of what it was made of.
    record: str | None = None
    record_sha: str | None = None
    record_size: int | None = None
    record_digest: str | None = None


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

    def _create(self) -> None:
        try:
            if not self.path.exists():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise InputError(
                    f"{self.path}: the disk is full; free some space and run again"
                ) from None
            raise InputError(f"{self.path}: cannot be created ({exc.strerror})") from None

    def _open(self) -> sqlite3.Connection:
        self._create()
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
            "pdf_sha TEXT, pdf_size INTEGER, emailed TEXT, record TEXT, record_sha TEXT, "
            "record_size INTEGER, record_digest TEXT)"
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
                "INSERT OR REPLACE INTO programs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                tuple(asdict(row).values()),
            )
        except sqlite3.Error as exc:
            raise manifest_problem(self.path, exc) from None

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.close()


# --- the journal of e-mails sent ------------------------------------------------------------


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
