"""The PDFs as a reader sees them: extracted text, metadata, and byte-for-byte determinism."""

from __future__ import annotations

import io
import re

import pypdf
import pytest

from hepplan.clinic import Clinic
from hepplan.planner import plan_program
from hepplan.render import render_handout, render_redirect

from .conftest import make_profile


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def handout(library, clinic=Clinic(), **sections):
    profile = make_profile(**sections)
    decision = plan_program(profile, library)
    return profile, decision, render_handout(profile, decision, clinic)


def test_handout_shows_the_patient_program(library):
    profile, decision, data = handout(
        library, patient={"id": "P-9", "name": "Zoë Łukasz-Ñúñez"},
        assessment={"piriformis": "tight", "side": "right"})
    text = flat(pdf_text(data))
    assert "Your home exercise program" in text
    assert "For: Zoë Łukasz-Ñúñez" in text
    assert "Get help right away if you notice any of these" in text
    assert "Go to the emergency department now, or call 911." in text
    assert "How much pain is OK?" in text
    for phase in decision.phases:
        assert f"Step {phase.number}: {phase.name}" in text
        for item in phase.exercises:
            assert item.name in text
            assert item.why in text
    assert "Your right leg." in text
    assert "For the clinician" in text
    assert f"library {decision.library_version}" in text
    assert "page 1 of" in text


def test_the_side_is_filled_into_the_steps(library):
    _, decision, data = handout(library, assessment={"piriformis": "overstretched",
                                                     "side": "right"})
    text = flat(pdf_text(data))
    assert "{{" not in text
    assert "Lie on your left side" in text  # clamshell: lie on the other side


def test_markup_in_names_and_notes_prints_literally(library):
    _, _, data = handout(library, patient={"id": "P-1", "name": "<b>Ann & Bo</b>"},
                         plan={"notes": "Walk <i>daily</i> & rest"})
    text = flat(pdf_text(data))
    assert "For: <b>Ann & Bo</b>" in text
    assert "Walk <i>daily</i> & rest" in text


def test_same_input_same_bytes(library):
    first = handout(library)[2]
    second = handout(library)[2]
    assert first == second


def test_metadata_has_no_patient_details(library):
    clinic = Clinic(name="Riverside PT", phone="555 0100")
    _, _, data = handout(library, clinic, patient={"id": "P-1", "name": "Alex Rivera"})
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta.title == "Home exercise program"
    assert meta.author == "Riverside PT"
    assert "Alex" not in repr(dict(meta))


def test_without_a_clinic_file_no_clinic_line_is_invented(library):
    text = flat(pdf_text(handout(library)[2]))
    assert "call the clinic" not in text
    with_clinic = flat(pdf_text(handout(library, Clinic(phone="555 0100"))[2]))
    assert "For other worries, call the clinic: 555 0100" in with_clinic


def test_a_routine_flag_adds_a_doctor_check(library):
    _, decision, data = handout(library, red_flags={"unrelenting_night_pain": "yes"})
    assert decision.disposition == "routine"
    assert "Please book a routine visit with your doctor" in flat(pdf_text(data))


@pytest.mark.parametrize(
    ("flags", "action", "absent"),
    [
        ({"saddle_anesthesia": "yes"}, "Go to the emergency department now.", "within 24 hours"),
        ({"cancer_history": "yes"}, "See a doctor within 24 hours.", "Emergency number: 911 "),
    ],
)
def test_redirect_document(library, flags, action, absent):
    profile = make_profile(red_flags=flags, patient={"id": "P-2", "name": "Sam O'Brien"})
    decision = plan_program(profile, library)
    text = flat(pdf_text(render_redirect(profile, decision, Clinic(emergency_number="112"))))
    assert action in text
    assert "112" in text
    assert "For: Sam O'Brien" in text
    assert "What to bring and say" in text
    assert "For the receiving doctor" in text
    for key in decision.triggered:
        assert key in text
    for exercise in library:
        assert exercise.name not in text
    assert "Step 1" not in text


def test_a_refused_decision_cannot_become_a_handout(library):
    profile = make_profile(red_flags={"major_trauma": "yes"})
    decision = plan_program(profile, library)
    with pytest.raises(ValueError):
        render_handout(profile, decision, Clinic())
