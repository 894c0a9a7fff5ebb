"""The clinician record: what the chart needs, read back from the PDF as a clinician sees it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from hepplan.domain.planner import plan_program
from hepplan.domain.progress import decide_progress
from hepplan.domain.screening import screen
from hepplan.io.clinic import load_clinic
from hepplan.io.profiles import load_profile
from hepplan.render.record import render_record

from .conftest import EXAMPLES, REPO

CLINIC = load_clinic(REPO / "examples" / "clinic.yaml")


def record(name: str, library) -> tuple[str, int, bytes, tuple[str, ...]]:
    profile = load_profile(EXAMPLES / name)
    decision = plan_program(profile, library, screen(profile))
    progress = (
        decide_progress(profile.follow_up, profile.outcomes, profile.assessment.date)
        if profile.follow_up
        else None
    )
    pdf = render_record(profile, decision, CLINIC, progress)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.split()), len(reader.pages), pdf, decision.trace


def test_a_prescribed_record_holds_the_trace_the_doses_and_the_versions(library):
    text, pages, _, trace = record("tight-piriformis.yaml", library)
    assert "Clinician record" in text
    assert "Program prescribed (disposition: none)" in text
    assert trace and all(" ".join(line.split()) in text for line in trace)  # with rule ids
    assert "Decision trace" in text
    assert "library version" in text and "content digest" in text
    assert "hepplan 0.1.0" in text
    assert "once a day" in text  # doses in words
    assert "[saddle_anesthesia, emergency]" in text
    assert pages <= 2


def test_a_refused_record_names_what_counted_and_holds_no_program(library):
    text, *_ = record("cauda-equina-emergency.yaml", library)
    assert "Program refused: referred for medical care (disposition: emergency)" in text
    assert "Counted red flags:" in text
    assert "Program summary" not in text


def test_an_incomplete_record_lists_what_was_not_asked(library):
    text, *_ = record("screening-incomplete.yaml", library)
    assert "Screening incomplete" in text
    assert "Not yet asked:" in text
    assert "not asked" in text


@pytest.mark.parametrize(
    ("name", "decision", "measures"),
    [
        ("follow-up-2.yaml", "Decision: advance (step 1 → step 2)", 3),
        ("follow-up-3.yaml", "Decision: hold (step 2 → step 2)", 3),
    ],
)
def test_a_follow_up_record_shows_the_decision_and_a_line_per_measure(
    library, name, decision, measures
):
    text, *_ = record(name, library)
    assert decision in text
    assert text.count(", MCID ") == measures  # a line and a chart per measure
    assert text.count("Shaded: within one minimal clinically important difference") == 1
    assert "Pain now (NPRS, 0-10): first 6, now" in text
    assert "Oswestry Disability Index (0-100): first 38" in text


def test_the_record_is_the_same_bytes_every_time(library):
    assert record("follow-up-3.yaml", library)[2] == record("follow-up-3.yaml", library)[2]


def test_three_visits_are_in_the_examples():
    visits = sorted(Path(EXAMPLES).glob("follow-up-*.yaml"))
    assert [p.name for p in visits] == [f"follow-up-{n}.yaml" for n in (1, 2, 3)]


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_shipped_record_is_one_or_two_pages(library, name):
    _, pages, *_ = record(name, library)
    assert pages <= 2, pages
