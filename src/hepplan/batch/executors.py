"""Where a batch's per-profile step runs, and the step itself: in the coordinating process, in
local worker processes, or on a Dask cluster.

The step (``build_one``) is pure: a profile's bytes and the digests of its last documents in,
a ``Result`` out (the PDFs' bytes: the patient's document and the clinician record, and with
--email the letter made from the same read). A local worker process gets the run's settings
once, when it starts, and dies with the coordinator.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from hepplan import __version__
from hepplan.batch.digests import program_digest, record_digest
from hepplan.batch.manifest import Lock
from hepplan.domain.clinic import Clinic
from hepplan.domain.library import Library
from hepplan.errors import InputError, LibraryError, OutputError, Status
from hepplan.io.loading import decode_document

#: Tasks handed out ahead of the one being collected, per worker: enough to keep workers busy,
#: few enough that memory stays flat however many profiles there are.
WINDOW_PER_WORKER = 4
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


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
    record_context: str = ""  # the same for the clinician record, which needs less


@dataclass(frozen=True)
class Previous:
    """The digests of what a profile's documents were made of, for those still on disk as they
    were written: a document whose digest is unchanged is not rendered again."""

    document: str | None = None  # the handout or the redirect
    record: str | None = None  # the clinician record


# --- the per-profile step -------------------------------------------------------------------


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
    record_digest: str | None = None  # what the clinician record is made of
    record: bytes | None = None  # the clinician record; None when unchanged or not written
    disposition: str | None = None
    errors: list[str] = field(default_factory=list)
    letter: Letter | None = None  # with --email, for a prescribed program with an address
    unsendable: str | None = None  # with --email, why a prescribed program cannot be sent
    blocked: bool = False  # not built only because the library cannot be used
    missing: list[str] = field(default_factory=list)  # red-flag questions not yet asked


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


def build_one(settings: Settings, source: str, data: bytes, previous: Previous | None) -> Result:
    """Parse, screen and plan one profile; render its document and its clinician record, each
    unless its digest is the one in ``previous``. Pure: values in, values out, no disk."""
    from hepplan.domain.planner import plan_program
    from hepplan.domain.screening import screen

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
    return _built(settings, source, profile, decision, previous)


def _built(settings: Settings, source: str, profile, decision, previous: Previous | None) -> Result:
    """A planned profile's result: its document and record unless unchanged, and with --email
    its letter."""
    from hepplan.render.pdf import render_document
    from hepplan.render.record import chart_record

    patient = profile.patient.id
    if decision.status is Status.INCOMPLETE:
        return Result(
            Status.INCOMPLETE,
            patient,
            disposition=decision.disposition.word,
            errors=[f"{source}: red_flags.{key}: not answered" for key in decision.missing],
            missing=list(decision.missing),
        )
    digest = program_digest(settings.context, profile, decision)
    result = Result(decision.status, patient, digest, disposition=decision.disposition.word)
    result.missing = list(decision.missing)  # a refusal may come before every question
    result.record_digest = record_digest(settings.record_context, profile, decision)
    previous = previous or Previous()
    if digest != previous.document:
        result.pdf = render_document(
            profile, decision, settings.clinic, large_print=settings.large_print
        )
    if result.record_digest != previous.record:
        result.record = chart_record(profile, decision, settings.clinic)
    if settings.letters and decision.prescribed:
        letter = _letter(profile, decision, settings.clinic, source)
        if isinstance(letter, Letter):
            result.letter = letter
        else:
            result.unsendable = letter
    return result


# --- a local worker process -----------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to kill this worker as soon as its parent dies, ``kill -9`` included, so that
    a killed batch leaves no workers behind. Elsewhere, ``Worker.build`` checks between
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


class Worker:
    """One local worker process: the run's settings, received once, and the process that
    started it. It lets go of the coordinator's lock and dies with the coordinator."""

    def __init__(self, settings: Settings, coordinator: int, lock: Lock | None):
        self.settings = settings
        if lock is not None:  # a forked worker must not keep the folder locked after a crash
            lock.close_inherited()
        self.parent = os.getppid()
        _die_with_parent()
        if not _alive(coordinator):  # it died before the request above was made
            os._exit(0)

    def build(self, source: str, data: bytes, previous: Previous | None) -> Result:
        if os.getppid() != self.parent:  # orphaned: the coordinator is gone, nobody wants this
            os._exit(0)
        return build_one(self.settings, source, data, previous)


#: This process's one Worker, made by the pool's initializer (``_start_worker``) in each local
#: worker process and never in the coordinator: a process pool runs plain functions, and they
#: find their worker here. It is the only state ``hepplan.batch`` keeps at module level.
_worker: Worker | None = None


def _start_worker(settings: Settings, coordinator: int, lock: Lock | None) -> None:
    """The process pool's initializer: makes this worker process's one ``Worker`` and keeps it
    in ``_worker``, one per process, for the tasks that follow (``_build_in_worker``)."""
    global _worker
    _worker = Worker(settings, coordinator, lock)


def _build_in_worker(source: str, data: bytes, previous: Previous | None) -> Result:
    assert _worker is not None
    return _worker.build(source, data, previous)


# --- the executor ---------------------------------------------------------------------------


class Executor:
    """Where the per-profile step runs: here, in local worker processes, or on a Dask cluster.
    Every kind gives back futures with ``.result()``. Nothing starts until the first task, and
    only then are the settings made (``settings()`` may read the library)."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        jobs: int,
        scheduler: str | None,
        *,
        letters: bool = False,
        lock: Lock | None = None,
    ):
        self.make_settings, self.jobs, self.scheduler = settings, jobs, scheduler
        self.letters, self.lock = letters, lock
        self.pool = self.client = self.remote_settings = self.settings = None
        self.started = False
        self.width = jobs * WINDOW_PER_WORKER if jobs > 1 else 1

    def start(self) -> None:
        self.started = True
        self.settings = settings = dataclasses.replace(self.make_settings(), letters=self.letters)
        if self.scheduler:
            self._connect(settings)
        elif self.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(
                self.jobs, initializer=_start_worker, initargs=(settings, os.getpid(), self.lock)
            )

    def _connect(self, settings: Settings) -> None:
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

    def submit(self, source: str, data: bytes, previous: Previous | None):
        if not self.started:
            self.start()
        if self.client is not None:
            return self.client.submit(
                build_one, self.remote_settings, source, data, previous, pure=False
            )
        if self.pool is not None:
            return self.pool.submit(_build_in_worker, source, data, previous)
        return Done(build_one(self.settings, source, data, previous))

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
class Done:
    """A result already at hand, shaped like a future."""

    value: Result

    def result(self) -> Result:
        return self.value


@dataclass
class Raised:
    """A task that could not even be handed out, shaped like a future that failed."""

    error: BaseException

    def result(self) -> Result:
        raise self.error


def describe(exc: BaseException) -> str:
    """What went wrong with a task, for the report."""
    from concurrent.futures.process import BrokenProcessPool

    if isinstance(exc, BrokenProcessPool):
        return "a worker process stopped unexpectedly"
    return f"{type(exc).__name__}: {exc}"
