"""Reading a profile file: the bytes from disk, then the models of ``hepplan.domain.profile``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hepplan.domain.profile import Profile, parse_profile
from hepplan.io.loading import read_document


def load_profile(path: Path, *, today: dt.date | None = None) -> Profile:
    """Read and validate one profile file (YAML or JSON)."""
    return parse_profile(read_document(path), str(path), today=today)
