"""Writing documents: to a temporary file in the same folder, then renamed into place.

A patient document is private: files are created 0600. Nothing half-written is ever left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from hepplan.errors import InputError, OutputError

#: The folder of ``batch``'s output that holds the clinician records, one ``<id>.pdf`` each.
RECORDS = "records"


def output_file(raw: str | os.PathLike | None) -> Path | None:
    """An output file named on the command line; a name ending in a slash means a folder."""
    if raw is None:
        return None
    text = os.fspath(raw)
    if text.endswith(("/", os.sep)):
        raise InputError(
            f"{text}: ends with a slash, so it names a folder; give a file name such as "
            f"{Path(text) / 'program.pdf'}"
        )
    return Path(text)


def check_output_path(path: Path, inputs: Mapping[str, Path | None] | None = None) -> bool:
    """Refuse, before any work, an output whose folder is missing, which is a folder, a special
    file, a read-only file, or the same file as one of ``inputs`` (label → path: the profile,
    the clinic file, the logo). True when an existing file will be replaced."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name such as {path / 'program.pdf'}")
    if path.exists() and not path.is_file():
        # a device or pipe: renaming a document over it would replace it, not write to it
        raise InputError(f"{path}: is not a regular file; give a file name for the document")
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    if not path.exists():
        return False
    for label, source in (inputs or {}).items():
        if source is not None and _same_file(path, source):
            raise InputError(
                f"{path}: is the {label} ({source}); writing the document there would destroy "
                "it. Give another file name"
            )
    if not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise InputError(f"{path}: is read-only; hepplan will not replace it. Give another name")
    return True


def check_inputs_outside(folder: Path, inputs: Mapping[str, Path | None]) -> None:
    """For ``batch``: refuse an input that sits where the batch writes (a ``*.pdf`` directly in
    the output folder or in its ``records`` folder, which a patient's document could replace,
    or anything in its ``.hepplan`` state folder)."""
    for label, source in inputs.items():
        if source is None:
            continue
        parent = source.parent
        in_state = _same_file(parent, folder / ".hepplan")
        as_document = any(_same_file(parent, where) for where in (folder, folder / RECORDS)) and (
            source.suffix.lower() == ".pdf" or source.name.endswith(".part")
        )
        if in_state or as_document:
            raise InputError(
                f"{source}: the {label} is where batch writes its documents ({folder}); "
                "move it out of that folder"
            )


def same_place(one: Path, other: Path) -> bool:
    """Whether two paths name one file, whether or not it exists yet: the same path once links
    and ``..`` are resolved, or the same file on disk (a hard link)."""
    return one.resolve() == other.resolve() or _same_file(one, other)


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


#: Write failures that are the machine's state, not hepplan's: a full disk or quota, a folder
#: the user may not write, a read-only file system. They are the user's to fix (exit 2).
_ENVIRONMENT = {
    errno.ENOSPC: "free some space, or choose another folder",
    errno.EDQUOT: "free some space, or choose another folder",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "choose a folder you can write to",
}


def _write_error(exc: OSError, message: str) -> OutputError | InputError:
    advice = _ENVIRONMENT.get(exc.errno or 0)
    if advice:
        return InputError(f"{message} ({exc.strerror}); {advice}")
    return OutputError(f"{message} ({exc.strerror})")


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically, with private permissions."""
    write_all_atomic([(path, data)], mode)


def write_all_atomic(files: Sequence[tuple[Path, bytes]], mode: int = 0o600) -> None:
    """Write several documents as one: each to a temporary file beside its place first, then
    each renamed into place. A failure before the renames (a full disk, a folder that cannot be
    written) leaves every file as it was, so a pair of documents is never left half-written."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files:
            staged.append((_stage(path, data, mode), path))
        while staged:
            temp, path = staged[0]
            try:
                os.replace(temp, path)
            except OSError as exc:
                raise _write_error(exc, f"{path}: cannot be written") from None
            staged.pop(0)
    finally:
        for temp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)


def _stage(path: Path, data: bytes, mode: int) -> str:
    """``data`` in a private temporary file in ``path``'s folder, on disk; its name."""
    folder = path.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _write_error(exc, f"{path}: cannot write in {folder}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _write_error(exc, f"{path}: cannot be written") from None
        raise
    return temp
