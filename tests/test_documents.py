"""The PDFs as a reader sees them: extracted text, metadata, and byte-for-byte determinism."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import pypdf
import pytest

from hepplan.domain.clinic import Clinic
from hepplan.domain.planner import plan_program
from hepplan.domain.redflags import BY_KEY
from hepplan.render.pdf import render_handout, render_redirect
from hepplan.words.catalog import words

from .conftest import drawn, make_profile


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def handout(library, clinic=None, **sections):
    clinic = clinic or Clinic()
    profile = make_profile(**sections)
    decision = plan_program(profile, library)
    return profile, decision, render_handout(profile, decision, clinic)


def test_handout_shows_the_patient_program(library):
    _profile, decision, data = handout(
        library,
        patient={"id": "P-9", "name": "Zoë Łukasz-Ñúñez"},
        assessment={"piriformis": "tight", "side": "right"},
    )
    text = flat(pdf_text(data))
    assert "Your home exercise plan" in text
    assert "For Zoë Łukasz-Ñúñez Date November 20, 2026" in text
    assert "Get help right away for any of these" in text
    assert "Go to the emergency department now, or call 911." in text
    assert "How much pain is OK?" in text
    for phase in decision.phases:
        assert f"Step {phase.number} of 3: {words().say(phase.name)}" in text
        for item in phase.exercises:
            assert item.name in text
    assert "Your right leg." in text
    # the chart's content lives in the clinician record, never on the patient's pages
    assert "For the clinician" not in text and "Decision trace" not in text
    assert decision.content_version not in text and decision.library_version not in text
    assert "Page 1 of" in text


def test_the_side_is_filled_into_the_steps(library):
    _, _decision, data = handout(
        library, assessment={"piriformis": "overstretched", "side": "right"}
    )
    text = flat(pdf_text(data))
    assert "{{" not in text
    assert "Lie on your left side" in text  # clamshell: lie on the other side


def test_markup_in_names_and_notes_prints_literally(library):
    _, _, data = handout(
        library,
        patient={"id": "P-1", "name": "<b>Ann & Bo</b>"},
        plan={"notes": "Walk <i>daily</i> & rest"},
    )
    text = flat(pdf_text(data))
    assert "For <b>Ann & Bo</b> Date" in text
    assert "Walk <i>daily</i> & rest" in text


def test_same_input_same_bytes(library):
    first = handout(library)[2]
    second = handout(library)[2]
    assert first == second


def test_metadata_has_no_patient_details(library):
    clinic = Clinic(name="Riverside PT", phone="555 0100")
    _, _, data = handout(library, clinic, patient={"id": "P-1", "name": "Alex Rivera"})
    meta = pypdf.PdfReader(io.BytesIO(data)).metadata
    assert meta.title == "Your home exercise plan"
    assert meta.author == "Riverside PT"
    assert "Alex" not in repr(dict(meta))


def test_without_a_clinic_phone_the_safety_box_has_a_line_to_write_it_on(library):
    text = flat(pdf_text(handout(library)[2]))
    assert "For other worries, call the clinic. Write its number here:" in text
    assert "call the clinic:" not in text  # no number is invented
    with_clinic = flat(pdf_text(handout(library, Clinic(phone="555 0100"))[2]))
    assert "For other worries, call the clinic: 555 0100" in with_clinic


def test_a_routine_flag_adds_a_doctor_check(library):
    _, decision, data = handout(library, red_flags={"unrelenting_night_pain": "yes"})
    assert decision.disposition.word == "routine"
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
    for key in decision.triggered:  # the doctor reads the question, not its key
        assert f"{BY_KEY[key].question}: yes" in text
        assert key not in text
    assert "RF-" not in text
    for exercise in library:
        assert exercise.name not in text
    assert "Step 1" not in text
    assert "Your log" not in text


def test_a_refused_decision_cannot_become_a_handout(library):
    profile = make_profile(red_flags={"major_trauma": "yes"})
    decision = plan_program(profile, library)
    with pytest.raises(ValueError):
        render_handout(profile, decision, Clinic())


# --- what every handout holds ------------------------------------------------------------------

SECTIONS = [
    "Your home exercise plan",
    "Do each exercise as often as the bold line under its name says. "
    "Most people feel better in 6 to 12 weeks.",
    "Get help right away for any of these",
    "What we found",
    "How much pain is OK?",
    "Your plan at a glance",
    "What you need",
    "Step 1 of 3: Calm things down",
    "Step 2 of 3: Build strength",
    "Step 3 of 3: Back to full activity",
    "Move on to step 2 when all of these are true:",
    "Then call your therapist to check you are ready for step 2.",
    "Move on to step 3 when all of these are true:",
    "You are doing well when all of these are true:",
    "Your log for step 1",
    "Check the box on days you exercise. Write your worst pain while exercising (0 to 10).",
    "Your log for step 3",
    "A note from your therapist",
    "Remember",
]


@pytest.mark.parametrize("large_print", [False, True])
def test_every_section_exercise_dose_and_side_is_printed(library, large_print):
    from hepplan.words.text import dose_words

    profile = make_profile(
        assessment={"piriformis": "tight", "side": "left", "radicular_level": "S1"},
        plan={"notes": "Walk after lunch."},
    )
    decision = plan_program(profile, library)
    data = render_handout(profile, decision, Clinic(), large_print=large_print)
    content = flat(pdf_text(data))
    for section in SECTIONS:
        assert section in content, section
    assert "A note from your therapist Walk after lunch." in content
    assert "For the clinician" not in content and "Decision trace" not in content
    shown = set()
    for phase in decision.phases:
        for item in (*phase.exercises, phase.aerobic):
            dose = dose_words(item)
            if item.id in shown:  # a later step gives the new dose and the page of its card
                assert re.search(
                    rf"{re.escape(item.name)}: {re.escape(dose)}\. See the picture "
                    r"on page \d+\.",
                    content,
                ), item.id
            else:
                assert item.name in content
                assert dose[:1].upper() + dose[1:] + "." in content
            shown.add(item.id)
    assert "Your left leg." in content
    assert "Your right leg." not in content


def test_what_we_found_differs_by_finding(library):
    def found(**assessment):
        text = flat(pdf_text(handout(library, assessment=assessment)[2]))
        return text[text.index("What we found") : text.index("How much pain is OK?")]

    tight = found(piriformis="tight")
    over = found(piriformis="overstretched")
    nerve = found(piriformis="normal", radicular_level="L5")
    mixed = found(piriformis="tight", radicular_level="S1")
    assert "deep in your buttock is tight. Gentle stretches help it relax." in tight
    assert "strained from being stretched" in over and "stronger instead" in over
    assert "A nerve in your lower back is irritated." in nerve
    assert "is tight" in mixed and "nerve in your lower back" in mixed
    assert "nerve" not in tight and "tight" not in over
    assert len({tight, over, nerve, mixed}) == 4


def font_sizes(data: bytes, needle: str) -> set[float]:
    return {
        round(size, 1)
        for page in pypdf.PdfReader(io.BytesIO(data)).pages
        for text, _, size in drawn(page)[1]
        if needle in text
    }


@pytest.mark.parametrize(("large_print", "minimum"), [(False, 12), (True, 18)])
def test_body_text_size(library, large_print, minimum):
    profile = make_profile(assessment={"piriformis": "tight"})
    decision = plan_program(profile, library)
    data = render_handout(profile, decision, Clinic(), large_print=large_print)
    sizes = font_sizes(data, "You should feel")
    assert sizes and min(sizes) >= minimum


def test_names_in_many_scripts_print_and_unknown_characters_do_not_crash(library):
    name = "Zoë Łukasz-Ñúñez Ελένη Дмитрий 山田 🙂"
    text = flat(pdf_text(handout(library, patient={"id": "P-3", "name": name})[2]))
    assert "Zoë Łukasz-Ñúñez Ελένη Дмитрий" in text


def test_fonts_are_embedded(library):
    reader = pypdf.PdfReader(io.BytesIO(handout(library)[2]))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for ref in fonts.values():
        font = ref.get_object()
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, font["/BaseFont"]


def test_a4_and_letter(library):
    for size, width in (("a4", 595), ("letter", 612)):
        data = handout(library, Clinic(page_size=size))[2]
        box = pypdf.PdfReader(io.BytesIO(data)).pages[0].mediabox
        assert round(float(box.width)) == width


def test_clinic_logo_and_details(library, tmp_path):
    from PIL import Image

    from hepplan.io.clinic import load_clinic

    Image.new("RGB", (120, 40), "navy").save(tmp_path / "logo.png")
    (tmp_path / "clinic.yaml").write_text(
        "name: Riverside PT\nphone: '555 0100'\nlogo: logo.png\nemergency_number: '112'\n"
    )
    clinic = load_clinic(tmp_path / "clinic.yaml")
    data = handout(library, clinic)[2]
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert list(reader.pages[0].images)
    text = flat(pdf_text(data))
    assert "Riverside PT" in text
    assert "Go to the emergency department now, or call 112." in text


def test_an_unreadable_logo_is_an_input_error(tmp_path):
    from hepplan.errors import InputError
    from hepplan.io.clinic import load_clinic

    (tmp_path / "logo.png").write_text("not an image")
    (tmp_path / "clinic.yaml").write_text("logo: logo.png\n")
    with pytest.raises(InputError) as info:
        load_clinic(tmp_path / "clinic.yaml")
    assert info.value.problems == [
        f"{tmp_path / 'clinic.yaml'}: logo: 'logo.png' is not an image that can be read "
        "(use PNG or JPEG)"
    ]


@pytest.mark.skipif(
    shutil.which("qpdf") is None and not os.environ.get("CI"),
    reason="qpdf is not installed (CI installs it)",
)
@pytest.mark.parametrize("flags", [{}, {"saddle_anesthesia": "yes"}, {"cancer_history": "yes"}])
def test_qpdf_check_passes(library, tmp_path, flags):
    profile = make_profile(red_flags=flags)
    decision = plan_program(profile, library)
    render = render_handout if decision.prescribed else render_redirect
    path = tmp_path / "out.pdf"
    path.write_bytes(render(profile, decision, Clinic()))
    result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors found" in result.stdout
