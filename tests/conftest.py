"""Shared fixtures: profile builders that write real files, the shipped library, a CLI runner."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from hepplan.domain.profile import parse_profile
from hepplan.io import clock
from hepplan.io.library import load_library

#: The date every in-process command takes as today, whatever the machine's clock says, so a
#: run that crosses midnight (or a later year) sees the same dates as the expectations.
TODAY = dt.date(2026, 11, 30)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "profiles"

#: The top-level sections of a profile, in the order of CONTRACT.md §1 and §5.
SECTIONS = (
    "format",
    "patient",
    "assessment",
    "red_flags",
    "medical_clearance",
    "plan",
    "follow_up",
    "outcomes",
)

RED_FLAG_KEYS = (
    "bladder_dysfunction",
    "bowel_bladder_incontinence",
    "saddle_anesthesia",
    "bilateral_leg_symptoms",
    "progressive_weakness",
    "fever_or_systemically_unwell",
    "major_trauma",
    "sexual_dysfunction",
    "cancer_history",
    "unexplained_weight_loss",
    "infection_risk",
    "fracture_risk",
    "unrelenting_night_pain",
)

BASE = {
    "format": 1,
    "patient": {"id": "T-0001", "name": "Test Patient", "age": 40},
    "assessment": {
        "date": "2026-11-20",
        "clinician": "Sam Lee, DPT",
        "side": "left",
        "piriformis": "normal",
        "radicular_level": "none",
        "irritability": "moderate",
    },
    "red_flags": {key: "no" for key in RED_FLAG_KEYS},
}


def profile_data(**sections) -> dict:
    """A valid profile as plain data; keyword arguments update its sections.

    ``profile_data(assessment={"side": "right"}, red_flags={"saddle_anesthesia": "yes"})``
    """
    data = copy.deepcopy(BASE)
    for section, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(section), dict):
            data[section].update(value)
        else:
            data[section] = value
    return data


def drawn(page) -> tuple[str, list[tuple[str, float, float]]]:
    """A PDF page's text, and each piece of text drawn on it (stripped) with how high on the page
    it sits and the size it is drawn at, read from the content stream by pypdf."""
    pieces: list[tuple[str, float, float]] = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            pieces.append((text.strip(), tm[5] * cm[3] + cm[5], size * tm[0] * cm[0]))

    return page.extract_text(visitor_text=visit), pieces


def make_profile(**sections):
    return parse_profile(profile_data(**sections), "test.yaml")


@pytest.fixture
def write_profile(tmp_path):
    """Write profile data to a real file (YAML by default) and return its path."""

    def write(data: dict | str, name: str = "profile.yaml") -> Path:
        path = tmp_path / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        elif name.endswith(".json"):
            path.write_text(json.dumps(data, default=str), encoding="utf-8")
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, relative to it: what a command left behind."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """An empty working folder, made the current one, so default outputs land in it."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture(scope="session")
def library():
    return load_library()


@pytest.fixture
def runner():
    return CliRunner()


def said_why(item) -> str:
    """A prescription's why in the patient's words, as the JSON and the handout say it."""
    from hepplan.domain.decision import why_words
    from hepplan.words.catalog import words

    return why_words(item, words())


@contextlib.contextmanager
def small_disk_at(folder: Path, size: str):
    """A real file system of ``size`` (tmpfs, e.g. "1m") at ``folder``, unmounted afterwards;
    the test is skipped where mounting needs root it does not have."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("a small disk needs root (mount -t tmpfs)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(disk: Path) -> Path:
    """Fill the disk to the last byte. Unbuffered, so that closing the file has nothing left to
    write (a buffered file's last partial chunk would fail on close, outside the suppress)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler
