"""Writing documents: to a temporary file in the same folder, then renamed into place.

A patient document is private: files are created 0600. Nothing half-written is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import InputError, OutputError


def check_output_path(path: Path) -> None:
    """Refuse, before any work, an output whose folder is missing or which is a folder."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name such as {path / 'program.pdf'}")
    if path.exists() and not path.is_file():
        # a device or pipe: renaming a document over it would replace it, not write to it
        raise InputError(f"{path}: is not a regular file; give a file name for the document")
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` atomically, with private permissions."""
    folder = path.parent
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {folder} ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise OutputError(f"{path}: cannot be written ({exc.strerror})") from None
        raise
